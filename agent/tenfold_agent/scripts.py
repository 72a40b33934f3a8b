"""The `run_script` job: verify a signed script version, then run it with a timeout.

Nothing runs unless every check passes, in this order: a signature of the document by a key this agent
trusts verifies; the document is a script document; the SHA-256 of the body equals the document's; this
device's OS family is one the document names; the parameter values fit the signed schema. Parameters
reach the script as environment variables `TF_<NAME>` (secrets too: never on a command line, where
other users could read them); secret values are redacted from the output before it is spooled.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .process import CancelToken, kill_tree
from .signing import SCRIPT_PURPOSE, SignatureError, TrustStore

OUTPUT_CAP = 64 * 1024  # what the server keeps of each stream
SECRET_MARK = "[secret]"
EXTENSIONS = {"shell": ".sh", "python": ".py", "powershell": ".ps1"}


class ScriptRefused(Exception):
    """The script was not run: the reason goes into the job's result."""


@dataclass
class ScriptResult:
    """What the job result carries."""

    status: str
    exit_code: int | None
    stdout: str
    stderr: str
    duration_ms: int

    def as_job_result(self, job_id: Any) -> dict[str, Any]:
        return {"job_id": job_id, "status": self.status, "exit_code": self.exit_code, "stdout": self.stdout,
                "stderr": self.stderr, "duration_ms": self.duration_ms}


def verify(payload: Mapping[str, Any], trust: TrustStore, os_family: str) -> dict[str, Any]:
    """The signed document of a job payload once everything checks; ScriptRefused otherwise."""
    document_text = payload.get("document")
    body = payload.get("body")
    if not isinstance(document_text, str) or not isinstance(body, str):
        raise ScriptRefused("the job carries no signed document or no body")
    document_bytes = document_text.encode("utf-8")
    try:
        key_id = trust.verify_document(document_bytes, payload.get("signatures") or [])
    except SignatureError as exc:
        raise ScriptRefused(f"signature check failed: {exc}") from exc
    try:
        document = json.loads(document_text)
    except ValueError as exc:
        raise ScriptRefused("the signed document is not JSON") from exc
    if not isinstance(document, dict) or document.get("purpose") != SCRIPT_PURPOSE:
        raise ScriptRefused("the signed document is not a script version")
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    if digest != document.get("body_sha256"):
        raise ScriptRefused(f"the body's SHA-256 ({digest}) is not the signed one ({document.get('body_sha256')})")
    families = document.get("os_families") or []
    if os_family not in families:
        raise ScriptRefused(f"signed for {', '.join(map(str, families)) or 'no system'}, this device runs {os_family}")
    if document.get("language") not in EXTENSIONS:
        raise ScriptRefused(f"unknown language {document.get('language')!r}")
    document["_key_id"] = key_id
    return document


def environment(document: Mapping[str, Any], payload: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The `TF_<NAME>` variables of the run, checked against the signed schema; and the secret values."""
    schema = {p.get("name"): p for p in document.get("parameters") or [] if isinstance(p, Mapping)}
    values = dict(payload.get("parameters") or {})
    secrets = dict(payload.get("secret_parameters") or {})
    env: dict[str, str] = {}
    for name, value in [*values.items(), *secrets.items()]:
        spec = schema.get(name)
        if spec is None:
            raise ScriptRefused(f"parameter {name!r} is not in the signed schema")
        kind = spec.get("type")
        secret = name in secrets
        if secret != (kind == "secret"):
            raise ScriptRefused(f"parameter {name!r} is sent as {'a secret' if secret else 'plain'}; "
                                f"the signed schema says {kind}")
        if kind == "boolean":
            if not isinstance(value, bool):
                raise ScriptRefused(f"parameter {name!r} must be true or false")
            text = "true" if value else "false"
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ScriptRefused(f"parameter {name!r} must be a number")
            text = str(value)
        elif kind == "choice":
            if value not in (spec.get("choices") or []):
                raise ScriptRefused(f"parameter {name!r} is not one of the signed choices")
            text = str(value)
        else:
            if not isinstance(value, str) or "\x00" in value:
                raise ScriptRefused(f"parameter {name!r} must be text")
            text = value
        env["TF_" + str(name).upper()] = text
    for name, spec in schema.items():
        if spec.get("required") and name not in values and name not in secrets:
            raise ScriptRefused(f"required parameter {name!r} has no value")
    return env, [v for v in secrets.values() if isinstance(v, str) and v]


def redact(text: str, secret_values: list[str]) -> str:
    """Secret values replaced by [secret], longest first."""
    for value in sorted(set(secret_values), key=len, reverse=True):
        text = text.replace(value, SECRET_MARK)
    return text


def command(language: str, path: Path, body: str) -> list[str]:
    """The interpreter command line for a script file (no parameter ever appears on it)."""
    if language == "shell":
        first = body.split("\n", 1)[0]
        if first.startswith("#!") and "bash" in first and shutil.which("bash"):
            return [shutil.which("bash") or "bash", str(path)]
        return ["/bin/sh", str(path)]
    if language == "python":
        return [shutil.which("python3") or sys.executable, str(path)]
    if sys.platform != "win32":
        raise ScriptRefused("PowerShell scripts run on Windows only")
    return ["powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File", str(path)]


def _read_capped(path: Path) -> str:
    size = path.stat().st_size
    with path.open("rb") as handle:
        data = handle.read(OUTPUT_CAP)
    text = data.decode("utf-8", errors="replace")
    if size > OUTPUT_CAP:
        text += f"\n[output truncated: {size} bytes, the first {OUTPUT_CAP} kept]"
    return text


def _kill(process: subprocess.Popen[bytes]) -> None:
    kill_tree(process)
    process.wait()


def run_script(payload: Mapping[str, Any], trust: TrustStore, os_family: str,
               token: CancelToken | None = None) -> ScriptResult:
    """Verify, then run; a refusal is a failed result whose stderr says why, and nothing ran. `token` stops
    the script (its whole process group is killed): the result is then `cancelled`."""
    started = time.monotonic()
    token = token or CancelToken()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        document = verify(payload, trust, os_family)
        env_extra, secrets = environment(document, payload)
        body = str(payload["body"])
        language = str(document["language"])
        timeout = float(document.get("timeout_seconds") or 300)
        with tempfile.TemporaryDirectory(prefix="tenfold-job-") as work:
            workdir = Path(work)
            os.chmod(workdir, 0o700)
            script = workdir / ("script" + EXTENSIONS[language])
            script.write_text(body, encoding="utf-8")
            os.chmod(script, 0o700)
            argv = command(language, script, body)
            out_path, err_path = workdir / "stdout", workdir / "stderr"
            env = {**os.environ, **env_extra}
            with out_path.open("wb") as out, err_path.open("wb") as err:
                # Runs only what verify() accepted: a body whose hash a trusted key signed.
                process = subprocess.Popen(  # noqa: S603
                    argv, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                    start_new_session=sys.platform != "win32")
                token.attach(process)
                timed_out = False
                try:
                    process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    timed_out = True
                    _kill(process)
                finally:
                    token.detach()
            stdout = redact(_read_capped(out_path), secrets)
            stderr = redact(_read_capped(err_path), secrets)
    except ScriptRefused as exc:
        return ScriptResult("failed", None, "", f"refused, nothing was run: {exc}", elapsed())
    except OSError as exc:
        return ScriptResult("failed", None, "", f"could not start the script: {exc}", elapsed())
    if token.cancelled and process.returncode != 0:
        return ScriptResult("cancelled", None, stdout, stderr + f"\n[stopped: {token.reason}]", elapsed())
    if timed_out:
        return ScriptResult("timed_out", None, stdout, stderr + f"\n[stopped after the {timeout:.0f} s timeout]",
                            elapsed())
    code = process.returncode
    return ScriptResult("succeeded" if code == 0 else "failed", code, stdout, stderr, elapsed())
