"""The agent_update job: a release signed with real Ed25519 keys, verified by the agent, downloaded, checked
against the signed hash and size, then installed; or refused with the installer never called. One test builds a
real wheel of this agent with a bumped version and installs it into a throw-away virtual environment."""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import subprocess
import sys
import threading
import time
import venv
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import tenfold_agent
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from tenfold_agent import selfupdate
from tenfold_agent.selfupdate import handle_update, make_fetch, version_key
from tenfold_agent.signing import REVOCATION_PURPOSE, TrustStore, canonical, key_id_of

AGENT_SOURCE = Path(tenfold_agent.__file__).parent
CURRENT = tenfold_agent.__version__


class Key:
    """A real Ed25519 key pair, as an approver holds it."""

    def __init__(self) -> None:
        self.private = Ed25519PrivateKey.generate()
        self.public = base64.b64encode(self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
        self.key_id = key_id_of(self.public)

    def sign(self, data: bytes) -> str:
        return base64.b64encode(self.private.sign(data)).decode()

    def entry(self) -> dict[str, str]:
        return {"key_id": self.key_id, "public_key": self.public}


def bumped(version: str) -> str:
    """A version newer than the running agent's."""
    parts = CURRENT.split(".")
    return ".".join([*parts[:-1], str(int(parts[-1]) + 1)]) if version == "next" else version


def record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_wheel(version: str) -> tuple[str, bytes]:
    """A real wheel (PEP 427) of this agent's package with `__version__` set to `version`: what `pip wheel`
    of the bumped source tree makes, written here so the test needs no build backend."""
    files: dict[str, bytes] = {}
    for path in sorted(AGENT_SOURCE.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        data = path.read_bytes()
        if path.name == "__init__.py" and path.parent == AGENT_SOURCE:
            data = data.replace(f'__version__ = "{CURRENT}"'.encode(), f'__version__ = "{version}"'.encode())
        files["tenfold_agent/" + path.relative_to(AGENT_SOURCE).as_posix()] = data
    info = f"tenfold_agent-{version}.dist-info"
    files[f"{info}/METADATA"] = (f"Metadata-Version: 2.1\nName: tenfold-agent\nVersion: {version}\n"
                                 "Summary: The Tenfold agent\nRequires-Python: >=3.11\n").encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: tenfold-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{info}/entry_points.txt"] = b"[console_scripts]\ntenfold-agent = tenfold_agent.__main__:main\n"
    files[f"{info}/top_level.txt"] = b"tenfold_agent\n"
    record = "".join(f"{name},{record_hash(data)},{len(data)}\n" for name, data in files.items())
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return f"tenfold_agent-{version}-py3-none-any.whl", buffer.getvalue()


def release(key: Key, version: str, file_name: str, data: bytes, **overrides: Any) -> dict[str, Any]:
    """A job payload as the server builds it: the signed document and the signatures."""
    fields = {"purpose": "tenfold-agent-release", "package": "tenfold-agent", "version": version,
              "file_name": file_name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data), **overrides}
    document = canonical(fields)
    return {"version": version, "document": document.decode(),
            "signatures": [{"key_id": key.key_id, "signature": key.sign(document)}],
            "url": "/agent/v1/releases/4/file", "sha256": fields["sha256"], "size": fields["size"]}


class Recorder:
    """An installer that records what it was given (the test checks it is never called on a refusal)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Path, str]] = []

    def __call__(self, wheel: Path) -> subprocess.CompletedProcess[str]:
        self.calls.append((wheel, hashlib.sha256(wheel.read_bytes()).hexdigest()))
        return subprocess.CompletedProcess(["pip"], 0, "Successfully installed tenfold-agent\n", "")


@pytest.fixture
def key() -> Key:
    return Key()


@pytest.fixture
def trust(tmp_path: Path, key: Key) -> TrustStore:
    return TrustStore.from_enrollment(tmp_path / "trust.json", [key.entry()])


def serve(data: bytes) -> Any:
    return lambda url: data


def test_a_valid_release_is_installed_from_the_file_whose_hash_matched(tmp_path: Path, key: Key,
                                                                       trust: TrustStore) -> None:
    # given a release of the next version, signed by a trusted key
    version = bumped("next")
    name, data = build_wheel(version)
    payload = release(key, version, name, data)
    installer, asked = Recorder(), []
    # when the agent handles the job
    result = handle_update(payload, trust=trust, fetch=lambda url: asked.append(url) or data,
                           state_dir=tmp_path, install=installer)
    # then it fetched the release's address, installed that exact file, and asks for a restart
    assert asked == ["/agent/v1/releases/4/file"]
    assert installer.calls == [(tmp_path / "updates" / name, hashlib.sha256(data).hexdigest())]
    assert result["status"] == "succeeded" and result["exit_code"] == 0 and result["stderr"] == ""
    assert result["stdout"].startswith(f"tenfold-agent {version} installed (signed by {key.key_id}, SHA-256 "
                                       f"{hashlib.sha256(data).hexdigest()}); the agent restarts into it.\n")
    assert not (tmp_path / "updates" / name).exists()  # the downloaded wheel is not left behind


def refused(result: dict[str, Any], installer: Recorder) -> str:
    assert result["status"] == "failed" and result["exit_code"] is None and result["stdout"] == ""
    assert installer.calls == []
    assert result["stderr"].startswith("refused, nothing was installed: ")
    return str(result["stderr"]).removeprefix("refused, nothing was installed: ")


def test_a_tampered_document_is_refused(tmp_path: Path, key: Key, trust: TrustStore) -> None:
    # given a signed release whose document is then changed (another hash: the server's own file)
    version = bumped("next")
    name, data = build_wheel(version)
    payload = release(key, version, name, data)
    evil = b"not the signed wheel"
    payload["document"] = payload["document"].replace(hashlib.sha256(data).hexdigest(),
                                                      hashlib.sha256(evil).hexdigest())
    installer = Recorder()
    # when handled
    result = handle_update(payload, trust=trust, fetch=serve(evil), state_dir=tmp_path, install=installer)
    # then refused: the signature no longer matches
    assert refused(result, installer) == ("signature check failed: no valid signature by a trusted key "
                                          f"(signature by '{key.key_id}' does not match the payload)")


def test_a_tampered_file_is_refused_against_the_signed_hash_not_the_payloads(tmp_path: Path, key: Key,
                                                                             trust: TrustStore) -> None:
    # given a signed release, a server that serves other bytes of the same size and puts their hash in the payload
    version = bumped("next")
    name, data = build_wheel(version)
    payload = release(key, version, name, data)
    evil = bytes(len(data))
    payload["sha256"] = hashlib.sha256(evil).hexdigest()
    installer = Recorder()
    # when handled
    result = handle_update(payload, trust=trust, fetch=serve(evil), state_dir=tmp_path, install=installer)
    # then refused on the signed hash
    assert refused(result, installer) == (f"the file's SHA-256 ({hashlib.sha256(evil).hexdigest()}) is not the signed "
                                          f"one ({hashlib.sha256(data).hexdigest()})")
    assert list((tmp_path).glob("updates/*")) == []


def test_a_file_of_another_size_is_refused(tmp_path: Path, key: Key, trust: TrustStore) -> None:
    version = bumped("next")
    name, data = build_wheel(version)
    installer = Recorder()
    result = handle_update(release(key, version, name, data), trust=trust, fetch=serve(data + b"x"),
                           state_dir=tmp_path, install=installer)
    assert refused(result, installer) == f"the file is {len(data) + 1} bytes; the signed size is {len(data)}"


def test_a_signature_by_an_unknown_key_is_refused(tmp_path: Path, key: Key, trust: TrustStore) -> None:
    # given a release signed by a key the agent never trusted (the server's own key)
    version = bumped("next")
    name, data = build_wheel(version)
    stranger = Key()
    installer = Recorder()
    result = handle_update(release(stranger, version, name, data), trust=trust, fetch=serve(data),
                           state_dir=tmp_path, install=installer)
    assert refused(result, installer) == ("signature check failed: no valid signature by a trusted key "
                                          f"({stranger.key_id} is not a trusted key)")


def test_a_signature_by_a_revoked_key_is_refused(tmp_path: Path, key: Key) -> None:
    # given two trusted keys, then the first revoked by the second (a signed revocation)
    other = Key()
    trust = TrustStore.from_enrollment(tmp_path / "trust.json", [key.entry(), other.entry()])
    notes = trust.apply({"revoked": [{"key_id": key.key_id, "revoked_by": other.key_id, "signature": other.sign(
        canonical({"purpose": REVOCATION_PURPOSE, "key_id": key.key_id}))}]})
    assert notes == [f"key {key.key_id} revoked (signed by {other.key_id})"]
    version = bumped("next")
    name, data = build_wheel(version)
    installer = Recorder()
    # when a release signed only by the revoked key arrives
    result = handle_update(release(key, version, name, data), trust=trust, fetch=serve(data), state_dir=tmp_path,
                           install=installer)
    # then refused
    assert refused(result, installer) == ("signature check failed: no valid signature by a trusted key "
                                          f"({key.key_id} is revoked)")


@pytest.mark.parametrize("version", [CURRENT, "0.0.9", "0.1.0rc1", "0.1.0.dev3"])
def test_a_version_that_is_not_newer_is_refused(tmp_path: Path, key: Key, trust: TrustStore, version: str) -> None:
    # given a validly signed release of the running version or an older one (a downgrade)
    name, data = build_wheel(version)
    installer = Recorder()
    fetched: list[str] = []
    result = handle_update(release(key, version, name, data), trust=trust,
                           fetch=lambda url: fetched.append(url) or data, state_dir=tmp_path, install=installer)
    # then refused before anything is downloaded
    assert refused(result, installer) == f"version {version} is not newer than the running agent ({CURRENT})"
    assert fetched == []


def test_a_document_signed_for_a_script_is_not_a_release(tmp_path: Path, key: Key, trust: TrustStore) -> None:
    # given a validly signed document of another purpose (a script version's)
    version = bumped("next")
    name, data = build_wheel(version)
    payload = release(key, version, name, data, purpose="tenfold-script-version")
    installer = Recorder()
    result = handle_update(payload, trust=trust, fetch=serve(data), state_dir=tmp_path, install=installer)
    assert refused(result, installer) == "the signed document is not an agent release"


def test_a_download_address_elsewhere_is_refused(tmp_path: Path, key: Key, trust: TrustStore) -> None:
    # the credential is sent with the download: only the server's release paths are fetched
    version = bumped("next")
    name, data = build_wheel(version)
    payload = {**release(key, version, name, data), "url": "https://elsewhere.example/x.whl"}
    installer = Recorder()
    result = handle_update(payload, trust=trust, fetch=serve(data), state_dir=tmp_path, install=installer)
    assert refused(result, installer) == ("the download address 'https://elsewhere.example/x.whl' is not a release "
                                          "of this server")


def test_a_failed_download_or_install_is_a_failed_job(tmp_path: Path, key: Key, trust: TrustStore) -> None:
    version = bumped("next")
    name, data = build_wheel(version)
    payload = release(key, version, name, data)

    def down(url: str) -> bytes:
        raise OSError("the server answered 404 Not Found")

    installer = Recorder()
    result = handle_update(payload, trust=trust, fetch=down, state_dir=tmp_path, install=installer)
    assert refused(result, installer) == "the download failed: the server answered 404 Not Found"
    # when pip fails, its output is the job's error
    result = handle_update(payload, trust=trust, fetch=serve(data), state_dir=tmp_path,
                           install=lambda wheel: subprocess.CompletedProcess(["pip"], 1, "", "ERROR: disk full\n"))
    assert result == {"status": "failed", "exit_code": 1, "stdout": "",
                      "stderr": f"pip could not install {name} (exit status 1):\nERROR: disk full\n"}


def test_version_order_is_pep_440() -> None:
    order = ["1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12", "1.0b1.dev456", "1.0b2", "1.0b2.post345.dev456",
             "1.0b2.post345", "1.0rc1", "1.0", "1.0.post456.dev34", "1.0.post456", "1.1.dev1", "1.1", "1.10"]
    assert sorted(reversed(order), key=version_key) == order
    assert version_key("1.0") == version_key("1.0.0")
    for bad in ("v1.0", "1.0-beta", "01.0", "1.0+local", "1!1.0", ""):
        with pytest.raises(ValueError):
            version_key(bad)


class _FileServer:
    """A loopback HTTP server answering GET with a file to the right Bearer credential only."""

    def __init__(self, data: bytes, credential: str) -> None:
        outer = self
        self.requests: list[tuple[str, str]] = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                outer.requests.append((self.path, self.headers.get("Authorization", "")))
                if self.headers.get("Authorization") != f"Bearer {credential}":
                    self.send_response(401)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def file_server() -> Iterator[Any]:
    servers: list[_FileServer] = []

    def start(data: bytes, credential: str) -> _FileServer:
        servers.append(_FileServer(data, credential))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def test_make_fetch_sends_the_agent_credential_and_reports_refusals(file_server: Any) -> None:
    server = file_server(b"wheel bytes", "tfa_abcdefgh_secret")
    fetch = make_fetch(server.url, "tfa_abcdefgh_secret", verify_tls=False)
    assert fetch("/agent/v1/releases/4/file") == b"wheel bytes"
    with pytest.raises(OSError, match="the server answered 401"):
        make_fetch(server.url, "tfa_wrong", verify_tls=False)("/agent/v1/releases/4/file")
    assert server.requests == [("/agent/v1/releases/4/file", "Bearer tfa_abcdefgh_secret"),
                               ("/agent/v1/releases/4/file", "Bearer tfa_wrong")]


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="the throw-away environment's layout is POSIX here")
def test_a_real_wheel_is_installed_into_a_throwaway_environment(tmp_path: Path, key: Key, trust: TrustStore,
                                                                file_server: Any) -> None:
    # given a real wheel of this agent with a bumped version, signed, served over HTTP with a credential
    version = bumped("next")
    name, data = build_wheel(version)
    server = file_server(data, "tfa_abcdefgh_secret")
    # and a throw-away virtual environment, standing for the agent's own installation
    started = time.monotonic()
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    python = str(env_dir / "bin" / "python")
    # when the update is handled with the real installer (pip of that environment)
    result = handle_update(release(key, version, name, data), trust=trust,
                           fetch=make_fetch(server.url, "tfa_abcdefgh_secret", verify_tls=False),
                           state_dir=tmp_path / "state", install=functools.partial(selfupdate.default_install,
                                                                                   python=python))
    # then pip installed it and the environment runs the new version
    assert result["status"] == "succeeded", result
    assert f"Successfully installed tenfold-agent-{version}" in result["stdout"]
    check = subprocess.run([python, "-c", "import importlib.metadata, tenfold_agent; "
                            "print(tenfold_agent.__version__, importlib.metadata.version('tenfold-agent'))"],
                           capture_output=True, text=True, check=True, cwd=tmp_path)
    assert check.stdout.strip() == f"{version} {version}"
    assert (env_dir / "bin" / "tenfold-agent").exists()
    assert time.monotonic() - started < 120
