"""Real local mail servers for the service desk's email tests: a private dovecot (IMAP) and aiosmtpd (SMTP).

`dovecot` starts a throw-away dovecot instance as the current user on a free loopback port: its own
configuration, base directory and maildir under the test's temporary directory, one mailbox user from a
static password file, plaintext authentication (loopback only; no TLS in the test instance). The test is
skipped with the reason when dovecot is not installed (`apt-get install dovecot-imapd`; `.ci/run` does).
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

DOVECOT_PATHS = ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot")


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, deadline: float, log: Path) -> None:
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                if sock.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.05)
    text = log.read_text(errors="replace") if log.exists() else ""
    raise RuntimeError(f"dovecot did not answer on port {port}:\n{text[-3000:]}")


@dataclass
class Dovecot:
    """A running private dovecot: where to connect, the one mailbox, and how to drop mail into it."""

    host: str
    port: int
    user: str
    password: str
    maildir: Path
    cafile: Path | None = None

    def _open(self) -> Any:
        import imaplib
        import ssl

        imap = imaplib.IMAP4(self.host, self.port, timeout=10)
        if self.cafile is not None:
            imap.starttls(ssl_context=ssl.create_default_context(cafile=str(self.cafile)))
        imap.login(self.user, self.password)
        return imap

    def deliver(self, message: EmailMessage | bytes, folder: str = "INBOX") -> None:
        """Put a message in the mailbox (IMAP APPEND, unseen), as the mail server delivering it would."""

        raw = message if isinstance(message, bytes) else message.as_bytes()
        with self._open() as imap:
            imap.append(folder, "", None, raw)  # type: ignore[arg-type]

    def messages(self, folder: str = "INBOX") -> list[tuple[bytes, set[str]]]:
        """Each message of a folder with its flags."""
        import re

        out: list[tuple[bytes, set[str]]] = []
        with self._open() as imap:
            imap.select(folder)
            _typ, data = imap.uid("SEARCH", None, "ALL")  # type: ignore[arg-type]
            for uid in data[0].split():
                _typ, fetched = imap.uid("FETCH", uid, "(FLAGS RFC822)")
                head = fetched[0][0] if isinstance(fetched[0], tuple) else b""
                body = fetched[0][1] if isinstance(fetched[0], tuple) else b""
                flags_match = re.search(rb"FLAGS \(([^)]*)\)", head + b"".join(
                    x for x in fetched[1:] if isinstance(x, bytes)))
                flags = set(flags_match.group(1).decode().split()) if flags_match else set()
                out.append((body, flags))
        return out


def _mail_ids() -> tuple[int, int]:
    """The owner of the mail files: the current user, or dovecot's own user when running as root (dovecot
    never accesses mail as root)."""
    if os.getuid() != 0:
        return os.getuid(), os.getgid()
    entry = pwd.getpwnam("dovecot")
    return entry.pw_uid, entry.pw_gid


def _config(root: Path, run_dir: Path, mail_root: Path, port: int, user_name: str, group_name: str,
            tls: bool = False) -> str:
    uid, gid = _mail_ids()
    # Running as root, dovecot insists on unprivileged users for its login and internal processes: use
    # the package's own; otherwise everything runs as the current user.
    login_user = "dovenull" if os.getuid() == 0 else user_name
    internal_user = "dovecot" if os.getuid() == 0 else user_name
    auth_user = user_name  # reads the private password file
    return f"""
base_dir = {run_dir}
state_dir = {root}/state
instance_name = tenfold-test-{port}
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{f"ssl = yes{chr(10)}ssl_cert = <{root}/cert.pem{chr(10)}ssl_key = <{root}/key.pem" if tls else "ssl = no"}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {group_name if os.getuid() != 0 else "dovecot"}
mail_location = maildir:{mail_root}/%u
first_valid_uid = 0
first_valid_gid = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={mail_root}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service auth {{
  user = {auth_user}
}}
service auth-worker {{
  user = {auth_user}
}}
service imap-login {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


def _self_signed(root: Path) -> Path:
    """A certificate for 127.0.0.1 (and its key) in root; the certificate is its own CA bundle."""
    from datetime import UTC, datetime, timedelta
    from ipaddress import IPv4Address

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    (root / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()))
    (root / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return root / "cert.pem"


@pytest.fixture
def dovecot(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Dovecot]:
    """A private dovecot on a free loopback port, with one mailbox `support`; stopped after the test.

    Parametrised indirectly with `tls=True` it offers STARTTLS with a self-signed certificate
    (`Dovecot.cafile`)."""
    tls = bool(getattr(request, "param", {}).get("tls", False))
    binary = shutil.which("dovecot") or next((p for p in DOVECOT_PATHS if os.path.exists(p)), None)
    if binary is None:
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd): the IMAP tests need a real server")
    root = tmp_path / "dovecot"
    (root / "state").mkdir(parents=True)
    # Unix socket paths are short (108 bytes): the base directory lives in a short temporary path.
    run_dir = Path(tempfile.mkdtemp(prefix="tfdc-"))
    # The mail directory must be reachable by the mail user, which is not root even when the tests are.
    mail_root = Path(tempfile.mkdtemp(prefix="tenfold-test-mail-"))
    mail_uid, mail_gid = _mail_ids()
    os.chown(mail_root, mail_uid, mail_gid)
    user_name = pwd.getpwuid(os.getuid()).pw_name
    group_name = grp.getgrgid(os.getgid()).gr_name
    port = free_port()
    password = "s3cret-test"
    (root / "users").write_text(f"support:{{PLAIN}}{password}::::::\n")
    cafile = _self_signed(root) if tls else None
    conf = root / "dovecot.conf"
    conf.write_text(_config(root, run_dir, mail_root, port, user_name, group_name, tls))
    log = root / "dovecot.log"
    with open(log, "ab") as log_file:
        proc = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=log_file)
    try:
        _wait_for_port(port, time.monotonic() + 15, log)
        yield Dovecot("127.0.0.1", port, "support", password, mail_root / "support", cafile)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        shutil.rmtree(mail_root, ignore_errors=True)
        shutil.rmtree(run_dir, ignore_errors=True)


class SmtpRecorder:
    """An aiosmtpd handler keeping each message received (envelope sender, recipients, raw content)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, SmtpRecorder]]:
    """A real SMTP server (aiosmtpd) on a free loopback port, recording what it receives."""
    controller_mod = pytest.importorskip("aiosmtpd.controller")
    handler = SmtpRecorder()
    port = free_port()
    controller = controller_mod.Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()
