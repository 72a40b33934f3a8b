"""Scripts run before and after installing updates, per approval policy: the install job carries the newest
signed version of each; a script that cannot be sent any more stops that device's install with the reason;
only signed, unattended scripts for the policy's systems may be chosen, on the panel and through the API."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import pytest
from django.test import Client as HttpClient

from tenfold.accounts.testing import make_staff
from tenfold.agents.models import Job
from tenfold.automation import patch_scripts, services
from tenfold.automation.models import PatchPolicyScripts, Script
from tenfold.automation.tests.factories import Key, make_script, register, sign
from tenfold.core.errors import Conflict, ValidationError
from tenfold.core.models import AuditEntry
from tenfold.core.roles import Role
from tenfold.patching import services as patching_services
from tenfold.patching.models import ApprovalPolicy, DeviceUpdate, InstallRun
from tenfold.patching.tests.factories import make_client, make_device, make_policy, make_update, missing

pytestmark = pytest.mark.django_db

STOP_DB = '#!/bin/sh\nsystemctl stop "$TF_SERVICE"\n'
START_DB = '#!/bin/sh\nsystemctl start "$TF_SERVICE"\n'
WITH_DEFAULT = [{"name": "service", "label": "Service", "type": "string", "required": True,
                 "default": "postgresql"}]
OPEN_WINDOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture
def world() -> dict[str, Any]:
    owner = make_staff(Role.OWNER, mfa=False)
    key = Key()
    register(owner, key, owner)
    client, other = make_client("Fournil Dupont"), make_client("Garage Petit")
    device = make_device(client, name="SRV-DB-01")
    update = make_update("openssl", category="security", version="3.0.13")
    missing(device, update)
    policy = make_policy("client", client=client, window_days=[0, 1, 2, 3, 4, 5, 6], window_start=time(0, 0),
                         window_end=time(23, 59), reboot="if_required", reboot_deferrals=1, reboot_defer_minutes=30)
    other_policy = make_policy("client", client=other, name="Garage policy")
    patching_services.decision_set(actor=owner, update=update, client=None, decision="approved")
    pre = signed(owner, key, "Stop the database", STOP_DB, WITH_DEFAULT)
    post = signed(owner, key, "Start the database", START_DB, WITH_DEFAULT)
    return {"owner": owner, "key": key, "client": client, "other": other, "device": device, "update": update,
            "policy": policy, "other_policy": other_policy, "pre": pre, "post": post}


def signed(owner: Any, key: Key, name: str, body: str, parameters: list[dict[str, Any]],
           **fields: Any) -> Script:
    script = make_script(owner, name=name, body=body, parameters=parameters, **fields)
    sign(script.versions.get(), key, owner)
    return script


def expected_script(script: Script, key: Key) -> dict[str, Any]:
    version = script.versions.get(number=1)
    return {"script_id": script.pk, "version": 1, "name": script.name, "document": version.document,
            "signatures": [{"key_id": key.key_id, "signature": version.signatures.get().signature}],
            "body": version.body, "parameters": {"service": "postgresql"}, "secret_names": []}


def test_the_install_job_carries_the_signed_scripts_before_and_after(world: dict[str, Any]) -> None:
    # given a policy whose installs run "Stop the database" before and "Start the database" after
    patch_scripts.policy_scripts_set(actor=world["owner"], policy=world["policy"], pre_script=world["pre"],
                                     post_script=world["post"])
    # when the schedule runs inside the window
    assert len(patching_services.schedule_installs(OPEN_WINDOW)) == 1
    # then the job carries both as run_script payloads of their signed version, with the parameter's default
    payload = Job.objects.get().payload
    assert sorted(payload) == ["post_script", "pre_script", "reboot", "reboot_defer_minutes", "reboot_deferrals",
                               "updates", "window_ends_at"]
    assert payload["pre_script"] == expected_script(world["pre"], world["key"])
    assert payload["post_script"] == expected_script(world["post"], world["key"])
    assert payload["pre_script"]["body"] == STOP_DB
    assert (payload["reboot_deferrals"], payload["reboot_defer_minutes"]) == (1, 30)


def test_a_revoked_version_stops_the_install_and_records_why(world: dict[str, Any]) -> None:
    # given a pre-install script whose only signed version is then revoked
    patch_scripts.policy_scripts_set(actor=world["owner"], policy=world["policy"], pre_script=world["pre"],
                                     post_script=None)
    services.version_revoke(actor=world["owner"], version=world["pre"].versions.get())
    # when the schedule runs inside the window, twice
    assert patching_services.schedule_installs(OPEN_WINDOW) == []
    assert patching_services.schedule_installs(OPEN_WINDOW) == []
    # then nothing is queued; the window's run and the update say why, once
    reason = "Not installed: The script before installing, Stop the database, has no signed version any more."
    assert Job.objects.count() == 0
    run = InstallRun.objects.get()
    assert (run.status, run.job_id, run.message, run.recorded_at is not None) == ("failed", None, reason, True)
    du = DeviceUpdate.objects.get()
    assert (du.state, du.message, du.last_job_id) == ("failed", reason, None)


def test_a_revoked_signing_key_stops_the_install(world: dict[str, Any]) -> None:
    # given a second key, and the first (which signed the post-install script) revoked by it
    owner, first = world["owner"], world["key"]
    second = Key()
    register(owner, second, owner, by=first, name="Second")
    patch_scripts.policy_scripts_set(actor=owner, policy=world["policy"], pre_script=None,
                                     post_script=world["post"])
    services.signing_key_revoke(actor=owner, key=first_key(first), revoked_by=second.key_id,
                                signature=second.revoke(first))
    # when the schedule runs
    assert patching_services.schedule_installs(OPEN_WINDOW) == []
    # then its version went back to awaiting a signature, and the install is not queued, with the reason
    assert Job.objects.count() == 0
    assert InstallRun.objects.get().message == (
        "Not installed: The script after installing, Start the database, has no signed version any more.")


def first_key(key: Key) -> Any:
    from tenfold.automation.models import SigningKey

    return SigningKey.objects.get(key_id=key.key_id)


def test_a_manual_install_carries_the_scripts_and_the_deferral_length(world: dict[str, Any]) -> None:
    patch_scripts.policy_scripts_set(actor=world["owner"], policy=world["policy"], pre_script=world["pre"],
                                     post_script=None)
    payload = services.install_updates_payload(world["device"])
    assert payload is not None
    assert payload["pre_script"] == expected_script(world["pre"], world["key"])
    assert "post_script" not in payload
    assert (payload["updates"], payload["reboot_defer_minutes"]) == (
        [{"source": "apt", "identifier": "openssl", "version": "3.0.13"}], 30)
    # and once the version is revoked a manual install is refused with the reason, queuing nothing
    services.version_revoke(actor=world["owner"], version=world["pre"].versions.get())
    with pytest.raises(Conflict) as caught:
        services.action_run(actor=world["owner"], action="install_updates",
                            target=services.Target(device_ids=[world["device"].pk]))
    assert caught.value.message == "The script before installing, Stop the database, has no signed version any more."
    assert Job.objects.count() == 0


def test_only_signed_unattended_scripts_for_the_policys_systems_may_be_chosen(world: dict[str, Any]) -> None:
    owner, key, policy = world["owner"], world["key"], world["policy"]
    unsigned = make_script(owner, name="Unsigned", body=STOP_DB, parameters=[])
    secret = signed(owner, key, "Needs a password", STOP_DB, [
        {"name": "password", "label": "Password", "type": "secret", "required": False}])
    no_default = signed(owner, key, "Needs a service", STOP_DB, [
        {"name": "service", "label": "Service", "type": "string", "required": True}])
    windows = signed(owner, key, "Windows only", "Stop-Service $env:TF_SERVICE", WITH_DEFAULT,
                     language="powershell", os_families=["windows"])
    cases = [(unsigned, "Unsigned has no signed version."),
             (secret, "Needs a password cannot run unattended: it takes a secret parameter."),
             (no_default, "Needs a service cannot run unattended: a required parameter has no default."),
             (windows, "Windows only does not run on linux.")]
    for script, message in cases:
        with pytest.raises(ValidationError) as caught:
            patch_scripts.policy_scripts_set(actor=owner, policy=policy, pre_script=world["pre"],
                                             post_script=script)
        assert caught.value.errors == {"post_script": [message]}
    assert PatchPolicyScripts.objects.count() == 0
    assert [s.name for s in patch_scripts.eligible_scripts(policy)] == ["Start the database", "Stop the database"]
    # a policy covering no device yet offers every signed unattended script, whatever its systems
    assert [s.name for s in patch_scripts.eligible_scripts(world["other_policy"])] == [
        "Start the database", "Stop the database", "Windows only"]


def logged_in(role: str = Role.SERVICE_MANAGER, **kwargs: Any) -> HttpClient:
    http = HttpClient()
    http.force_login(make_staff(role, **kwargs))
    return http


def test_the_policy_page_panel_offers_and_saves_the_scripts(world: dict[str, Any]) -> None:
    policy = world["policy"]
    signed(world["owner"], world["key"], "Needs a password", STOP_DB, [
        {"name": "password", "label": "Password", "type": "secret", "required": False}])
    http = logged_in()
    url = f"/automation/patch-policies/{policy.pk}/scripts/"
    # the policy page loads the panel from automation
    page = http.get(f"/patching/policies/{policy.pk}/").content.decode()
    assert f'hx-get="{url}"' in page
    # the panel offers the two usable scripts, not the one with a secret parameter
    panel = http.get(url).content.decode()
    assert "Scripts before and after installing" in panel
    assert f'<option value="{world["pre"].pk}">Stop the database</option>' in panel
    assert "Needs a password" not in panel
    # saving the choice (as HTMX) answers with a redirect to the policy page
    answer = http.post(url, {"pre_script": str(world["pre"].pk), "post_script": str(world["post"].pk)},
                       HTTP_HX_REQUEST="true")
    assert (answer.status_code, answer["HX-Redirect"]) == (204, f"/patching/policies/{policy.pk}/")
    row = PatchPolicyScripts.objects.get()
    assert (row.policy_id, row.client_id, row.pre_script_id, row.post_script_id) == (
        policy.pk, world["client"].pk, world["pre"].pk, world["post"].pk)
    entry = AuditEntry.objects.get(action="approval_policy.scripts_set")
    assert entry.changes == {"pre_script": [None, world["pre"].pk], "post_script": [None, world["post"].pk]}
    assert "signed version 1" in http.get(url).content.decode()
    # a script that is not offered is refused, nothing changed
    refused = http.post(url, {"pre_script": "999999", "post_script": ""})
    assert refused.status_code == 422
    assert PatchPolicyScripts.objects.get().pre_script_id == world["pre"].pk
    # a technician sees the panel without the form, and may not save
    tech = logged_in(Role.TECHNICIAN)
    assert "save-patch-scripts" not in tech.get(url).content.decode()
    assert tech.post(url, {"pre_script": "", "post_script": ""}).status_code == 403
    assert PatchPolicyScripts.objects.get().post_script_id == world["post"].pk


def test_the_api_gets_and_sets_the_scripts_and_refuses_forged_ids(world: dict[str, Any]) -> None:
    policy, pre, post = world["policy"], world["pre"], world["post"]
    http = logged_in()
    path = f"/api/v1/patch-policies/{policy.pk}/scripts"
    assert http.get(path).json() == {"policy_id": policy.pk, "pre_script": None, "post_script": None}
    answer = http.put(path, {"pre_script_id": pre.pk, "post_script_id": post.pk}, content_type="application/json")
    assert answer.status_code == 200
    assert answer.json() == {"policy_id": policy.pk,
                             "pre_script": {"id": pre.pk, "name": "Stop the database", "signed_version": 1},
                             "post_script": {"id": post.pk, "name": "Start the database", "signed_version": 1}}
    # a manager restricted to the other client: the policy does not exist for them
    garage = logged_in(clients=[world["other"]], restricted=True)
    assert garage.get(path).status_code == 404
    assert garage.put(path, {"pre_script_id": None, "post_script_id": None},
                      content_type="application/json").status_code == 404
    # an unknown script id is a 404, an unusable script a 422, an unknown field a 422: nothing changed
    assert http.put(path, {"pre_script_id": 987654, "post_script_id": None},
                    content_type="application/json").status_code == 404
    unsigned = make_script(world["owner"], name="Unsigned", body=STOP_DB, parameters=[])
    bad = http.put(path, {"pre_script_id": unsigned.pk, "post_script_id": None}, content_type="application/json")
    assert (bad.status_code, bad.json()["errors"]) == (422, {"pre_script": ["Unsigned has no signed version."]})
    assert http.put(path, {"pre_script": pre.pk}, content_type="application/json").status_code == 422
    row = PatchPolicyScripts.objects.get()
    assert (row.pre_script_id, row.post_script_id) == (pre.pk, post.pk)
    assert AuditEntry.objects.filter(action="approval_policy.scripts_set").count() == 1
    # the other client's policy keeps no scripts
    assert not PatchPolicyScripts.objects.filter(policy=world["other_policy"]).exists()
    assert ApprovalPolicy.objects.get(pk=policy.pk).name == policy.name


def test_a_script_an_approval_policy_runs_cannot_be_deleted(world: dict[str, Any]) -> None:
    # given "Start the database" run after installing by a policy
    patch_scripts.policy_scripts_set(actor=world["owner"], policy=world["policy"], pre_script=None,
                                     post_script=world["post"])
    audits = AuditEntry.objects.count()
    # when the owner deletes it, then a conflict says where it is used, and the script is still there
    with pytest.raises(Conflict, match="An approval policy runs this script before or after installing updates"):
        services.script_delete(actor=world["owner"], script=world["post"])
    assert Script.objects.filter(pk=world["post"].pk).exists() and AuditEntry.objects.count() == audits
    # and once the policy no longer runs it, it can be deleted
    patch_scripts.policy_scripts_set(actor=world["owner"], policy=world["policy"], pre_script=None, post_script=None)
    services.script_delete(actor=world["owner"], script=world["post"])
    assert not Script.objects.filter(pk=world["post"].pk).exists()
