"""The audit log: sealing into the hash chain, detecting tampering, erasing personal data."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.management import call_command
from django.core.management.base import CommandError

from tenfold.core import audit
from tenfold.core.models import ActorKind, AuditEntry, AuditSeal

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2025, 3, 3, 9, 0, 0, tzinfo=dt.UTC)


def record_three(actor: object = None, at: dt.datetime = T0) -> list[AuditEntry]:
    with time_machine.travel(at, tick=False):
        return [
            audit.record(actor, "client.updated", object_type="clients.client", object_id=str(n), client_id=n,
                         changes={"name": [f"Old {n}", f"New {n}"]})
            for n in (1, 2, 3)
        ]


def seal_at(moment: dt.datetime) -> int:
    with time_machine.travel(moment, tick=False):
        return audit.seal()


def test_sealed_entries_form_a_chain_that_verifies():
    # given
    entries = record_three()

    # when
    sealed = seal_at(T0 + dt.timedelta(seconds=3))

    # then
    assert sealed == 3
    assert audit.verify() == audit.Verification(checked=3)
    rows = list(AuditEntry.objects.order_by("id").values_list("id", "chain_index", "sealed_at"))
    assert rows == [(e.pk, i, T0 + dt.timedelta(seconds=3)) for i, e in enumerate(entries, start=1)]
    head = AuditSeal.objects.get(pk=1)
    assert head.last_index == 3
    assert head.last_hash == AuditEntry.objects.get(pk=entries[2].pk).chain_hash


def test_sealing_continues_the_chain_where_it_stopped():
    # given
    first = record_three()
    seal_at(T0 + dt.timedelta(seconds=3))
    second = record_three(at=T0 + dt.timedelta(minutes=1))

    # when
    sealed = seal_at(T0 + dt.timedelta(minutes=1, seconds=3))

    # then
    assert sealed == 3
    assert audit.verify() == audit.Verification(checked=6)
    indexes = dict(AuditEntry.objects.values_list("id", "chain_index"))
    assert [indexes[e.pk] for e in first + second] == [1, 2, 3, 4, 5, 6]


def test_the_chain_still_verifies_after_a_dump_and_load():
    """Regression: Django's JSON serializer keeps milliseconds only, so entries recorded with
    microseconds no longer matched their digest after dumpdata/loaddata (moving to PostgreSQL)."""
    # given
    record_three(at=T0 + dt.timedelta(microseconds=123_456))
    seal_at(T0 + dt.timedelta(seconds=3))
    dump = serializers.serialize("json", AuditEntry.objects.order_by("id"))

    # when
    AuditEntry.objects.all().delete()
    for loaded in serializers.deserialize("json", dump):
        loaded.save()

    # then
    assert audit.verify() == audit.Verification(checked=3)
    assert set(AuditEntry.objects.values_list("at", flat=True)) == {T0 + dt.timedelta(microseconds=123_000)}


def test_changing_a_sealed_action_is_reported_with_that_entry():
    # given
    entries = record_three()
    seal_at(T0 + dt.timedelta(seconds=3))

    # when
    AuditEntry.objects.filter(pk=entries[1].pk).update(action="client.viewed")

    # then
    assert audit.verify() == audit.Verification(
        checked=2, problem=f"audit entry #{entries[1].pk} (chain position 2): recorded fields were altered")


def test_changing_sealed_before_after_values_is_reported_with_that_entry():
    # given
    entries = record_three()
    seal_at(T0 + dt.timedelta(seconds=3))

    # when
    AuditEntry.objects.filter(pk=entries[2].pk).update(changes={"name": ["Old 3", "Forged"]})

    # then
    assert audit.verify() == audit.Verification(
        checked=3, problem=f"audit entry #{entries[2].pk} (chain position 3): personal fields were altered")


def test_removing_a_sealed_entry_is_reported_at_the_gap():
    # given
    entries = record_three()
    seal_at(T0 + dt.timedelta(seconds=3))

    # when
    AuditEntry.objects.filter(pk=entries[1].pk).delete()

    # then
    assert audit.verify() == audit.Verification(
        checked=2, problem=f"audit entry #{entries[2].pk} (chain position 3): chain position 2 is missing")


def test_removing_the_newest_sealed_entry_is_reported_by_the_chain_head():
    # given
    entries = record_three()
    seal_at(T0 + dt.timedelta(seconds=3))

    # when
    AuditEntry.objects.filter(pk=entries[2].pk).delete()

    # then
    assert audit.verify() == audit.Verification(checked=2, problem="the chain head says 3 entries, 2 found")


def test_erasing_personal_data_keeps_the_chain_verifiable():
    # given
    # Looked up, not imported: core sits below accounts (import-linter layers).
    person = get_user_model().objects.create_user(email="camille.martin@example.com")
    theirs = record_three(actor=person)
    with time_machine.travel(T0, tick=False):
        other = audit.record(None, "schedule.ran", object_type="core.schedule", object_id="1")
    seal_at(T0 + dt.timedelta(seconds=3))

    # when
    with time_machine.travel(T0 + dt.timedelta(seconds=10), tick=False):
        erased = audit.erase_personal_data(actor=None, actor_id=person.pk)
    seal_at(T0 + dt.timedelta(seconds=20))

    # then
    assert erased == 3
    assert audit.verify() == audit.Verification(checked=5)
    rows = AuditEntry.objects.filter(pk__in=[e.pk for e in theirs])
    assert sorted(rows.values_list("actor_label", "ip", "user_agent", "changes", "erased_at")) == [
        ("[erased]", "", "", {}, T0 + dt.timedelta(seconds=10))] * 3
    assert AuditEntry.objects.get(pk=other.pk).erased_at is None
    erasure = AuditEntry.objects.get(action="audit.personal_data_erased")
    assert (erasure.actor_kind, erasure.object_id, erasure.changes) == (
        ActorKind.SYSTEM, str(person.pk), {"rows": 3})


def test_entries_younger_than_the_grace_are_left_for_the_next_seal():
    # given
    with time_machine.travel(T0, tick=False):
        entry = audit.record(None, "client.created", object_type="clients.client", object_id="7")

    # when
    too_early = seal_at(T0 + audit.SEAL_GRACE - dt.timedelta(milliseconds=1))
    unsealed_after_first = AuditEntry.objects.get(pk=entry.pk).sealed_at
    on_time = seal_at(T0 + audit.SEAL_GRACE)

    # then
    assert too_early == 0
    assert unsealed_after_first is None
    assert on_time == 1
    assert AuditEntry.objects.get(pk=entry.pk).chain_index == 1


def test_verify_audit_command_reports_an_intact_chain():
    # given
    record_three()
    seal_at(T0 + dt.timedelta(seconds=3))
    out = StringIO()

    # when
    call_command("verify_audit", stdout=out)

    # then
    assert out.getvalue() == "audit chain OK: 3 entries verified\n"


def test_verify_audit_command_fails_on_a_tampered_entry():
    # given
    entries = record_three()
    seal_at(T0 + dt.timedelta(seconds=3))
    AuditEntry.objects.filter(pk=entries[0].pk).update(object_id="99")

    # when
    with pytest.raises(CommandError) as raised:
        call_command("verify_audit", stdout=StringIO())

    # then
    assert str(raised.value) == (f"audit chain broken: audit entry #{entries[0].pk} (chain position 1): "
                                 "recorded fields were altered (1 entries checked)")
    assert raised.value.returncode == 1


def test_verify_audit_command_seals_nothing():
    # given
    record_three()

    # when
    call_command("verify_audit", stdout=StringIO())

    # then
    assert AuditEntry.objects.filter(sealed_at__isnull=False).count() == 0


def test_seal_audit_command_seals_every_settled_entry():
    # given
    record_three()
    out = StringIO()

    # when
    with time_machine.travel(T0 + dt.timedelta(minutes=5), tick=False):
        call_command("seal_audit", stdout=out)

    # then
    assert out.getvalue() == "sealed 3 audit entries\n"
    assert audit.verify() == audit.Verification(checked=3)
