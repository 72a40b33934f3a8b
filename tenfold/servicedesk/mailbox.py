"""The support mailbox: polling it over IMAP (every minute, from the worker) and receiving mail over SMTP
(`tenfold manage smtp_receive`). Both hand each raw message to `email_inbound.apply_email`, which applies
a Message-ID once; so a message fetched twice (a crash between applying and flagging it) does no harm.
"""

from __future__ import annotations

import imaplib
import logging
import ssl
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from tenfold.servicedesk import mailconfig
from tenfold.servicedesk.email_inbound import apply_email
from tenfold.servicedesk.models_email import MailboxState

logger = logging.getLogger("tenfold.servicedesk.email")
BATCH = 50


def _connect(config: mailconfig.ImapConfig) -> imaplib.IMAP4:
    if config.security == "none" and not mailconfig.is_loopback(config.host):
        raise ImproperlyConfigured("TENFOLD_MAIL_IMAP_SECURITY=none is only allowed for a loopback host")
    context = ssl.create_default_context(cafile=config.cafile or None)
    if config.security == "tls":
        return imaplib.IMAP4_SSL(config.host, config.port, ssl_context=context, timeout=30)
    imap = imaplib.IMAP4(config.host, config.port, timeout=30)
    if config.security == "starttls":
        imap.starttls(ssl_context=context)
    return imap


def poll_mailbox(config: mailconfig.ImapConfig | None = None) -> int:
    """Fetch the unseen messages of the mailbox folder, apply each, flag it seen; the number applied."""
    config = config or mailconfig.imap_config()
    if not config.configured:
        return 0
    state, _created = MailboxState.objects.get_or_create(name="support")
    now = timezone.now()
    count = 0
    failed = ""
    try:
        with _connect(config) as imap:
            imap.login(config.user, config.password)
            typ, _data = imap.select(_quote(config.folder))
            if typ != "OK":
                raise imaplib.IMAP4.error(f"cannot open folder {config.folder}")
            typ, data = imap.uid("SEARCH", "UNSEEN")
            uids = data[0].split()[:BATCH] if typ == "OK" and data and data[0] else []
            for uid in uids:
                typ, fetched = imap.uid("FETCH", uid, "(BODY.PEEK[])")
                raw = _raw_of(fetched)
                if typ != "OK" or raw is None:
                    continue
                try:
                    apply_email(raw, channel="imap")
                except Exception as exc:  # one bad message must not hold up the others; it stays unseen
                    logger.exception("support mailbox: message %s could not be applied", uid)
                    failed = f"message {uid.decode()}: {exc!r}"[:500]
                    continue
                imap.uid("STORE", uid, "+FLAGS", "(\\Seen)")
                count += 1
    except (OSError, imaplib.IMAP4.error, ssl.SSLError, ImproperlyConfigured) as exc:
        MailboxState.objects.filter(pk=state.pk).update(last_poll_at=now, last_error=str(exc)[:500])
        logger.warning("support mailbox poll failed: %s", exc)
        raise
    MailboxState.objects.filter(pk=state.pk).update(last_poll_at=now, last_success_at=now, last_error=failed,
                                                    last_count=count, total_count=state.total_count + count)
    return count


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _raw_of(fetched: list[Any]) -> bytes | None:
    for item in fetched or []:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


class SmtpHandler:
    """An aiosmtpd handler: accepts mail for the support address(es) and applies it."""

    def __init__(self, accept: set[str] | None = None) -> None:
        self.accept = {a.lower() for a in (accept if accept is not None else mailconfig.own_addresses())}

    async def handle_RCPT(  # noqa: N802  (the name aiosmtpd calls)
            self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if self.accept and address.lower() not in self.accept:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        from asgiref.sync import sync_to_async

        content = envelope.original_content or envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode("utf-8", "replace")
        try:
            await sync_to_async(_apply_closing, thread_sensitive=False)(raw)
        except Exception:  # the sender retries on a temporary failure
            logger.exception("SMTP message could not be applied")
            return "451 4.3.0 temporary failure, try again later"
        return "250 OK"


def _apply_closing(raw: bytes) -> None:
    from django.db import close_old_connections

    close_old_connections()
    try:
        apply_email(raw, channel="smtp")
    finally:
        close_old_connections()


def smtp_controller(host: str, port: int, accept: set[str] | None = None) -> Any:
    """An aiosmtpd controller serving the support address on host:port (started by the caller)."""
    from aiosmtpd.controller import Controller

    return Controller(SmtpHandler(accept), hostname=host, port=port, data_size_limit=40 * 1024 * 1024)
