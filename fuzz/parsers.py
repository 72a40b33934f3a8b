"""Atheris targets for the parsers that take outside input besides the check-in (fuzz/checkin.py):

    email     an inbound message (`servicedesk.email_parse.parse_email`): any bytes give a ParsedEmail whose
              fields keep their bounds (subject on one line and at most 300 characters, ids bounded, text
              at most MAX_TEXT, attachment names without a path separator, the sender an address or "").
    markdown  runbook and documentation Markdown (`knowledge.markdown.render_markdown`): any text gives HTML
              with only allowed tags and attributes, and links/images only to allowed URL schemes.
    csv       the device and warranty import (`assets.csv_import.parse_devices_csv`): any bytes give a
              file-level error or rows each with their line and errors, never an exception.

    python fuzz/parsers.py TARGET WORK_DIR fuzz/corpus/TARGET -max_total_time=30   # as `make test` runs it

A finding (an exception other than the ones named, an assertion, a hang) is fixed with a regression test in
the parser's app.
"""

from __future__ import annotations

import os
import sys
import tempfile
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import atheris

# The CSV parser's messages go through Django's translation machinery: a minimal configured Django.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tenfold.config.settings")
os.environ.setdefault("TENFOLD_DEBUG", "1")
os.environ.setdefault("TENFOLD_DATA_DIR", tempfile.mkdtemp(prefix="tenfold-fuzz-"))

with atheris.instrument_imports():
    import django

    django.setup()
    from tenfold.assets import csv_import
    from tenfold.knowledge import markdown
    from tenfold.servicedesk import email_parse


def fuzz_email(data: bytes) -> None:
    parsed = email_parse.parse_email(data, {"support@msp.example"})
    assert len(parsed.subject) <= 300 and "\n" not in parsed.subject and "\r" not in parsed.subject
    assert len(parsed.message_id) <= 300 and len(parsed.text) <= email_parse.MAX_TEXT
    assert parsed.sender == "" or "@" in parsed.sender, parsed.sender
    for attachment in parsed.attachments:
        assert "/" not in attachment.filename and "\\" not in attachment.filename
        assert 0 < len(attachment.filename) <= 200
        assert isinstance(attachment.data, bytes)
    assert all(mid.startswith("<") and mid.endswith(">") for mid in parsed.thread_ids)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def fuzz_markdown(data: bytes) -> None:
    text = data.decode("utf-8", "replace")
    html = str(markdown.render_markdown(text))
    tags = _Tags()
    tags.feed(html)
    tags.close()
    for tag, attrs in tags.found:
        assert tag in markdown.ALLOWED_TAGS, tag
        allowed = markdown.ALLOWED_ATTRIBUTES.get(tag, set())
        for name, value in attrs:
            assert name in allowed or (tag == "a" and name == "rel"), (tag, name)
            if name in ("href", "src") and value:
                scheme = urlsplit(value.strip()).scheme.lower() if ":" in value.split("/", 1)[0] else ""
                assert scheme in ("", *markdown.ALLOWED_SCHEMES), value


def fuzz_csv(data: bytes) -> None:
    parsed = csv_import.parse_devices_csv(data)
    if parsed.error:
        assert not parsed.rows and isinstance(parsed.error, str)
        return
    assert parsed.rows and len(parsed.rows) <= csv_import.MAX_ROWS
    lines = [row.line for row in parsed.rows]
    assert lines == sorted(lines) and len(set(lines)) == len(lines)
    for row in parsed.rows:
        assert set(row.values) <= set(csv_import.COLUMNS), row.values
        for column, value in row.values.items():
            limit = csv_import.LENGTHS.get(column)
            assert limit is None or not isinstance(value, str) or len(value) <= limit or column in row.errors


TARGETS: dict[str, Any] = {"email": fuzz_email, "markdown": fuzz_markdown, "csv": fuzz_csv}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(TARGETS)}}} WORK_DIR CORPUS_DIR [libFuzzer options]")
    target = TARGETS[sys.argv.pop(1)]
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
