"""The parser of device and warranty CSV files: bytes in, rows and per-cell errors out, no database.

UTF-8 (with or without a byte-order mark), `,` or `;` separated (detected from the header row), a
header row naming the columns (any order, any case). Dates are ISO (2026-03-31) or dd/mm/yyyy. A blank
cell leaves the current value of a matched device as it is. Any bytes give an answer, never an
exception: a file-level error, or rows each with their errors.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from tenfold.assets.models import DeviceKind

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
COLUMNS = ("name", "kind", "serial_number", "vendor", "model", "purchase_date", "warranty_end", "site", "notes")
LENGTHS = {"name": 200, "serial_number": 200, "vendor": 200, "model": 200, "site": 200, "notes": 20000}
_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@dataclass
class ParsedRow:
    """One data row: its line in the file, the values given (blank cells left out) and its errors."""

    line: int
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def error(self, column: str, message: str) -> None:
        self.errors.setdefault(column, []).append(message)


@dataclass
class ParsedFile:
    """The rows of a file, or the reason the file as a whole cannot be read."""

    rows: list[ParsedRow] = field(default_factory=list)
    error: str = ""
    columns: tuple[str, ...] = ()


def _kinds() -> dict[str, str]:
    kinds: dict[str, str] = {}
    for value, label in DeviceKind.choices:
        kinds[value] = value
        kinds[str(label).lower()] = value
        kinds[value.replace("_", " ")] = value
    return kinds


def parse_date(text: str) -> date | None:
    """A date from `2026-03-31` or `31/03/2026`; None when it is neither or not a real day."""
    text = text.strip()
    iso, dmy = _ISO.match(text), _DMY.match(text)
    try:
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        if dmy:
            return date(int(dmy[3]), int(dmy[2]), int(dmy[1]))
    except ValueError:
        return None
    return None


def _decode(data: bytes) -> tuple[str, str]:
    if b"\x00" in data:
        return "", _("This is not a CSV text file.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "", _("The file is not UTF-8 text: save it as “CSV UTF-8” and try again.")
    return text, ""


def parse_devices_csv(data: bytes) -> ParsedFile:
    """Parse a device and warranty CSV file (see the module docstring)."""
    if len(data) > MAX_BYTES:
        return ParsedFile(error=_("The file is larger than 2 MiB: split it into smaller files."))
    text, problem = _decode(data)
    if problem:
        return ParsedFile(error=problem)
    if not text.strip():
        return ParsedFile(error=_("The file is empty."))
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    try:
        records = list(_records(text, delimiter))
    except (csv.Error, _TooManyRows) as exc:
        if isinstance(exc, _TooManyRows):
            return ParsedFile(error=_("The file has more than %(max)s rows: split it into smaller files.")
                              % {"max": MAX_ROWS})
        return ParsedFile(error=_("The file is not valid CSV: %(reason)s") % {"reason": str(exc)[:200]})
    if not records:
        return ParsedFile(error=_("The file is empty."))
    _line, header = records[0]
    names = [cell.strip().lower().replace(" ", "_") for cell in header]
    if "name" not in names:
        return ParsedFile(error=_("The first row must be a header naming the columns, with at least “name”: "
                                  "%(columns)s.") % {"columns": ", ".join(COLUMNS)})
    unknown = sorted({n for n in names if n and n not in COLUMNS})
    if unknown:
        return ParsedFile(error=_("Unknown columns: %(unknown)s. The columns are: %(columns)s.")
                          % {"unknown": ", ".join(unknown), "columns": ", ".join(COLUMNS)})
    duplicated = sorted({n for n in names if n and names.count(n) > 1})
    if duplicated:
        return ParsedFile(error=_("These columns appear twice: %(columns)s.") % {"columns": ", ".join(duplicated)})
    kinds = _kinds()
    rows = [_row(line, names, cells, kinds) for line, cells in records[1:] if any(c.strip() for c in cells)]
    if not rows:
        return ParsedFile(error=_("The file has a header but no rows."), columns=tuple(n for n in names if n))
    return ParsedFile(rows=rows, columns=tuple(n for n in names if n))


class _TooManyRows(Exception):
    pass


def _records(text: str, delimiter: str) -> Any:
    reader = csv.reader(text.splitlines(keepends=True), delimiter=delimiter, strict=True)
    line = 1
    for index, cells in enumerate(reader):
        if index > MAX_ROWS:
            raise _TooManyRows()
        yield line, cells
        line = reader.line_num + 1


def _row(line: int, names: list[str], cells: list[str], kinds: dict[str, str]) -> ParsedRow:
    row = ParsedRow(line=line)
    if len(cells) > len(names):
        row.error("__all__", _("This row has %(cells)s cells but the header names %(columns)s columns.")
                  % {"cells": len(cells), "columns": len(names)})
    for name, raw in zip(names, cells, strict=False):
        if not name:
            continue
        value = raw.strip()
        if "\x00" in value:
            row.error(name, _("This cell holds a NUL character."))
            continue
        if not value:
            continue
        if name in LENGTHS and len(value) > LENGTHS[name]:
            row.error(name, _("At most %(max)s characters.") % {"max": LENGTHS[name]})
            continue
        if name == "kind":
            kind = kinds.get(value.lower())
            if kind is None:
                row.error(name, _("Unknown kind “%(value)s”: use one of %(kinds)s.")
                          % {"value": value[:50], "kinds": ", ".join(DeviceKind.values)})
                continue
            row.values[name] = kind
        elif name in ("purchase_date", "warranty_end"):
            parsed = parse_date(value)
            if parsed is None:
                row.error(name, _("“%(value)s” is not a date: write 2026-03-31 or 31/03/2026.") % {"value": value[:50]})
                continue
            row.values[name] = parsed
        else:
            row.values[name] = value
    if "name" not in row.values and "name" not in row.errors:
        row.error("name", _("The name is required."))
    purchase, warranty = row.values.get("purchase_date"), row.values.get("warranty_end")
    if purchase and warranty and warranty < purchase:
        row.error("warranty_end", _("The warranty cannot end before the purchase date."))
    return row
