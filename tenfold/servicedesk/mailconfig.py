"""The email channel's settings: from Django settings when set there, else from the environment.

    TENFOLD_MAIL_ADDRESS              the support address (Reply-To of every notification; mail from it is ignored)
    TENFOLD_MAIL_IMAP_HOST            IMAP server of the support mailbox (empty: no polling)
    TENFOLD_MAIL_IMAP_PORT            993 with TLS, 143 with STARTTLS or none
    TENFOLD_MAIL_IMAP_SECURITY        tls (default) | starttls | none (refused unless the host is loopback)
    TENFOLD_MAIL_IMAP_USER / _PASSWORD / _FOLDER (INBOX) / _CAFILE (extra CA bundle for a private CA)
    TENFOLD_MAIL_SMTP_RECEIVE_HOST    address `smtp_receive` listens on (127.0.0.1)
    TENFOLD_MAIL_SMTP_RECEIVE_PORT    its port (2525)
    TENFOLD_MAIL_UNKNOWN_SENDERS      triage (default: kept for a person to assign) | refuse (recorded, dropped)
    TENFOLD_MAIL_MAX_ATTACHMENT_BYTES per file (10 MiB)
    TENFOLD_MAIL_ALLOWED_TYPES        comma-separated content types accepted as attachments
    TENFOLD_SURVEY_DAYS               how long a survey link stays valid (14)
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from typing import Any

from django.conf import settings

DEFAULT_ALLOWED_TYPES = (
    "application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "text/plain", "text/csv",
    "application/zip", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
    "message/rfc822",
)
# Extensions refused whatever the declared type (executables and scripts).
BLOCKED_EXTENSIONS = (".exe", ".bat", ".cmd", ".com", ".js", ".vbs", ".ps1", ".scr", ".msi", ".jar", ".sh",
                      ".dll", ".hta", ".html", ".htm", ".svg")


def setting(name: str, default: Any = "") -> Any:
    """A Django setting if defined, else the environment variable, else the default."""
    if hasattr(settings, name):
        return getattr(settings, name)
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int
    security: str
    user: str
    password: str
    folder: str
    cafile: str

    @property
    def configured(self) -> bool:
        return bool(self.host and self.user)


def imap_config() -> ImapConfig:
    security = str(setting("TENFOLD_MAIL_IMAP_SECURITY", "tls")).lower()
    if security not in ("tls", "starttls", "none"):
        security = "tls"
    default_port = 993 if security == "tls" else 143
    return ImapConfig(
        host=str(setting("TENFOLD_MAIL_IMAP_HOST", "")), port=int(setting("TENFOLD_MAIL_IMAP_PORT", default_port)),
        security=security, user=str(setting("TENFOLD_MAIL_IMAP_USER", "")),
        password=str(setting("TENFOLD_MAIL_IMAP_PASSWORD", "")),
        folder=str(setting("TENFOLD_MAIL_IMAP_FOLDER", "INBOX")) or "INBOX",
        cafile=str(setting("TENFOLD_MAIL_IMAP_CAFILE", "")))


def support_address() -> str:
    return str(setting("TENFOLD_MAIL_ADDRESS", "")) or str(settings.DEFAULT_FROM_EMAIL)


def own_addresses() -> set[str]:
    from email.utils import parseaddr

    return {parseaddr(a)[1].lower() for a in (support_address(), str(settings.DEFAULT_FROM_EMAIL)) if a}


def unknown_senders() -> str:
    value = str(setting("TENFOLD_MAIL_UNKNOWN_SENDERS", "triage")).lower()
    return value if value in ("triage", "refuse") else "triage"


def max_attachment_bytes() -> int:
    return int(setting("TENFOLD_MAIL_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024))


def allowed_types() -> tuple[str, ...]:
    value = setting("TENFOLD_MAIL_ALLOWED_TYPES", DEFAULT_ALLOWED_TYPES)
    if isinstance(value, str):
        value = [v.strip().lower() for v in value.split(",") if v.strip()]
    return tuple(value)


def smtp_receive_address() -> tuple[str, int]:
    return (str(setting("TENFOLD_MAIL_SMTP_RECEIVE_HOST", "127.0.0.1")),
            int(setting("TENFOLD_MAIL_SMTP_RECEIVE_PORT", 2525)))


def survey_days() -> int:
    return int(setting("TENFOLD_SURVEY_DAYS", 14))
