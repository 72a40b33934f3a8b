"""Signing keys, scripts, signatures and runs through the services, with real Ed25519 keys."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client as HttpClient

from tenfold.accounts.testing import make_staff
from tenfold.agents.models import Job
from tenfold.agents.tests.helpers import checkin_body, enroll, heartbeat, post
from tenfold.automation import services, signing, trust
from tenfold.automation.models import KeyStatus, ScriptRun, Signature, SigningKey, VersionStatus
from tenfold.automation.tests.factories import PARAMS, Key, make_script, managed_device, register, sign
from tenfold.clients.models import Client
from tenfold.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from tenfold.core.models import AuditEntry
from tenfold.core.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner() -> Any:
    return make_staff(Role.OWNER, mfa=False)


@pytest.fixture
def approver() -> Any:
    return make_staff(Role.SERVICE_MANAGER, mfa=False)


def test_the_first_key_needs_no_countersignature_and_later_ones_must_have_a_valid_one(owner: Any,
                                                                                        approver: Any) -> None:
    # given a first key registered by the owner for an approver
    first, second, rogue = Key(), Key(), Key()
    row = register(owner, first, approver)
    assert (row.key_id, row.status, row.countersigned_by, row.owner) == (first.key_id, "active", None, approver)
    # when a second key comes without a countersignature, with one made for another key, or by an unknown key
    with pytest.raises(ValidationError) as missing:
        register(owner, second, approver)
    assert missing.value.errors == {"countersignature": [
        "Agents already trust a key: a new key must be countersigned by an active key (tenfold sign countersign)."]}
    with pytest.raises(ValidationError) as forged:
        services.signing_key_register(actor=owner, name="B", public_key=second.public, owner=approver,
                                      countersigned_by=first.key_id, countersignature=first.countersign(rogue))
    assert forged.value.errors == {"countersignature": [
        f"The countersignature does not verify with key {first.key_id}: the signature does not match this "
        "document and key."]}
    with pytest.raises(ValidationError, match="is not an active key"):
        register(owner, second, approver, by=rogue)
    # then only the first key exists; a valid countersignature is accepted
    assert list(SigningKey.objects.values_list("key_id", flat=True)) == [first.key_id]
    endorsed = register(owner, second, approver, by=first)
    assert endorsed.countersigned_by == row
    signing.verify(first.public, signing.key_document(second.key_id, second.public), endorsed.countersignature or "")


def test_key_registration_refuses_bad_input_and_wrong_roles(owner: Any, approver: Any) -> None:
    technician = make_staff(Role.TECHNICIAN, mfa=False)
    key = Key()
    with pytest.raises(PermissionDenied):
        register(approver, key, approver)  # a service manager signs but does not manage keys
    with pytest.raises(ValidationError) as short:
        services.signing_key_register(actor=owner, name="x", public_key="AAAA", owner=approver)
    assert short.value.errors == {"public_key": ["This is not an Ed25519 public key: the public key is 3 bytes, "
                                                 "not 32."]}
    with pytest.raises(ValidationError) as not_signer:
        register(owner, key, technician)
    assert not_signer.value.errors["owner_id"] == [
        "The key's owner has no right to sign scripts (owners, administrators and service managers do)."]
    register(owner, key, approver)
    with pytest.raises(ValidationError, match="countersigned"):
        register(owner, key, approver)  # the same key again: it needs a countersignature first...
    with pytest.raises(ValidationError) as duplicate:
        register(owner, key, approver, by=key)
    assert duplicate.value.errors == {"public_key": ["This key is already registered."]}
    assert SigningKey.objects.count() == 1


def test_a_signature_is_verified_before_it_is_stored(owner: Any, approver: Any) -> None:
    key, other = Key(), Key()
    register(owner, key, approver)
    script = make_script(owner)
    version = script.versions.get()
    assert version.status == VersionStatus.AWAITING_SIGNATURE
    assert version.document.encode() == signing.script_document(
        script_id=script.pk, number=1, language="shell", body=version.body, parameters=PARAMS, timeout_seconds=60,
        os_families=["linux"])
    # a signature of something else is refused with the reason, and nothing is stored
    with pytest.raises(ValidationError) as wrong:
        services.signature_upload(actor=approver, version=version, key_id=key.key_id,
                                  signature=other.sign(version.document.encode()))
    assert wrong.value.status == 422
    assert wrong.value.errors == {"signature": [
        f"The signature does not verify with key {key.key_id} against version 1 of this script: the signature "
        "does not match this document and key. Rebuild the document with tenfold sign review."]}
    with pytest.raises(ValidationError, match="not valid base64"):
        services.signature_upload(actor=approver, version=version, key_id=key.key_id, signature="%%%")
    # someone else's key, or a role without the right, is refused
    with pytest.raises(PermissionDenied, match="is not yours"):
        services.signature_upload(actor=owner, version=version, key_id=key.key_id,
                                  signature=key.sign(version.document.encode()))
    with pytest.raises(PermissionDenied, match="may not sign"):
        services.signature_upload(actor=make_staff(Role.TECHNICIAN, mfa=False), version=version, key_id=key.key_id,
                                  signature=key.sign(version.document.encode()))
    version.refresh_from_db()
    assert (Signature.objects.count(), version.status) == (0, VersionStatus.AWAITING_SIGNATURE)
    # the right signature by the approver's own key
    sign(version, key, approver)
    version.refresh_from_db()
    assert version.status == VersionStatus.SIGNED
    assert AuditEntry.objects.filter(action="script_version.signed").get().changes["key_id"] == key.key_id
    with pytest.raises(Conflict, match="already signed"):
        sign(version, key, approver)


def test_changing_the_body_makes_a_new_version_awaiting_signature_and_metadata_does_not(owner: Any,
                                                                                         approver: Any) -> None:
    key = Key()
    register(owner, key, approver)
    script = make_script(owner)
    sign(script.versions.get(), key, approver)
    assert services.script_update(actor=owner, script=script, data={"description": "Restarts it"}) is None
    version = services.script_update(actor=owner, script=script, data={"body": "#!/bin/sh\necho v2\n"})
    assert version is not None and (version.number, version.status) == (2, VersionStatus.AWAITING_SIGNATURE)
    assert [(v.number, v.status) for v in script.versions.order_by("number")] == [
        (1, VersionStatus.SIGNED), (2, VersionStatus.AWAITING_SIGNATURE)]
    third = services.script_update(actor=owner, script=script, data={"timeout_seconds": 120})
    assert third is not None and third.number == 3 and third.body == "#!/bin/sh\necho v2\n"


def test_script_fields_are_validated_with_clear_messages(owner: Any) -> None:
    cases = [
        ({"parameters": [{"name": "Bad Name", "type": "string"}]},
         {"parameters.0.name": ["A parameter name is lower-case letters, digits and _, starting with a letter "
                                "(at most 40)."]}),
        ({"parameters": [{"name": "x", "type": "choice", "choices": []}]},
         {"parameters.0.choices": ["A choice parameter lists 1 to 50 distinct choices of at most 100 characters."]}),
        ({"parameters": [{"name": "x", "type": "secret", "default": "hunter2"}]},
         {"parameters.0.default": ["A secret parameter has no default."]}),
        ({"parameters": [{"name": "x", "type": "number", "default": "ten"}]},
         {"parameters.0.default": ["Enter a number."]}),
        ({"parameters": [{"name": "x", "type": "date"}]},
         {"parameters.0.type": ["The type must be one of: string, number, boolean, choice, secret."]}),
        ({"language": "powershell", "os_families": ["linux"]},
         {"os_families": ["PowerShell scripts run on Windows only."]}),
        ({"os_families": ["beos"]}, {"os_families": ["Choose one or more of: windows, linux, macos."]}),
        ({"timeout_seconds": 0}, {"timeout_seconds": ["The timeout is between 5 and 86400 seconds."]}),
        ({"body": "   "}, {"body": ["The script has no body."]}),
    ]
    for fields, errors in cases:
        with pytest.raises(ValidationError) as caught:
            make_script(owner, name="Bad one", **fields)
        assert caught.value.errors == errors, fields
    assert not ScriptRun.objects.exists()
    from tenfold.automation.models import Script

    assert not Script.objects.filter(name="Bad one").exists()


def _signed_script(owner: Any, approver: Any) -> tuple[Any, Key]:
    key = Key()
    register(owner, key, approver)
    script = make_script(owner)
    sign(script.versions.get(), key, approver)
    return script, key


def test_only_signed_versions_run(owner: Any, approver: Any) -> None:
    client = Client.objects.create(name="Fournil", status="active")
    device = managed_device(client)
    script = make_script(owner)
    with pytest.raises(Conflict) as unsigned:
        services.script_run(actor=owner, script=script, device_ids=[device.pk], parameters={"service": "cron"})
    assert unsigned.value.message == "This script has no signed version: an approver must sign it with tenfold sign."
    key = Key()
    register(owner, key, approver)
    sign(script.versions.get(), key, approver)
    services.script_update(actor=owner, script=script, data={"body": "#!/bin/sh\necho v2\n"})
    with pytest.raises(Conflict) as v2:
        services.script_run(actor=owner, script=script, device_ids=[device.pk], parameters={"service": "cron"},
                            version_number=2)
    assert v2.value.message == "Version 2 is not signed (Awaiting signature): only signed versions run."
    assert not Job.objects.exists()
    # without a version named, the latest signed one (v1) runs
    [run] = services.script_run(actor=owner, script=script, device_ids=[device.pk], parameters={"service": "cron"})
    assert run.version.number == 1 and run.job.kind == "run_script"


def test_another_clients_device_is_not_found_and_nothing_is_queued(owner: Any, approver: Any) -> None:
    script, _key = _signed_script(owner, approver)
    mine, theirs = Client.objects.create(name="Mine"), Client.objects.create(name="Theirs")
    technician = make_staff(Role.TECHNICIAN, clients=[mine], restricted=True, mfa=False)
    ok, other = managed_device(mine, "PC-1"), managed_device(theirs, "PC-2")
    with pytest.raises(NotFound):
        services.script_run(actor=technician, script=script, device_ids=[ok.pk, other.pk],
                            parameters={"service": "cron"})
    with pytest.raises(NotFound):
        services.script_run(actor=technician, script=script, client_id=theirs.pk, parameters={"service": "cron"})
    assert not Job.objects.exists() and not ScriptRun.objects.exists()
    runs = services.script_run(actor=technician, script=script, client_id=mine.pk, parameters={"service": "cron"})
    assert [r.device for r in runs] == [ok]


def test_parameter_values_are_checked_against_the_schema(owner: Any, approver: Any) -> None:
    script, _key = _signed_script(owner, approver)
    device = managed_device(Client.objects.create(name="Fournil"))
    windows = managed_device(device.client, "PC-WIN", os_family="windows")
    cases = [
        ({}, {"parameters.service": ["This parameter is required."]}),
        ({"service": "cron", "level": "max"}, {"parameters.level": ["Choose one of: low, high."]}),
        ({"service": "cron", "count": "3"}, {"parameters.count": ["Enter a number."]}),
        ({"service": "cron", "force": "yes"}, {"parameters.force": ["Enter true or false."]}),
        ({"service": 5}, {"parameters.service": ["Enter text."]}),
        ({"service": "cron", "path": "/"}, {"parameters.path": ["This script has no parameter path."]}),
    ]
    for values, errors in cases:
        with pytest.raises(ValidationError) as caught:
            services.script_run(actor=owner, script=script, device_ids=[device.pk], parameters=values)
        assert caught.value.errors == errors, values
    with pytest.raises(ValidationError) as wrong_os:
        services.script_run(actor=owner, script=script, device_ids=[windows.pk], parameters={"service": "cron"})
    assert wrong_os.value.errors == {"device_ids": ["PC-WIN runs windows; this script runs on linux."]}
    assert not Job.objects.exists()


def test_a_run_carries_document_signatures_and_secret_which_never_reach_logs_or_stored_output(
        owner: Any, approver: Any) -> None:
    # given a signed script and an enrolled agent
    script, key = _signed_script(owner, approver)
    client = Client.objects.create(name="Fournil", status="active")
    agent = enroll(client)
    from tenfold.assets.models import Device

    device = Device.objects.get(pk=agent["device_id"])
    # when it runs with a secret
    [run] = services.script_run(actor=owner, script=script, device_ids=[device.pk],
                                parameters={"service": "cron", "count": 3, "password": "Tr0ub4dor&3"})
    # then the run and the audit know the secret by name only
    assert run.parameters == {"service": "cron", "level": "low", "count": 3, "password": "[secret]"}
    assert "Tr0ub4dor" not in json.dumps(list(AuditEntry.objects.values_list("changes", flat=True)))
    # and the agent receives the signed document, the signatures and the secret, in its check-in answer
    answer = post(HttpClient(), "/agent/v1/checkin", checkin_body(heartbeat(1)), agent["credential"]).json()
    [job] = answer["jobs"]
    assert job["kind"] == "run_script"
    payload = job["payload"]
    version = script.versions.get()
    assert payload["document"] == version.document and payload["body"] == version.body
    assert payload["signatures"] == [{"key_id": key.key_id, "signature": Signature.objects.get().signature}]
    assert payload["parameters"] == {"service": "cron", "level": "low", "count": 3}
    assert payload["secret_parameters"] == {"password": "Tr0ub4dor&3"}
    assert answer["signing_keys"] == {"keys": [{"key_id": key.key_id, "public_key": key.public,
                                                "countersigned_by": None, "countersignature": None}], "revoked": []}
    # when the result comes back with the secret in its output
    result = {"seq": 2, "kind": "job_result", "at": "2026-11-26T16:02:00Z", "data": {
        "job_id": job["id"], "status": "succeeded", "exit_code": 0, "stdout": "login Tr0ub4dor&3 ok\n",
        "stderr": "warning: Tr0ub4dor&3", "duration_ms": 120}}
    assert post(HttpClient(), "/agent/v1/checkin", checkin_body(result), agent["credential"]).status_code == 200
    # then the stored output is redacted and the payload no longer holds the secret
    stored = Job.objects.get(pk=job["id"])
    assert (stored.status, stored.exit_code, stored.stdout, stored.stderr) == (
        "succeeded", 0, "login [secret] ok\n", "warning: [secret]")
    assert "secret_parameters" not in stored.payload and stored.payload["secret_names"] == ["password"]
    assert "Tr0ub4dor" not in json.dumps(stored.payload)


def test_enrollment_and_every_checkin_answer_carry_the_keys_and_signed_revocations(
        owner: Any, approver: Any, django_capture_on_commit_callbacks: Any) -> None:
    client = Client.objects.create(name="Fournil", status="active")
    # no key yet: the enrollment answer's list is empty and check-ins carry nothing
    before = enroll(client, machine_id="m-0")
    assert before["signing_keys"] == []
    answer = post(HttpClient(), "/agent/v1/checkin", checkin_body(heartbeat(1)), before["credential"]).json()
    assert "signing_keys" not in answer
    first, second = Key(), Key()
    with django_capture_on_commit_callbacks(execute=True):  # a key change renews the cached state on commit
        register(owner, first, approver)
        register(owner, second, approver, by=first)
    enrolled = enroll(client, machine_id="m-1")
    assert enrolled["signing_keys"] == [{"key_id": first.key_id, "public_key": first.public},
                                        {"key_id": second.key_id, "public_key": second.public}]
    # when the first key is revoked by the second
    with django_capture_on_commit_callbacks(execute=True):
        services.signing_key_revoke(actor=owner, key=SigningKey.objects.get(key_id=first.key_id),
                                    revoked_by=second.key_id, signature=second.revoke(first))
    # then both check-in paths (fast: heartbeat only; full: a posture item) carry the same state
    expected = {"keys": [{"key_id": second.key_id, "public_key": second.public, "countersigned_by": first.key_id,
                          "countersignature": first.countersign(second)}],
                "revoked": [{"key_id": first.key_id, "revoked_by": second.key_id, "signature": second.revoke(first)}]}
    full = post(HttpClient(), "/agent/v1/checkin", checkin_body(heartbeat(1)), enrolled["credential"]).json()
    assert full["signing_keys"] == expected
    from tenfold.agents.fastpath import checkin_fast
    from tenfold.agents.protocol import parse_checkin

    fast = checkin_fast(enrolled["credential"], parse_checkin(json.dumps(checkin_body(heartbeat(2))).encode()))
    assert fast is not None and fast["signing_keys"] == expected
    assert trust.signing_keys() == expected


def test_revocation_needs_another_active_key_and_unsigns_versions_only_it_signed(owner: Any, approver: Any) -> None:
    script, first = _signed_script(owner, approver)
    second = Key()
    register(owner, second, approver, by=first)
    row = SigningKey.objects.get(key_id=first.key_id)
    with pytest.raises(ValidationError) as itself:
        services.signing_key_revoke(actor=owner, key=row, revoked_by=first.key_id, signature=first.revoke(first))
    assert itself.value.errors == {"revoked_by": [
        "A key cannot revoke itself: sign the revocation with another active key."]}
    with pytest.raises(ValidationError, match="revocation signature does not verify"):
        services.signing_key_revoke(actor=owner, key=row, revoked_by=second.key_id, signature=second.revoke(second))
    row.refresh_from_db()
    assert row.status == KeyStatus.ACTIVE
    services.signing_key_revoke(actor=owner, key=row, revoked_by=second.key_id, signature=second.revoke(first))
    row.refresh_from_db()
    assert (row.status, row.revoked_by_key.key_id) == (KeyStatus.REVOKED, second.key_id)  # type: ignore[union-attr]
    assert script.versions.get().status == VersionStatus.AWAITING_SIGNATURE
    with pytest.raises(ValidationError, match="is not an active signing key"):
        sign(script.versions.get(), first, approver)
    sign(script.versions.get(), second, approver)
    assert script.versions.get().status == VersionStatus.SIGNED


def test_the_agent_builds_the_same_canonical_bytes_and_key_ids() -> None:
    from tenfold_agent import signing as agent_signing

    key = Key()
    assert agent_signing.key_id_of(key.public) == key.key_id
    data = {"purpose": "x", "b": [1, "é"], "a": {"z": None}}
    expected = b'{"a":{"z":null},"b":[1,"\xc3\xa9"],"purpose":"x"}'
    assert agent_signing.canonical(data) == signing.canonical(data) == expected
    assert agent_signing.canonical({"purpose": agent_signing.KEY_PURPOSE, "key_id": key.key_id,
                                    "public_key": key.public}) == signing.key_document(key.key_id, key.public)
    assert agent_signing.canonical({"purpose": agent_signing.REVOCATION_PURPOSE, "key_id": key.key_id}) == \
        signing.revocation_document(key.key_id)
