"""Files attached to tickets: the checks every attachment passes (email, portal, staff pages) and the upload
field of the forms.

The limits are the email channel's (`mailconfig`: size per file, allowed content types, blocked extensions).
An uploaded file's type is taken from its name, never from what the browser declares, and its first bytes
must match that type for images, PDF and ZIP-based documents (a renamed executable is refused); text files
must not hold NUL bytes. Email attachments keep their declared type (the sender's mail client chose it)."""

from __future__ import annotations

import mimetypes
import os
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tenfold.servicedesk import mailconfig

MAX_FILES = 10
ZIP = (b"PK\x03\x04", b"PK\x05\x06")
# The first bytes each sniffed type must start with.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
    "application/zip": ZIP,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ZIP,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ZIP,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ZIP,
    "application/vnd.oasis.opendocument.text": ZIP,
    "application/vnd.oasis.opendocument.spreadsheet": ZIP,
}
TEXT_TYPES = ("text/plain", "text/csv")


@dataclass(frozen=True)
class FileInput:
    """A file to attach: its name, its content type and its bytes."""

    filename: str
    content_type: str
    data: bytes


def clean_filename(name: str) -> str:
    """The last part of a path, at most 200 characters, never empty."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return base[-200:] or "attachment"


def type_from_name(filename: str) -> str:
    """The content type a file's name says (not what a browser declares)."""
    return (mimetypes.guess_type(filename, strict=False)[0] or "application/octet-stream").lower()


def _content_matches(content_type: str, data: bytes) -> bool:
    if content_type == "image/webp":
        return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    if content_type in SIGNATURES:
        return data.startswith(SIGNATURES[content_type])
    if content_type in TEXT_TYPES:
        return b"\x00" not in data
    return True


def refusal(filename: str, content_type: str, size: int, data: bytes | None = None, *, sniff: bool = False) -> str:
    """Why a file is refused as an attachment, or "" when it is accepted. `data` is read only once the size
    is known to be within the limit; `sniff` checks that the content is what the type says."""
    limit = mailconfig.max_attachment_bytes()
    if size > limit:
        return _("“%(name)s” was not attached: %(size)d KB is over the %(limit)d KB limit.") % {
            "name": filename, "size": -(-size // 1024), "limit": limit // 1024}
    extension = os.path.splitext(filename.lower())[1]
    if extension in mailconfig.BLOCKED_EXTENSIONS:
        return _("“%(name)s” was not attached: %(extension)s files are not accepted.") % {
            "name": filename, "extension": extension}
    if content_type not in mailconfig.allowed_types():
        return _("“%(name)s” was not attached: files of type %(type)s are not accepted.") % {
            "name": filename, "type": content_type}
    if sniff and data is not None and not _content_matches(content_type, data):
        return _("“%(name)s” was not attached: its content does not match its type (%(type)s).") % {
            "name": filename, "type": content_type}
    return ""


def read_upload(upload: Any) -> tuple[FileInput | None, str]:
    """An uploaded file as a `FileInput` once it passed every check, else (None, why it is refused). An
    oversized file is refused before it is read."""
    filename = clean_filename(getattr(upload, "name", ""))
    content_type = type_from_name(filename)
    size = int(getattr(upload, "size", 0) or 0)
    reason = refusal(filename, content_type, size)
    if reason:
        return None, reason
    upload.seek(0)
    data = upload.read()
    reason = refusal(filename, content_type, len(data), data, sniff=True)
    if reason:
        return None, reason
    return FileInput(filename, content_type, data), ""


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several files at once, each checked like an email attachment; cleans to a list of `FileInput`.
    Every refused file is named in the error shown beside the field."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"data-testid": "attachments-input"}))
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", gettext_lazy("Attachments"))
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[FileInput]:  # type: ignore[override]
        uploads = [d for d in (data if isinstance(data, list | tuple) else [data]) if d]
        if len(uploads) > MAX_FILES:
            raise forms.ValidationError(_("Attach at most %(count)d files at once.") % {"count": MAX_FILES})
        files: list[FileInput] = []
        errors: list[str] = []
        for upload in uploads:
            super().clean(upload, initial)
            item, reason = read_upload(upload)
            if item is None:
                errors.append(reason)
            else:
                files.append(item)
        if errors:
            raise forms.ValidationError(errors)
        return files
