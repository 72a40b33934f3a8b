"""The agent endpoints (/agent/v1/enroll and /agent/v1/checkin) against docs/agent-protocol.md:
identity only from the credential, strict bodies, nothing written on a refusal, replays applied once,
a bounded number of queries per check-in."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from tenfold.agents import auth, hooks
from tenfold.agents.models import Agent, AgentCredential, EnrollmentToken, Job
from tenfold.agents.tests.helpers import (
    AT_DT,
    checkin_body,
    enroll,
    enroll_body,
    heartbeat,
    metrics,
    new_token,
    post,
    result,
)
from tenfold.assets.models import (
    CheckResult,
    Device,
    DeviceState,
    DeviceStateChange,
    MetricSample,
    SoftwareChange,
    SoftwareItem,
)
from tenfold.clients.models import Client, Site
from tenfold.core.models import AuditEntry, OutboxEvent

pytestmark = pytest.mark.django_db

CHECKIN = "/agent/v1/checkin"
ENROLL = "/agent/v1/enroll"


def written() -> tuple[Any, ...]:
    """Everything a check-in may write, to prove a refused one wrote nothing."""
    return (CheckResult.objects.count(), MetricSample.objects.count(), SoftwareItem.objects.count(),
            SoftwareChange.objects.count(),
            sorted(Device.objects.values_list("pk", "last_seen_at", "uptime_seconds", "pending_updates")),
            sorted(Agent.objects.values_list("pk", "last_seq", "last_checkin_at")),
            sorted(Job.objects.values_list("pk", "status")))


@pytest.fixture
def client_a() -> Client:
    return Client.objects.create(name="Boulangerie Martin", status="active")


@pytest.fixture
def agent_a(client_a: Client) -> dict[str, Any]:
    return enroll(client_a)


# --- Enrollment ---------------------------------------------------------------------------------


def test_enroll_creates_managed_device_credential_audit_and_event(client_a: Client) -> None:
    # given a token of client A for its head office
    site = Site.objects.create(client=client_a, name="Siège")
    token, plain = new_token(client_a, site=site, max_uses=2)
    # when an agent enrolls with it
    response = post(HttpClient(), ENROLL, enroll_body(plain))
    # then a managed device of client A exists, with a hashed credential of the right shape
    assert response.status_code == 201
    body = response.json()
    device = Device.objects.get(pk=body["device_id"])
    assert (device.client_id, device.site_id, device.name, device.hostname, device.machine_id) == (
        client_a.pk, site.pk, "pc-compta-01", "pc-compta-01", "4c4c4544-0042-8010")
    assert (device.managed, device.state, device.os_family, device.os_name, device.os_version) == (
        True, "onboarding", "linux", "Debian GNU/Linux", "12")
    assert body["credential"].startswith("tfa_") and len(body["credential"].split("_")[1]) == 8
    assert (body["checkin_interval"], body["checkin_jitter"], body["signing_keys"]) == (60, 10, [])
    stored = AgentCredential.objects.get(device=device)
    assert stored.secret_hash == hashlib.sha256(body["credential"].encode()).hexdigest()
    assert stored.prefix == body["credential"][4:12]
    assert EnrollmentToken.objects.get(pk=token.pk).uses == 1
    entry = AuditEntry.objects.get(action="device.enrolled")
    assert (entry.actor_kind, entry.client_id, entry.object_id) == ("agent", client_a.pk, str(device.pk))
    assert OutboxEvent.objects.get(name="device.enrolled").payload == {
        "device_id": device.pk, "client_id": client_a.pk, "created": True}
    assert list(DeviceStateChange.objects.filter(device=device).values_list("from_state", "to_state")) == [
        ("", "onboarding")]


@pytest.mark.parametrize("case", ["unknown", "wrong_secret", "expired", "revoked", "used_up", "garbage"])
def test_enroll_refuses_every_bad_token_with_one_answer(client_a: Client, case: str) -> None:
    # given a token in one of the unusable situations
    token, plain = new_token(client_a, max_uses=1)
    if case == "unknown":
        plain = "tfe_00000000_" + "A" * 43
    elif case == "wrong_secret":
        plain = plain[:13] + ("B" if plain[13] != "B" else "C") + plain[14:]
    elif case == "expired":
        EnrollmentToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif case == "revoked":
        EnrollmentToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    elif case == "used_up":
        EnrollmentToken.objects.filter(pk=token.pk).update(uses=1)
    elif case == "garbage":
        plain = "not a token"
    # when an agent enrolls with it
    response = post(HttpClient(), ENROLL, enroll_body(plain))
    # then the answer is the same 401 whatever the cause, and nothing was created
    assert response.status_code == 401
    assert response.json() == {"code": "enrollment_token_invalid",
                               "message": "This enrollment token is not valid: ask for a new one."}
    assert Device.objects.count() == 0 and AgentCredential.objects.count() == 0
    assert not AuditEntry.objects.filter(action="device.enrolled").exists()


def test_reenroll_same_machine_reuses_device_and_revokes_old_credential(client_a: Client) -> None:
    # given an enrolled agent that has checked in up to seq 5
    first = enroll(client_a)
    assert post(HttpClient(), CHECKIN, checkin_body(heartbeat(5)), first["credential"]).status_code == 200
    # when the same machine enrolls again (reinstalled)
    second = enroll(client_a)
    # then the device is the same, the old credential is refused as revoked, and seq restarts
    assert second["device_id"] == first["device_id"]
    assert Device.objects.count() == 1
    auth.cache_clear()
    refused = post(HttpClient(), CHECKIN, checkin_body(heartbeat(6)), first["credential"])
    assert (refused.status_code, refused.json()["code"]) == (401, "credential_revoked")
    assert Agent.objects.get(device_id=first["device_id"]).last_seq == 0
    accepted = post(HttpClient(), CHECKIN, checkin_body(heartbeat(1)), second["credential"])
    assert accepted.json()["ack_seq"] == 1


def test_same_machine_id_in_another_client_is_another_device(client_a: Client) -> None:
    # given client B
    client_b = Client.objects.create(name="Garage Perrin", status="active")
    # when the same machine id enrolls in both
    a, b = enroll(client_a), enroll(client_b)
    # then they are two devices, one per client
    assert a["device_id"] != b["device_id"]
    assert sorted(Device.objects.values_list("client_id", flat=True)) == sorted([client_a.pk, client_b.pk])


def test_enroll_body_is_strict(client_a: Client) -> None:
    _token, plain = new_token(client_a)
    response = post(HttpClient(), ENROLL, enroll_body(plain, client_id=999))
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert "client_id" in response.json()["errors"]
    assert Device.objects.count() == 0


# --- Check-in: authentication and identity -------------------------------------------------------


def test_checkin_applies_items_and_answers_after_commit(agent_a: dict[str, Any]) -> None:
    # given an enrolled agent
    # when it checks in with a heartbeat, metrics and two check results
    response = post(HttpClient(), CHECKIN, checkin_body(heartbeat(101), metrics(102), result(103),
                                                        result(104, check_id=8, status="fail", value=None,
                                                               message="service stopped")),
                    agent_a["credential"])
    # then every item is stored on its device and acknowledged
    assert response.status_code == 200
    body = response.json()
    assert (body["ack_seq"], body["jobs"], body["checkin_interval"]) == (104, [], 60)
    device = Device.objects.get(pk=agent_a["device_id"])
    # the agent sent no policy version, so it gets the current policy from the registered provider
    expected = hooks.policy_for_device(device)
    assert body["policy"] == (expected[1] if expected else None)
    assert device.uptime_seconds == 86400 and device.last_seen_at is not None
    assert list(MetricSample.objects.values_list("device_id", "cpu_pct", "mem_pct", "disk_min_free_pct", "at")) == [
        (device.pk, 12.5, 41.0, 18.5, AT_DT)]
    assert sorted(CheckResult.objects.values_list("device_id", "client_id", "check_id", "status", "value", "message",
                                                  "seq")) == [
        (device.pk, device.client_id, 7, 0, 63.2, "63.2 % free on /", 103),
        (device.pk, device.client_id, 8, 2, None, "service stopped", 104)]
    agent = Agent.objects.get(device=device)
    assert (agent.last_seq, agent.agent_version) == (104, "0.1.0")
    assert AgentCredential.objects.get(device=device).last_used_at is not None


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer tfa_zz_short", "Token tfa_00000000_" + "a" * 43,
                                    "Bearer tfe_00000000_" + "a" * 43, "Bearer tfa_00000000_" + "a" * 43])
def test_checkin_without_a_valid_credential_is_401(agent_a: dict[str, Any], header: str) -> None:
    # given a state to compare with
    before = written()
    # when a request comes with a missing, malformed, wrong-kind or unknown credential
    http = HttpClient()
    response = http.post(CHECKIN, data=json.dumps(checkin_body(heartbeat(1))), content_type="application/json",
                         **({"HTTP_AUTHORIZATION": header} if header else {}))
    # then 401 credential_invalid and nothing written
    assert (response.status_code, response.json()["code"]) == (401, "credential_invalid")
    assert written() == before


def test_forged_secret_with_a_real_prefix_is_refused(agent_a: dict[str, Any]) -> None:
    # given a credential whose secret part is changed
    real = agent_a["credential"]
    forged = real[:13] + ("x" if real[13] != "x" else "y") + real[14:]
    before = written()
    # when it is used
    response = post(HttpClient(), CHECKIN, checkin_body(heartbeat(1)), forged)
    # then it is refused like an unknown one (not "revoked": that is said only to the secret's holder)
    assert (response.status_code, response.json()["code"]) == (401, "credential_invalid")
    assert written() == before


def test_revoked_credential_is_401_within_the_cache_ttl(agent_a: dict[str, Any], settings: Any) -> None:
    # given an agent whose credential is cached by a first check-in
    assert post(HttpClient(), CHECKIN, checkin_body(heartbeat(1)), agent_a["credential"]).status_code == 200
    # when staff revoke it in another process (the cache here is not told) and the TTL passes
    AgentCredential.objects.update(revoked_at=timezone.now())
    settings.TENFOLD_AGENT_CREDENTIAL_CACHE_SECONDS = 0
    before = written()
    response = post(HttpClient(), CHECKIN, checkin_body(heartbeat(2)), agent_a["credential"])
    # then the agent is told its credential is revoked and nothing is written
    assert (response.status_code, response.json()["code"]) == (401, "credential_revoked")
    assert written() == before


def test_another_clients_credential_only_ever_reaches_its_own_device(client_a: Client) -> None:
    # given agents of client A and client B
    a = enroll(client_a, machine_id="machine-a", hostname="pc-a")
    client_b = Client.objects.create(name="Garage Perrin", status="active")
    b = enroll(client_b, machine_id="machine-b", hostname="pc-b")
    # when B's agent checks in with results (whatever it claims)
    response = post(HttpClient(), CHECKIN, checkin_body(result(1, check_id=99)), b["credential"])
    # then they are stored on B's device only; A's device is untouched
    assert response.status_code == 200
    assert list(CheckResult.objects.values_list("device_id", "client_id")) == [(b["device_id"], client_b.pk)]
    assert Device.objects.get(pk=a["device_id"]).last_seen_at is None
    assert Agent.objects.get(device_id=a["device_id"]).last_seq == 0


@pytest.mark.parametrize("field", ["device_id", "client_id", "machine_id"])
def test_a_body_naming_a_device_is_refused(agent_a: dict[str, Any], field: str) -> None:
    # given a body that tries to name another device
    before = written()
    body = checkin_body(heartbeat(1), **{field: 1})
    # when it is sent
    response = post(HttpClient(), CHECKIN, body, agent_a["credential"])
    # then it is refused as an unknown field, and nothing is written
    assert response.status_code == 422
    assert response.json()["errors"] == {field: ["Extra inputs are not permitted"]}
    assert written() == before


def test_an_item_naming_a_device_is_refused_by_its_seq(agent_a: dict[str, Any]) -> None:
    before = written()
    item = heartbeat(1)
    item["data"]["device_id"] = 42
    response = post(HttpClient(), CHECKIN, checkin_body(item), agent_a["credential"])
    assert response.status_code == 422
    assert response.json()["errors"] == {"seq:1": ["data.device_id: Extra inputs are not permitted"]}
    assert written() == before


# --- Check-in: bad bodies -----------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    b"", b"not json", b'{"agent_version": "0.1.0", "items": [', b"\xff\xfe\x00", b"[]", b"null", b'"items"',
    b'{"agent_version": "0.1.0", "items": [{"seq": 1, "kind": "metrics", "at": "2026-11-26T16:01:00Z",'
    b' "data": {"cpu_pct": NaN}}]}',
    json.dumps(checkin_body(heartbeat(2), heartbeat(1))).encode(),  # seq not increasing
    json.dumps(checkin_body(heartbeat(1), heartbeat(1))).encode(),  # seq repeated
    json.dumps(checkin_body(heartbeat(0))).encode(),  # seq below 1
    json.dumps(checkin_body({"seq": 1, "kind": "telepathy", "at": "2026-11-26T16:01:00Z", "data": {}})).encode(),
    json.dumps(checkin_body({**heartbeat(1), "at": "2026-11-26T16:01:00"})).encode(),  # naive time
    json.dumps(checkin_body({**heartbeat(1), "at": "9999-12-31T23:59:59-12:00"})).encode(),
    json.dumps(checkin_body(result(1, message="x" * 501))).encode(),
    json.dumps(checkin_body(result(1, message="nul\x00byte"))).encode(),
    json.dumps(checkin_body(result(1, status="ok"))).encode(),
    json.dumps(checkin_body(result(1, value=1e300))).encode(),
    json.dumps(checkin_body(*[heartbeat(i) for i in range(1, 502)])).encode(),  # 501 items
    json.dumps({"items": []}).encode(),  # agent_version missing
], ids=lambda b: repr(b[:40]))
def test_invalid_checkin_is_422_and_writes_nothing(agent_a: dict[str, Any], body: bytes) -> None:
    # given a state to compare with
    before = written()
    # when an invalid body arrives with a valid credential
    response = post(HttpClient(), CHECKIN, body, agent_a["credential"])
    # then 422 validation_error with {code, message}, and nothing written
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error" and response.json()["message"]
    assert written() == before


def test_oversized_body_is_413_and_writes_nothing(agent_a: dict[str, Any], settings: Any) -> None:
    # given a body above the 1 MiB limit
    before = written()
    body = json.dumps(checkin_body(result(1, message="x" * 400), pad="y" * (1024 * 1024)))
    # when it is sent
    response = post(HttpClient(), CHECKIN, body, agent_a["credential"])
    # then 413 request_too_large, nothing written
    assert (response.status_code, response.json()["code"]) == (413, "request_too_large")
    assert written() == before


def test_truncated_bodies_are_refused(agent_a: dict[str, Any]) -> None:
    # given a valid body cut at many places
    full = json.dumps(checkin_body(heartbeat(1), metrics(2), result(3))).encode()
    before = written()
    for cut in range(0, len(full) - 1, 7):
        # when a truncated body arrives
        response = post(HttpClient(), CHECKIN, full[:cut], agent_a["credential"])
        # then it is refused and nothing is written
        assert response.status_code == 422, (cut, response.content)
    assert written() == before


def test_get_is_405(agent_a: dict[str, Any]) -> None:
    response = HttpClient().get(CHECKIN)
    assert (response.status_code, response.json()["code"], response["Allow"]) == (405, "method_not_allowed", "POST")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12)


@given(value=json_values, where=st.sampled_from(["envelope", "item", "data", "replace_item", "whole"]),
       key=st.sampled_from(["seq", "kind", "at", "data", "agent_version", "items", "check_id", "status", "value",
                            "message", "uptime_s", "cpu_pct", "disks", "extra"]))
def test_generated_bodies_are_4xx_or_applied_never_5xx(agent_a: dict[str, Any], value: Any, where: str,
                                                       key: str) -> None:
    # given a valid body with one part replaced by a generated JSON value
    body: Any = checkin_body(heartbeat(1_000_000), metrics(1_000_001), result(1_000_002))
    if where == "envelope":
        body[key] = value
    elif where == "item":
        body["items"][2][key] = value
    elif where == "data":
        body["items"][2]["data"][key] = value
    elif where == "replace_item":
        body["items"][1] = value
    else:
        body = value
    before = written()
    # when it is sent
    response = post(HttpClient(), CHECKIN, json.dumps(body), agent_a["credential"])
    # then it is applied (200) or refused (422) with nothing written; never a server error
    assert response.status_code in (200, 422), response.content
    if response.status_code == 422:
        assert response.json()["code"] == "validation_error"
        assert written() == before


# --- Check-in: sequence numbers -------------------------------------------------------------------


def test_replayed_checkin_is_applied_once(agent_a: dict[str, Any]) -> None:
    # given a check-in that was applied, but whose answer the agent never received
    body = checkin_body(heartbeat(11), metrics(12), result(13), result(14))
    first = post(HttpClient(), CHECKIN, body, agent_a["credential"])
    assert first.json()["ack_seq"] == 14
    # when the agent sends exactly the same items again, then more with new ones
    replay = post(HttpClient(), CHECKIN, body, agent_a["credential"])
    overlap = post(HttpClient(), CHECKIN, checkin_body(result(14), result(15)), agent_a["credential"])
    # then every item is stored exactly once and the acknowledged seq only moves forward
    assert (replay.status_code, replay.json()["ack_seq"]) == (200, 14)
    assert overlap.json()["ack_seq"] == 15
    assert sorted(CheckResult.objects.values_list("seq", flat=True)) == [13, 14, 15]
    assert MetricSample.objects.count() == 1
    assert Agent.objects.get(device_id=agent_a["device_id"]).last_seq == 15


def test_empty_checkin_acknowledges_the_current_seq(agent_a: dict[str, Any]) -> None:
    post(HttpClient(), CHECKIN, checkin_body(heartbeat(3)), agent_a["credential"])
    response = post(HttpClient(), CHECKIN, checkin_body(), agent_a["credential"])
    assert response.json()["ack_seq"] == 3


def test_checkin_of_five_results_and_a_heartbeat_has_a_query_budget(agent_a: dict[str, Any]) -> None:
    # given an agent that has checked in once (credential cached, first use recorded)
    http = HttpClient()
    post(http, CHECKIN, checkin_body(heartbeat(1)), agent_a["credential"])
    body = checkin_body(heartbeat(2), *[result(seq, check_id=seq) for seq in range(3, 8)])
    # when it checks in with a heartbeat and five check results
    with CaptureQueriesContext(connection) as captured:
        response = post(http, CHECKIN, body, agent_a["credential"])
    # then at most 8 queries ran (in the test's transaction that includes SAVEPOINT and RELEASE)
    assert response.status_code == 200
    assert CheckResult.objects.count() == 5
    assert len(captured) <= 8, "\n".join(q["sql"] for q in captured.captured_queries)


def test_query_budget_does_not_grow_with_results(agent_a: dict[str, Any]) -> None:
    http = HttpClient()
    post(http, CHECKIN, checkin_body(heartbeat(1)), agent_a["credential"])

    def queries(first_seq: int, count: int) -> int:
        body = checkin_body(*[result(seq) for seq in range(first_seq, first_seq + count)])
        with CaptureQueriesContext(connection) as captured:
            assert post(http, CHECKIN, body, agent_a["credential"]).status_code == 200
        return len(captured)

    # (100 rows stay within one multi-row INSERT on SQLite too, whose statements take at most 999 parameters)
    assert queries(10, 5) == queries(100, 100)


# --- Check-in: inventory, posture, jobs --------------------------------------------------------------


def inventory(seq: int, software: list[dict[str, Any]]) -> dict[str, Any]:
    return {"seq": seq, "kind": "inventory", "at": "2026-11-26T16:05:00Z", "data": {
        "hardware": {"hostname": "pc-compta-01", "vendor": "Dell Inc.", "model": "OptiPlex 7010",
                     "serial_number": "5CG1234XYZ", "cpu_model": "Intel Core i5-13500", "cpu_cores": 14,
                     "memory_bytes": 17179869184,
                     "os": {"family": "windows", "name": "Windows 11 Pro", "version": "23H2"},
                     "disks": [{"mount": "C:", "fs": "NTFS", "total_bytes": 512110190592,
                                "free_bytes": 300000000000}],
                     "network_interfaces": [{"name": "Ethernet", "mac": "00:11:22:33:44:55",
                                             "ipv4": ["192.168.1.23"]}],
                     "logged_in_user": "CORP\\cmartin"},
        "software": software}}


def test_inventory_sets_hardware_and_replaces_software_with_history(agent_a: dict[str, Any]) -> None:
    # given a first inventory (a baseline: no change history)
    credential = agent_a["credential"]
    post(HttpClient(), CHECKIN, checkin_body(inventory(1, [
        {"name": "Mozilla Firefox", "version": "127.0", "publisher": "Mozilla"},
        {"name": "7-Zip", "version": "23.01", "publisher": "Igor Pavlov", "installed_on": "2024-02-01"},
        {"name": "Adobe Acrobat Reader", "version": "24.1", "publisher": "Adobe"}])), credential)
    device = Device.objects.get(pk=agent_a["device_id"])
    assert (device.vendor, device.model, device.serial_number, device.cpu_cores, device.memory_bytes) == (
        "Dell Inc.", "OptiPlex 7010", "5CG1234XYZ", 14, 17179869184)
    assert (device.os_family, device.os_name, device.os_version, device.logged_in_user) == (
        "windows", "Windows 11 Pro", "23H2", "CORP\\cmartin")
    assert device.disks[0]["mount"] == "C:" and device.network_interfaces[0]["ipv4"] == ["192.168.1.23"]
    assert SoftwareChange.objects.count() == 0
    # when a later inventory updates Firefox, removes Acrobat and adds LibreOffice
    post(HttpClient(), CHECKIN, checkin_body(inventory(2, [
        {"name": "Mozilla Firefox", "version": "128.0.3", "publisher": "Mozilla"},
        {"name": "7-Zip", "version": "23.01", "publisher": "Igor Pavlov", "installed_on": "2024-02-01"},
        {"name": "LibreOffice", "version": "24.2", "publisher": "The Document Foundation"}])), credential)
    # then the software set is the new one and the history says exactly what changed
    assert sorted(SoftwareItem.objects.values_list("name", "version")) == [
        ("7-Zip", "23.01"), ("LibreOffice", "24.2"), ("Mozilla Firefox", "128.0.3")]
    assert sorted(SoftwareChange.objects.values_list("change", "name", "version_before", "version_after")) == [
        ("added", "LibreOffice", "", "24.2"), ("removed", "Adobe Acrobat Reader", "24.1", ""),
        ("updated", "Mozilla Firefox", "127.0", "128.0.3")]


def test_unchanged_inventory_only_touches_its_time(agent_a: dict[str, Any]) -> None:
    # given an inventory already received
    software = [{"name": "7-Zip", "version": "23.01", "publisher": "Igor Pavlov"}]
    post(HttpClient(), CHECKIN, checkin_body(inventory(1, software)), agent_a["credential"])
    ids = list(SoftwareItem.objects.values_list("pk", flat=True))
    # when the same inventory arrives again (the daily resend)
    post(HttpClient(), CHECKIN, checkin_body(inventory(2, software)), agent_a["credential"])
    # then the software rows are the very same and no change is recorded
    assert list(SoftwareItem.objects.values_list("pk", flat=True)) == ids
    assert SoftwareChange.objects.count() == 0


def test_posture_sets_the_devices_security_fields(agent_a: dict[str, Any]) -> None:
    # when the agent reports its security posture
    post(HttpClient(), CHECKIN, checkin_body({"seq": 1, "kind": "posture", "at": "2026-11-26T16:01:00Z", "data": {
        "antivirus": {"product": "Microsoft Defender", "state": "running",
                      "definitions_at": "2026-11-26T06:00:00Z"},
        "firewall": {"state": "on"}, "pending_updates": 3,
        "backup": {"tool": "restic", "last_success": "2026-11-26T02:00:00Z"}}}), agent_a["credential"])
    # then the device shows it
    device = Device.objects.get(pk=agent_a["device_id"])
    assert (device.antivirus_product, device.antivirus_state, device.firewall_state, device.pending_updates,
            device.backup_tool) == ("Microsoft Defender", "running", "on", 3, "restic")
    assert device.antivirus_definitions_at.isoformat() == "2026-11-26T06:00:00+00:00"
    assert device.last_backup_at.isoformat() == "2026-11-26T02:00:00+00:00"


def test_pending_jobs_ride_on_the_answer_and_results_come_back(agent_a: dict[str, Any]) -> None:
    # given a queued job for the device, and one for another device
    device = Device.objects.get(pk=agent_a["device_id"])
    job = Job.objects.create(client=device.client, device=device, kind="script", payload={"script_id": 3})
    other = Device.objects.create(client=device.client, name="OTHER")
    other_job = Job.objects.create(client=device.client, device=other, kind="script")
    # when the agent checks in
    answer = post(HttpClient(), CHECKIN, checkin_body(heartbeat(1)), agent_a["credential"]).json()
    # then only its job is in the answer, and it is now "sent"
    assert answer["jobs"] == [{"id": job.pk, "kind": "script", "payload": {"script_id": 3}}]
    assert Job.objects.get(pk=job.pk).status == "sent" and Job.objects.get(pk=other_job.pk).status == "queued"
    # when it reports results for its job and (wrongly) for the other device's job
    big = "o" * (70 * 1024)
    post(HttpClient(), CHECKIN, checkin_body(
        {"seq": 2, "kind": "job_result", "at": "2026-11-26T16:02:00Z", "data": {
            "job_id": job.pk, "status": "succeeded", "exit_code": 0, "stdout": big, "stderr": "",
            "duration_ms": 5321}},
        {"seq": 3, "kind": "job_result", "at": "2026-11-26T16:02:00Z", "data": {
            "job_id": other_job.pk, "status": "failed", "exit_code": 1}}), agent_a["credential"])
    # then its job is finished with output capped at 64 KiB; the other job is untouched
    done = Job.objects.get(pk=job.pk)
    assert (done.status, done.exit_code, len(done.stdout), done.duration_ms) == ("succeeded", 0, 65536, 5321)
    assert done.finished_at is not None
    assert Job.objects.get(pk=other_job.pk).status == "queued"


# --- Credential rotation ----------------------------------------------------------------------------


def test_rotation_hands_a_new_credential_and_retires_the_old_after_first_use(agent_a: dict[str, Any]) -> None:
    # given an agent that has checked in, and staff who asked for a rotation
    from tenfold.accounts.testing import make_staff
    from tenfold.agents.services import credential_rotate

    old = agent_a["credential"]
    post(HttpClient(), CHECKIN, checkin_body(heartbeat(1)), old)
    credential_rotate(actor=make_staff("admin", mfa=False), device=Device.objects.get(pk=agent_a["device_id"]))
    # when the agent checks in, the answer carries a new credential
    lost = post(HttpClient(), CHECKIN, checkin_body(heartbeat(2)), old).json()["rotate_credential"]
    assert lost.startswith("tfa_") and lost != old
    # when that answer is lost: the agent checks in with the old one, which still works, and gets another
    auth.cache_clear()
    retry = post(HttpClient(), CHECKIN, checkin_body(heartbeat(3)), old)
    new = retry.json()["rotate_credential"]
    assert retry.status_code == 200 and new not in (old, lost)
    auth.cache_clear()
    never_used = post(HttpClient(), CHECKIN, checkin_body(heartbeat(4)), lost)
    assert (never_used.status_code, never_used.json()["code"]) == (401, "credential_revoked")
    # when the agent uses the new one
    assert post(HttpClient(), CHECKIN, checkin_body(heartbeat(5)), new).status_code == 200
    auth.cache_clear()
    # then the old one is revoked, the rotation is over, and one credential is active
    refused = post(HttpClient(), CHECKIN, checkin_body(heartbeat(6)), old)
    assert (refused.status_code, refused.json()["code"]) == (401, "credential_revoked")
    assert "rotate_credential" not in post(HttpClient(), CHECKIN, checkin_body(heartbeat(7)), new).json()
    assert AgentCredential.objects.filter(device_id=agent_a["device_id"], revoked_at__isnull=True).count() == 1
    assert Agent.objects.get(device_id=agent_a["device_id"]).rotation_requested_at is None


def test_reenrolling_a_retired_device_puts_it_back_in_onboarding(client_a: Client) -> None:
    # given a retired enrolled device
    first = enroll(client_a)
    Device.objects.filter(pk=first["device_id"]).update(state=DeviceState.RETIRED)
    # when it enrolls again
    enroll(client_a)
    # then it is onboarding again, with the move in its history
    assert Device.objects.get(pk=first["device_id"]).state == "onboarding"
    assert DeviceStateChange.objects.filter(device_id=first["device_id"], from_state="retired",
                                            to_state="onboarding").count() == 1


def test_inventory_differing_only_in_uptime_and_user_keeps_the_software_rows(agent_a: dict[str, Any]) -> None:
    """Regression: uptime and the logged-in user changed the inventory hash, so every inventory rewrote
    the whole software set. They are volatile: written to the device, left out of the hash."""
    # given an inventory already received
    software = [{"name": "7-Zip", "version": "23.01", "publisher": "Igor Pavlov"}]
    first = inventory(1, software)
    first["data"]["hardware"]["uptime_s"] = 3600
    post(HttpClient(), CHECKIN, checkin_body(first), agent_a["credential"])
    ids = list(SoftwareItem.objects.values_list("pk", flat=True))
    # when the next one differs only in uptime and logged-in user
    second = inventory(2, software)
    second["data"]["hardware"].update(uptime_s=7200, logged_in_user="CORP\\lfontaine")
    post(HttpClient(), CHECKIN, checkin_body(second), agent_a["credential"])
    # then the software rows are untouched, but the device shows the new user and uptime
    device = Device.objects.get(pk=agent_a["device_id"])
    assert list(SoftwareItem.objects.values_list("pk", flat=True)) == ids
    assert (device.logged_in_user, device.uptime_seconds) == ("CORP\\lfontaine", 7200)
