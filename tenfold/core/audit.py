"""The audit log: every change by a person or a token, every sensitive read.

Rows are inserted freely (no lock on a write). `seal()` later links unsealed rows, in id order, into
a SHA-256 chain under a lock on the chain head; `verify()` recomputes it. Each row's digest covers its
fixed fields and a hash of its personal fields, so erasing personal data keeps the chain verifiable.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from tenfold.core.context import current_origin
from tenfold.core.models import ActorKind, AuditEntry, AuditSeal, as_jsonable

ERASED = "[erased]"
# Rows younger than this are left for the next seal: a transaction that took its id earlier may not
# have committed yet, and sealing past it would leave a hole.
SEAL_GRACE = timedelta(seconds=2)


def _canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def personal_hash_of(entry: AuditEntry) -> str:
    """Hash of the erasable fields."""
    return _sha(_canonical({"actor_label": entry.actor_label, "ip": entry.ip,
                            "user_agent": entry.user_agent, "changes": entry.changes}))


def digest_of(entry: AuditEntry) -> str:
    """Digest of the fixed fields plus the personal hash: what the chain covers."""
    return _sha(_canonical({
        "at": entry.at.isoformat(), "actor_kind": entry.actor_kind, "actor_id": entry.actor_id,
        "action": entry.action, "object_type": entry.object_type, "object_id": entry.object_id,
        "client_id": entry.client_id, "personal_hash": entry.personal_hash,
    }))


def snapshot(obj: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """The concrete field values of a record, for before/after in the audit log."""
    values: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        values[field.attname] = as_jsonable(getattr(obj, field.attname))
    return values


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Only the fields that changed: {"field": [before, after]} (the automatic updated_at is not a change)."""
    keys = (set(before) | set(after)) - {"updated_at"}
    return {k: [before.get(k), after.get(k)] for k in sorted(keys) if before.get(k) != after.get(k)}


def record(actor: Any, action: str, obj: models.Model | None = None, *, client_id: int | None = None,
           changes: dict[str, Any] | None = None, object_type: str = "", object_id: str = "",
           actor_kind: str | None = None) -> AuditEntry:
    """Write one audit row for `actor` doing `action` to `obj` (inside the caller's transaction)."""
    origin = current_origin()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        if client_id is None:
            lookup = getattr(type(obj), "tenant_lookup", "client_id")
            candidate = getattr(obj, lookup.replace("__", "_"), None) if lookup != "pk" else obj.pk
            client_id = candidate if isinstance(candidate, int) else None
    kind = actor_kind or (ActorKind.TOKEN if origin.token_id else ActorKind.USER)
    if actor is None:
        kind = actor_kind or ActorKind.SYSTEM
    label = ""
    if actor is not None:
        label = str(getattr(actor, "email", "") or actor)
        if origin.token_id:
            label = f"{label} (token #{origin.token_id})"
    now = timezone.now()
    entry = AuditEntry(
        # Milliseconds only: Django's JSON serializer (dumpdata, used to move a deployment from SQLite
        # to PostgreSQL) drops microseconds, which would make every moved entry fail verification.
        at=now.replace(microsecond=now.microsecond // 1000 * 1000),
        actor_kind=kind, actor_id=getattr(actor, "pk", None), action=action,
        object_type=object_type, object_id=object_id, client_id=client_id, actor_label=label[:254],
        ip=origin.ip[:64], user_agent=origin.user_agent[:300], changes=changes or {},
    )
    # Round-trip through JSON so the stored value is what was hashed.
    entry.changes = json.loads(_canonical(entry.changes))
    entry.personal_hash = personal_hash_of(entry)
    entry.digest = digest_of(entry)
    entry.save(force_insert=True)
    return entry


def seal(batch_size: int = 1000) -> int:
    """Link the unsealed rows, oldest id first, into the chain. Returns how many were sealed."""
    cutoff = timezone.now() - SEAL_GRACE
    sealed = 0
    with transaction.atomic():
        head, _ = AuditSeal.objects.select_for_update().get_or_create(pk=1)
        rows = list(AuditEntry.objects.filter(sealed_at__isnull=True, at__lte=cutoff)
                    .order_by("id")[:batch_size])
        now = timezone.now()
        for row in rows:
            head.last_index += 1
            head.last_hash = _sha((head.last_hash + row.digest).encode())
            AuditEntry.objects.filter(pk=row.pk).update(
                chain_index=head.last_index, chain_hash=head.last_hash, sealed_at=now)
            sealed += 1
        head.updated_at = now
        head.save()
    return sealed


@dataclass(frozen=True)
class Verification:
    """What verify() found: rows checked and the first problem, if any."""

    checked: int
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


def verify() -> Verification:
    """Recompute every sealed row's digest and the chain; report the first mismatch."""
    previous = "0" * 64
    expected_index = 0
    checked = 0
    for row in AuditEntry.objects.filter(chain_index__isnull=False).order_by("chain_index").iterator(2000):
        expected_index += 1
        checked += 1
        where = f"audit entry #{row.pk} (chain position {row.chain_index})"
        if row.chain_index != expected_index:
            return Verification(checked, f"{where}: chain position {expected_index} is missing")
        if row.erased_at is None and personal_hash_of(row) != row.personal_hash:
            return Verification(checked, f"{where}: personal fields were altered")
        if digest_of(row) != row.digest:
            return Verification(checked, f"{where}: recorded fields were altered")
        previous = _sha((previous + row.digest).encode())
        if previous != row.chain_hash:
            return Verification(checked, f"{where}: chain hash does not match")
    head = AuditSeal.objects.filter(pk=1).first()
    if head is not None and head.last_index != expected_index:
        return Verification(checked, f"the chain head says {head.last_index} entries, {expected_index} found")
    return Verification(checked)


def erase_personal_data(*, actor: Any, actor_id: int) -> int:
    """Erase the personal fields of every audit row about one person (GDPR); the chain stays valid."""
    with transaction.atomic():
        count = AuditEntry.objects.filter(actor_id=actor_id, actor_kind__in=[ActorKind.USER, ActorKind.TOKEN],
                                          erased_at__isnull=True).update(
            actor_label=ERASED, ip="", user_agent="", changes={}, erased_at=timezone.now())
        record(actor, "audit.personal_data_erased", object_type="accounts.user", object_id=str(actor_id),
               changes={"rows": count})
    return count
