"""Reading an inbound email: headers, the sender, plain text (HTML converted safely), attachments, and
whether it is an automatic message (auto-reply, bounce, list) that must never be answered."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.errors import MessageError
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

REPLY_MARKER = "##- Please type your reply above this line -##"
MESSAGE_ID_RE = re.compile(r"<[^<>\s]+>")
TICKET_NUMBER_RE = re.compile(r"\[(T-\d{3,12})\]", re.IGNORECASE)
MAX_TEXT = 100_000


@dataclass
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass
class ParsedEmail:
    """What the service desk needs of one message."""

    message_id: str
    sender: str
    sender_name: str
    subject: str
    text: str
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    automatic: str = ""  # why the message is automatic ("" when a person wrote it)
    to: list[str] = field(default_factory=list)

    @property
    def sender_domain(self) -> str:
        return self.sender.rpartition("@")[2].lower()

    @property
    def ticket_number(self) -> str:
        match = TICKET_NUMBER_RE.search(self.subject)
        return match.group(1).upper() if match else ""

    @property
    def thread_ids(self) -> list[str]:
        """Message ids this message answers, nearest first."""
        seen: list[str] = []
        for mid in [*self.in_reply_to, *reversed(self.references)]:
            if mid not in seen:
                seen.append(mid)
        return seen


class _TextExtractor(HTMLParser):
    """HTML to plain text: the text nodes only; script, style and head content dropped entirely."""

    SKIP = {"script", "style", "head", "title", "template", "noscript", "iframe", "object", "svg"}
    BREAK = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "hr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skip += 1
        elif tag in self.BREAK:
            self.parts.append("\n")
        if tag == "li" and not self._skip:
            self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in self.BREAK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


# What the standard library's header classes raise on some malformed headers (an address group where a
# mailbox is expected, a broken encoded word): the raw text is used instead.
_HEADER_ERRORS = (AttributeError, IndexError, LookupError, TypeError, ValueError, MessageError)



class _LenientHeaders(HeaderRegistry):
    """The standard library's header classes, except that a header its structured parser gives up on (a
    Content-Type whose parameters end in the middle, seen by fuzzing) is kept as unstructured text instead of
    aborting the whole message."""

    def __call__(self, name: str, value: str) -> BaseHeader:
        try:
            return super().__call__(name, value)
        except _HEADER_ERRORS:
            return self["x-tenfold-unparsed"](name, value)


LENIENT = policy.default.clone(header_factory=_LenientHeaders())

def _header(msg: EmailMessage, name: str) -> str:
    """One header as text without NULs ("" when absent), the raw value when the parsed one cannot be built."""
    try:
        value = msg.get(name)
        return "" if value is None else _no_nul(str(value))
    except _HEADER_ERRORS:
        for key, raw in msg.raw_items():
            if key.lower() == name.lower():
                return _no_nul(" ".join(str(raw).split()))
        return ""


def _header_all(msg: EmailMessage, name: str) -> list[str]:
    """Every occurrence of a header as text without NULs, raw where the parsed value cannot be built."""
    try:
        return [_no_nul(str(v)) for v in msg.get_all(name, [])]
    except _HEADER_ERRORS:
        return [_no_nul(" ".join(str(raw).split())) for key, raw in msg.raw_items() if key.lower() == name.lower()]


def html_to_text(html: str) -> str:
    """The readable text of an HTML body: never markup, never script content."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    lines = [re.sub(r"[ \t\r\f\v\xa0]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def strip_reply(text: str) -> str:
    """The new part of a reply: what is above our reply marker, without the quoted history below it."""
    if REPLY_MARKER in text:
        text = text.split(REPLY_MARKER, 1)[0]
        # Drop the mail client's "On ..., ... wrote:" line just above the marker, and quote prefixes.
        lines = text.rstrip().split("\n")
        while lines and (lines[-1].strip() in ("", ">") or lines[-1].strip().endswith("wrote:")
                         or lines[-1].strip().endswith("a écrit :")):
            lines.pop()
        text = "\n".join(lines)
    return text.strip()


def _message_ids(value: str | None) -> list[str]:
    return MESSAGE_ID_RE.findall(str(value or ""))[:50]


def automatic_reason(msg: EmailMessage, sender: str, own_addresses: set[str]) -> str:
    """Why this message is automatic and must be ignored (loop protection), or "" for a person's mail."""
    auto_submitted = _header(msg, "Auto-Submitted").strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    precedence = _header(msg, "Precedence").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    for header in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress", "List-Id", "List-Unsubscribe"):
        if header in msg and (header != "X-Auto-Response-Suppress" or "all" in _header(msg, header).lower()
                              or "oof" in _header(msg, header).lower()):
            return f"{header} header"
    if msg.get_content_type() == "multipart/report":
        return "delivery report"
    local = sender.partition("@")[0].lower()
    if not sender or local in ("mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply"):
        return "sender is a mail system"
    if _header(msg, "Return-Path").strip() == "<>":
        return "empty return path (bounce)"
    if sender.lower() in own_addresses:
        return "sent by our own mailbox"
    return ""


def _text_of(msg: EmailMessage) -> str:
    body = msg.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    try:
        content = body.get_content()
    except (*_HEADER_ERRORS, AssertionError):  # an unknown charset, a NUL in the text, a broken part
        payload = body.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    if body.get_content_type() == "text/html":
        content = html_to_text(content)
    return _no_nul(content.replace("\r\n", "\n"))


def _attachments(msg: EmailMessage) -> list[Attachment]:
    found: list[Attachment] = []
    body = msg.get_body(preferencelist=("plain", "html"))
    for part in msg.walk():
        if part.is_multipart() or part is body:
            continue
        disposition = part.get_content_disposition()
        filename = part.get_filename()
        if disposition != "attachment" and not filename:
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        name = _no_nul(filename or "").replace("/", "_").replace("\\", "_")[:200] or "attachment"
        found.append(Attachment(filename=name, content_type=_no_nul(part.get_content_type().lower()), data=data))
    return found


def _no_nul(text: str) -> str:
    """The text without NUL characters: a message may carry them (an encoded word, a quoted-printable =00), and
    PostgreSQL cannot store them (the message would fail on every poll and never become a ticket)."""
    return text.replace("\x00", "")


def parse_email(raw: bytes, own_addresses: set[str] | None = None) -> ParsedEmail:
    """Read a raw RFC 5322 message; every text it gives is free of NUL characters."""
    msg = BytesParser(policy=LENIENT).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    name, sender = parseaddr(_header(msg, "From"))
    sender = sender.strip().lower()
    try:
        Address(addr_spec=sender)
    except _HEADER_ERRORS:
        sender = ""
    ids = _message_ids(_header(msg, "Message-ID"))
    message_id = ids[0] if ids else f"<{hashlib.sha256(raw).hexdigest()}@tenfold.invalid>"
    subject = " ".join(_header(msg, "Subject").split())[:300]
    return ParsedEmail(
        message_id=message_id[:300], sender=sender, sender_name=name.strip()[:200], subject=subject,
        text=_text_of(msg)[:MAX_TEXT], in_reply_to=_message_ids(_header(msg, "In-Reply-To")),
        references=_message_ids(_header(msg, "References")), attachments=_attachments(msg),
        automatic=automatic_reason(msg, sender, {a.lower() for a in (own_addresses or set())}),
        to=[addr.lower() for _n, addr in getaddresses(_header_all(msg, "To"))],
    )
