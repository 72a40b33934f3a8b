"""The `agent_update` job: install a new version of this agent, signed by the MSP's approvers.

Nothing is installed unless every check passes, in this order: a signature of the document by a key this
agent trusts (not revoked) verifies; the document is an agent release of the `tenfold-agent` package; its
version is newer than the running agent's; the file downloaded from the server has exactly the size and the
SHA-256 *written in the signed document* (the payload's own copies of them are not trusted). Then the wheel
is installed with `python -m pip install --no-deps --no-index <wheel>` into the agent's own environment, and
the job answers "succeeded": the service then spools the result and exits with `RESTART_EXIT_CODE` so that
its supervisor (systemd's `Restart=on-failure`, launchd's `KeepAlive`, the Windows service recovery) starts
the new version, which delivers the result at its first check-in.

A compromised server can therefore delay or refuse updates, but cannot make an agent install a file that
no trusted key signed, nor an older signed version (a downgrade to a release with a known flaw).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from . import __version__
from .signing import SignatureError, TrustStore

RELEASE_PURPOSE = "tenfold-agent-release"
PACKAGE = "tenfold-agent"
MAX_RELEASE_BYTES = 50 * 1024 * 1024
URL_PREFIX = "/agent/v1/releases/"
UPDATES_DIR = "updates"
INSTALL_TIMEOUT_S = 600
# The exit status that asks the supervisor for a restart into the new version (EX_TEMPFAIL): not 0 (systemd's
# Restart=on-failure would leave the agent stopped) and not 3 (the unit's RestartPreventExitStatus).
RESTART_EXIT_CODE = 75
REFUSED = "refused, nothing was installed: "

Installer = Callable[[Path], "subprocess.CompletedProcess[str]"]


class UpdateRefused(Exception):
    """The update was not installed: the reason goes into the job's result."""


# PEP 440 public versions in their normalized form, without epoch or local part: the same rule as the
# server's (tenfold.automation.signing.release_version_key); the agent has no packaging library.
_VERSION = re.compile(r"^(?P<release>\d+(?:\.\d+)*)(?:(?P<pre_l>a|b|rc)(?P<pre_n>\d+))?"
                      r"(?:\.post(?P<post>\d+))?(?:\.dev(?P<dev>\d+))?$")
_PRE_RANK = {"a": 0, "b": 1, "rc": 2}


def version_key(version: str) -> tuple[Any, ...]:
    """A sort key with PEP 440's order (1.0.dev1 < 1.0a1 < 1.0rc1 < 1.0 < 1.0.post1); ValueError otherwise."""
    match = _VERSION.match(version) if isinstance(version, str) and len(version) <= 50 else None
    if match is None:
        raise ValueError(f"{version!r} is not a release version")
    texts = match["release"].split(".")
    parts = [int(p) for p in texts]
    if any(str(n) != p for n, p in zip(parts, texts, strict=True)):
        raise ValueError(f"{version!r} is not normalized")
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    pre: tuple[int, ...]
    if match["pre_l"]:
        pre = (0, _PRE_RANK[match["pre_l"]], int(match["pre_n"]))
    elif match["dev"] is not None and match["post"] is None:
        pre = (-1,)
    else:
        pre = (1,)
    post = int(match["post"]) if match["post"] is not None else -1
    dev = (0, int(match["dev"])) if match["dev"] is not None else (1, 0)
    return (tuple(parts), pre, post, dev)


def verify(payload: Mapping[str, Any], trust: TrustStore, running: str = __version__) -> dict[str, Any]:
    """The signed release document of a job payload once it checks; UpdateRefused otherwise."""
    document_text = payload.get("document")
    if not isinstance(document_text, str):
        raise UpdateRefused("the job carries no signed document")
    try:
        key_id = trust.verify_document(document_text.encode("utf-8"), payload.get("signatures") or [])
    except SignatureError as exc:
        raise UpdateRefused(f"signature check failed: {exc}") from exc
    try:
        document = json.loads(document_text)
    except ValueError as exc:
        raise UpdateRefused("the signed document is not JSON") from exc
    if not isinstance(document, dict) or document.get("purpose") != RELEASE_PURPOSE:
        raise UpdateRefused("the signed document is not an agent release")
    if document.get("package") != PACKAGE:
        raise UpdateRefused(f"the signed release is of package {document.get('package')!r}, not {PACKAGE}")
    version = document.get("version")
    try:
        wanted = version_key(str(version))
    except ValueError as exc:
        raise UpdateRefused(f"the signed version is not usable: {exc}") from exc
    if payload.get("version") is not None and payload.get("version") != version:
        raise UpdateRefused(f"the job names version {payload.get('version')!r}; the signed document {version}")
    try:
        current = version_key(running)
    except ValueError:
        current = ((0,), (-1,), -1, (0, 0))  # a development build: any release is newer
    if wanted <= current:
        raise UpdateRefused(f"version {version} is not newer than the running agent ({running})")
    file_name, digest, size = document.get("file_name"), document.get("sha256"), document.get("size")
    if (not isinstance(file_name, str) or "/" in file_name or "\\" in file_name
            or not file_name.startswith(f"tenfold_agent-{version}-") or not file_name.endswith(".whl")):
        raise UpdateRefused(f"the signed file name {file_name!r} is not this version's wheel")
    if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise UpdateRefused("the signed document has no SHA-256 of the file")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= MAX_RELEASE_BYTES:
        raise UpdateRefused("the signed document has no usable file size")
    document["_key_id"] = key_id
    return document


def default_install(wheel: Path, python: str = sys.executable) -> subprocess.CompletedProcess[str]:
    """pip of the agent's own interpreter, from this file only: no index, no dependency resolution."""
    return subprocess.run(  # noqa: S603 - fixed arguments, the wheel's path is ours
        [python, "-m", "pip", "install", "--no-deps", "--no-index", "--disable-pip-version-check",
         str(wheel)], capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False)


def _result(status: str, exit_code: int | None, stdout: str, stderr: str) -> dict[str, Any]:
    return {"status": status, "exit_code": exit_code, "stdout": stdout[-64 * 1024:], "stderr": stderr[-64 * 1024:]}


def handle_update(payload: Mapping[str, Any], *, trust: TrustStore, fetch: Callable[[str], bytes],
                  state_dir: Path, install: Installer | None = None) -> dict[str, Any]:
    """Verify, download, check and install a signed release; the job result (`status` "succeeded" means the
    service must exit with RESTART_EXIT_CODE so that the new version starts)."""
    try:
        document = verify(payload, trust)
    except UpdateRefused as exc:
        return _result("failed", None, "", REFUSED + str(exc))
    url = payload.get("url")
    if not isinstance(url, str) or not url.startswith(URL_PREFIX) or ".." in url or "//" in url:
        return _result("failed", None, "", REFUSED + f"the download address {url!r} is not a release of this server")
    try:
        data = fetch(url)
    except Exception as exc:  # noqa: BLE001 - any failure of the download is the job's result, never a crash
        return _result("failed", None, "", REFUSED + f"the download failed: {exc}")
    if len(data) != document["size"]:
        return _result("failed", None, "", REFUSED + f"the file is {len(data)} bytes; the signed size is "
                                                     f"{document['size']}")
    digest = hashlib.sha256(data).hexdigest()
    if digest != document["sha256"]:
        return _result("failed", None, "", REFUSED + f"the file's SHA-256 ({digest}) is not the signed one "
                                                     f"({document['sha256']})")
    folder = state_dir / UPDATES_DIR
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    wheel = folder / document["file_name"]
    temporary = wheel.with_name(wheel.name + ".part")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, wheel)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        return _result("failed", None, "", REFUSED + f"cannot write {wheel}: {exc}")
    try:
        completed = (install or default_install)(wheel)
    except (OSError, subprocess.SubprocessError) as exc:
        return _result("failed", None, "", f"the installation did not run: {exc}")
    finally:
        wheel.unlink(missing_ok=True)
    if completed.returncode != 0:
        return _result("failed", completed.returncode, completed.stdout or "",
                       f"pip could not install {document['file_name']} (exit status {completed.returncode}):\n"
                       + (completed.stderr or ""))
    return _result("succeeded", 0, f"tenfold-agent {document['version']} installed (signed by {document['_key_id']}, "
                                   f"SHA-256 {digest}); the agent restarts into it.\n" + (completed.stdout or ""), "")


def make_fetch(server_url: str, credential: str, *, verify_tls: bool = True, ca_file: str | None = None,
               timeout: float = 120.0) -> Callable[[str], bytes]:
    """An authenticated GET of a release file on the agent's server (the agent's credential as Bearer, TLS
    verified as for check-ins, no redirect followed, at most MAX_RELEASE_BYTES read)."""
    context = ssl.create_default_context(cafile=ca_file)
    if not verify_tls:
        # Reached only for an http:// loopback development server (config.check_server_url).
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), _NoRedirect())
    base = server_url.rstrip("/")

    def fetch(path: str) -> bytes:
        request = urllib.request.Request(  # noqa: S310 - the server URL was checked at enrollment
            base + path, headers={"Authorization": f"Bearer {credential}", "Accept": "application/octet-stream",
                                  "User-Agent": f"tenfold-agent/{__version__}"}, method="GET")
        try:
            with opener.open(request, timeout=timeout) as response:
                data: bytes = response.read(MAX_RELEASE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raise OSError(f"the server answered {exc.code} {exc.reason}") from exc
        except urllib.error.URLError as exc:
            raise OSError(f"cannot reach the server: {exc.reason}") from exc
        if len(data) > MAX_RELEASE_BYTES:
            raise OSError(f"the file exceeds {MAX_RELEASE_BYTES} bytes")
        return data

    return fetch
