"""Atheris targets for the parsers that take outside input besides the check-in (fuzz/checkin.py):

    email     an inbound message (`servicedesk.email_parse.parse_email`): any bytes give a ParsedEmail whose
              fields keep their bounds (subject on one line and at most 300 characters, ids bounded, text
              at most MAX_TEXT, attachment names without a path separator, the sender an address or "").
    markdown  runbook and documentation Markdown (`knowledge.markdown.render_markdown`): any text gives HTML
              with only allowed tags and attributes, and links/images only to allowed URL schemes.
    csv       the device and warranty import (`assets.csv_import.parse_devices_csv`): any bytes give a
              file-level error or rows each with their line and errors, never an exception.
    payments  the payments (bank statement) import (`billing.payments`), against invoices of every state: any
              bytes give a file-level error or rows each with an action (record, skip or error, errors only on
              the last); the preview says exactly what the import does; the import writes every payment or none.
    workflow  a workflow definition (`automation.workflows.validate_definition`) as the API and the builder
              receive it, JSON: any document gives a clean definition (accepted again unchanged) or a
              ValidationError naming its places. Mutations are mostly structural (a value replaced by an edge
              case, a key removed or added, an item duplicated or swapped), as for the check-in.

The payments and workflow targets work on an in-memory SQLite database whose tables are made from the models
(a second, instead of running every migration) with the records they refer to; each input runs in a
transaction rolled back afterwards, so every input meets the same records.

    python fuzz/parsers.py TARGET WORK_DIR fuzz/corpus/TARGET -max_total_time=30   # as `make test` runs it

A finding (an exception other than the ones named, an assertion, a hang) is fixed with a regression test in
the parser's app.
"""

from __future__ import annotations

import copy
import json
import os
import random
import sys
import tempfile
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import atheris

# A minimal configured Django (the parsers' messages go through its translation machinery), with the test
# settings' in-memory SQLite database: never a database named in the caller's environment.
os.environ.pop("TENFOLD_TEST_DATABASE_URL", None)
os.environ["DJANGO_SETTINGS_MODULE"] = "tenfold.config.settings_test"
os.environ.setdefault("TENFOLD_DATA_DIR", tempfile.mkdtemp(prefix="tenfold-fuzz-"))

DATABASE_TARGETS = ("payments", "workflow")
# Instrumenting an import takes time: the billing and automation apps only for the targets that use them.
ON_DATABASE = len(sys.argv) > 1 and sys.argv[1] in DATABASE_TARGETS

with atheris.instrument_imports():
    import django

    django.setup()
    from tenfold.assets import csv_import
    from tenfold.knowledge import markdown
    from tenfold.servicedesk import email_parse

    if ON_DATABASE:
        from django.db import transaction

        from tenfold.automation import workflows
        from tenfold.billing import payments
        from tenfold.core.errors import ValidationError


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
    # Every text is storable on PostgreSQL: no NUL anywhere.
    texts = [parsed.subject, parsed.sender, parsed.sender_name, parsed.text, parsed.message_id, parsed.automatic,
             *parsed.thread_ids, *parsed.to, *(a.filename for a in parsed.attachments),
             *(a.content_type for a in parsed.attachments)]
    assert not any("\x00" in text for text in texts), texts


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


# --- Targets on a database ---------------------------------------------------------------------------------

_world: dict[str, Any] = {}


def make_database() -> None:
    """The tables, from the models, and the records the payments files and the workflow definitions name:
    invoices F-2026-0001 (1200.00), F-2026-0002 (300.00), F-2026-0003 (void), AV-2026-0001 (a credit note) and
    F-2026-0004 (500.00, 100.00 paid as VIR-OLD); client, tag, webhook and script #1, the script's version 1
    signed and version 2 not."""
    from datetime import date

    from django.apps import apps
    from django.conf import settings
    from django.core.management import call_command

    from tenfold.accounts.testing import make_staff
    from tenfold.assets.models import Tag
    from tenfold.automation.models import Script, ScriptVersion, WebhookSubscription
    from tenfold.billing.models import Invoice
    from tenfold.clients.models import Client

    settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}
    call_command("migrate", run_syncdb=True, verbosity=0)
    client = Client.objects.create(name="Boulangerie Martin", status="active")
    issued = date(2026, 1, 5)
    invoices = {}
    for number, total, status, kind in (("F-2026-0001", "1200.00", "issued", "invoice"),
                                        ("F-2026-0002", "300.00", "issued", "invoice"),
                                        ("F-2026-0003", "80.00", "void", "invoice"),
                                        ("AV-2026-0001", "80.00", "issued", "credit_note"),
                                        ("F-2026-0004", "500.00", "issued", "invoice")):
        amount = Decimal(total)
        invoices[number] = Invoice.objects.create(
            client=client, kind=kind, status=status, number=number, issue_date=issued, due_date=date(2026, 2, 4),
            total=amount, subtotal=(amount / Decimal("1.2")).quantize(Decimal("0.01")),
            tax_total=amount - (amount / Decimal("1.2")).quantize(Decimal("0.01")))
    finance = make_staff("finance", mfa=False)
    payments.payment_record(actor=finance, invoice=invoices["F-2026-0004"], data={
        "amount": Decimal("100.00"), "received_on": issued, "reference": "VIR-OLD"})
    Tag.objects.create(name="VIP")
    WebhookSubscription.objects.create(name="NOC", url="https://hooks.example.com/t", events=["alert.raised"],
                                       secret="s" * 32)
    parameters = [{"name": "service", "label": "Service", "type": "string", "required": True},
                  {"name": "level", "label": "Level", "type": "choice", "required": False,
                   "choices": ["low", "high"], "default": "low"},
                  {"name": "count", "label": "Count", "type": "number", "required": False},
                  {"name": "password", "label": "Password", "type": "secret", "required": False}]
    script = Script.objects.create(name="Restart a service", language="shell", parameters=parameters)
    for number, status in ((1, "signed"), (2, "awaiting_signature")):
        ScriptVersion.objects.create(script=script, number=number, body="echo", language="shell", timeout_seconds=60,
                                     parameters=parameters, document="doc", document_sha256="0" * 64, status=status)
    _world["finance"] = finance


def _books() -> tuple[Any, ...]:
    from tenfold.billing.models import Invoice, Payment
    from tenfold.core.models import AuditEntry, OutboxEvent

    return (Payment.objects.count(), AuditEntry.objects.count(), OutboxEvent.objects.count(),
            list(Invoice.objects.order_by("pk").values_list("status", "amount_paid", "total")))


def _outline(result: payments.ImportResult) -> tuple[Any, ...]:
    return result.error, [(row.line, row.action, row.errors, row.values) for row in result.rows]


def fuzz_payments(data: bytes) -> None:
    actor = _world["finance"]
    with transaction.atomic():
        before = _books()
        preview = payments.payments_import_preview(actor=actor, file=data)
        assert _books() == before and not preview.applied
        result = payments.payments_import_csv(actor=actor, file=data)
        assert _outline(result) == _outline(preview), "the preview and the import differ"
        if result.error:
            assert not result.rows and not result.applied and isinstance(result.error, str)
            assert _books() == before
        else:
            lines = [row.line for row in result.rows]
            assert result.rows and len(result.rows) <= payments.MAX_ROWS and lines == sorted(set(lines))
            for row in result.rows:
                assert row.action in ("record", "skip", "error") and bool(row.errors) == (row.action == "error")
            if result.count("error"):
                assert not result.applied and not result.payments and _books() == before, "a partial import"
            else:
                after = _books()
                assert result.applied and after[0] == before[0] + result.count("record")
                assert all(paid <= total for _status, paid, total in after[3]), "an invoice paid beyond its total"
        transaction.set_rollback(True)


def fuzz_workflow(data: bytes) -> None:
    try:
        raw = json.loads(data)
    except (ValueError, RecursionError):
        return  # the API answers 422 before the definition reaches the validator
    with transaction.atomic():
        try:
            clean = workflows.validate_definition(raw)
        except ValidationError as exc:
            assert exc.errors and all(isinstance(key, str) and key for key in exc.errors), exc.errors
            assert all(messages and all(str(m) for m in messages) for messages in exc.errors.values())
        else:
            assert set(clean) == {"trigger", "conditions", "steps"} and clean["steps"]
            assert workflows.validate_definition(clean, previous=clean) == clean, "a clean definition changed"
        transaction.set_rollback(True)


# Values a structural mutation puts in place of another: the edges the workflow validators must hold.
ODD_VALUES: list[Any] = [
    0, -1, 1, 2, 3, 2**31, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 1.5, -0.0, 1e308, True, False, None, "", " ",
    "\x00", "é" * 300, "x" * 6000, [], {}, [1], ["x"], [[]], [{}], {"a": 1}, "next", "end", "a", "cleanup",
    "alert.raised", "ticket.created", "0 7 * * 1", "61 * * * *", "in", "not_in", "is", "client", "device_tag",
    "severity", "business_hours", "run_script", "open_ticket", "send_email", "set_device_field", "kind", "notes",
    "[secret]", "ops@msp.example", "p1", "auto", "critical",
]


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found += _paths(value, (*prefix, index))
    return found


def _mutate_document(doc: Any, rng: random.Random) -> Any:
    path = rng.choice(_paths(doc))
    if not path:
        return copy.deepcopy(rng.choice(ODD_VALUES))
    parent: Any = doc
    for step in path[:-1]:
        parent = parent[step]
    key = path[-1]
    action = rng.randrange(5)
    if action == 0 and isinstance(parent, dict):
        del parent[key]
    elif action == 1 and isinstance(parent, dict):
        parent[rng.choice(["id", "action", "params", "on_success", "on_failure", "field", "op", "value", "event",
                           "schedule", "extra"])] = copy.deepcopy(rng.choice(ODD_VALUES))
    elif action == 2 and isinstance(parent, list):
        parent.insert(key, copy.deepcopy(parent[key]))
    elif action == 3 and isinstance(parent, list) and len(parent) > 1:
        other = rng.randrange(len(parent))
        parent[key], parent[other] = parent[other], parent[key]
    else:
        parent[key] = copy.deepcopy(rng.choice(ODD_VALUES))
    return doc


def mutate_json(data: bytes, max_size: int, seed: int) -> bytes:
    """Mostly structure-aware mutations of a JSON document, sometimes libFuzzer's byte-level ones."""
    rng = random.Random(seed)  # noqa: S311 - reproducible mutations, not secrets
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return bytes(atheris.Mutate(data, max_size))
    if rng.random() < 0.15:
        return bytes(atheris.Mutate(data, max_size))
    for _ in range(rng.randint(1, 3)):
        doc = _mutate_document(doc, rng)
    return json.dumps(doc).encode()[:max_size]


TARGETS: dict[str, Any] = {"email": fuzz_email, "markdown": fuzz_markdown, "csv": fuzz_csv,
                           "payments": fuzz_payments, "workflow": fuzz_workflow}
MUTATORS: dict[str, Any] = {"workflow": mutate_json}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(TARGETS)}}} WORK_DIR CORPUS_DIR [libFuzzer options]")
    name = sys.argv.pop(1)
    if name in DATABASE_TARGETS:
        make_database()
    atheris.Setup(sys.argv, TARGETS[name], custom_mutator=MUTATORS.get(name))
    atheris.Fuzz()


if __name__ == "__main__":
    main()
