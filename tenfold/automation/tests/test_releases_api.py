"""The REST API of agent releases: multipart upload, refusals with clear messages and nothing stored, the
publish and roll-out rules, and the upload's role matrix (the generated suite sends JSON bodies only)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client as HttpClient

from tenfold.accounts.testing import bearer, make_api_token, make_portal_user, make_staff
from tenfold.agents.models import Job
from tenfold.automation.models import AgentRelease, AgentReleaseSignature
from tenfold.automation.tests.factories import Key, managed_device, register
from tenfold.automation.tests.release_factories import published, upload, wheel, with_agent
from tenfold.clients.models import Client
from tenfold.core.models import AuditEntry
from tenfold.core.roles import Role

pytestmark = pytest.mark.django_db


def call(user: Any, method: str, path: str, body: Any = None) -> Any:
    payload = json.dumps(body) if body is not None else None
    return getattr(HttpClient(), method)(f"/api/v1{path}", data=payload, content_type="application/json",
                                         **bearer(make_api_token(user)))


def post_wheel(user: Any | None, version: str, name: str, data: bytes, notes: str = "") -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    headers = bearer(make_api_token(user)) if user is not None else {}
    return HttpClient().post("/api/v1/agent-releases", {
        "version": version, "notes": notes, "file": SimpleUploadedFile(name, data)}, **headers)


def test_upload_a_wheel_then_read_it_back() -> None:
    admin = make_staff(Role.ADMIN)
    name, data = wheel("0.2.0")
    response = post_wheel(admin, "0.2.0", name, data, notes="Faster check-ins")
    assert response.status_code == 201, response.content
    body = response.json()
    release = AgentRelease.objects.get()
    assert {k: body[k] for k in ("id", "version", "file_name", "sha256", "size", "notes", "status", "signatures")} == {
        "id": release.pk, "version": "0.2.0", "file_name": name, "sha256": release.sha256, "size": len(data),
        "notes": "Faster check-ins", "status": "draft", "signatures": []}
    assert body["document"] == release.document
    assert call(admin, "get", "/agent-releases/pending").json()["count"] == 1
    download = call(admin, "get", f"/agent-releases/{release.pk}/file")
    assert download.status_code == 200 and download.content == data
    assert download["Content-Type"] == "application/octet-stream"


def test_upload_refusals_are_422_with_the_reason_and_store_nothing() -> None:
    admin = make_staff(Role.ADMIN)
    name, data = wheel("0.2.0")
    cases = [
        (("0.2.0", name, b"not a zip at all"), "This file is not a wheel: it is not a ZIP archive."),
        (("0.2.0", *wheel("0.2.0", name="tenfold-agent-evil")), "This wheel is the package “tenfold-agent-evil”, not "
                                                              "tenfold-agent."),
        (("0.2.1", name, data), "The wheel is version 0.2.0, not 0.2.1."),
    ]
    for (version, file_name, payload), message in cases:
        response = post_wheel(admin, version, file_name, payload)
        assert response.status_code == 422, response.content
        assert response.json()["message"] == message
        assert response.json()["errors"] == {"file": [message]}
    missing = HttpClient().post("/api/v1/agent-releases", {"version": "0.2.0"}, **bearer(make_api_token(admin)))
    assert missing.status_code == 422
    assert not AgentRelease.objects.exists() and not AuditEntry.objects.filter(action__startswith="agent_").exists()


def test_upload_is_refused_to_roles_without_the_right() -> None:
    # given every kind of user who may not change the MSP's library
    client = Client.objects.create(name="Client A")
    refused = [make_staff(Role.ACCOUNT_MANAGER), make_staff(Role.FINANCE),
               make_staff(Role.TECHNICIAN, clients=[client], restricted=True),
               make_portal_user(client, Role.PORTAL_ADMIN), make_portal_user(client, Role.PORTAL_USER)]
    name, data = wheel("0.2.0")
    # when each uploads a valid wheel: 403; anonymous: 401
    for user in refused:
        response = post_wheel(user, "0.2.0", name, data)
        assert response.status_code == 403, (user.role, response.content)
    assert post_wheel(None, "0.2.0", name, data).status_code == 401
    # then nothing was stored or audited
    assert not AgentRelease.objects.exists() and not AuditEntry.objects.filter(action__startswith="agent_").exists()
    # and every role with the right may
    for version, role in (("0.2.0", Role.OWNER), ("0.2.1", Role.SERVICE_MANAGER), ("0.2.2", Role.TECHNICIAN)):
        assert post_wheel(make_staff(role), version, *wheel(version)).status_code == 201


def test_signature_publish_and_withdraw_over_the_api() -> None:
    admin = make_staff(Role.ADMIN)
    key, other = Key(), Key()
    register(admin, key, admin)
    release = upload(admin)
    early = call(admin, "post", f"/agent-releases/{release.pk}/publish")
    assert early.status_code == 409 and early.json()["message"] == (
        "This release has no signature by an active key: an approver must sign it with tenfold sign first.")
    wrong = call(admin, "post", f"/agent-releases/{release.pk}/signatures",
                 {"key_id": key.key_id, "signature": other.sign(release.document.encode())})
    assert wrong.status_code == 422 and not AgentReleaseSignature.objects.exists()
    technician = make_staff(Role.TECHNICIAN)
    denied = call(technician, "post", f"/agent-releases/{release.pk}/signatures",
                  {"key_id": key.key_id, "signature": key.sign(release.document.encode())})
    assert denied.status_code == 403 and denied.json()["message"] == "Your role may not sign agent releases."
    right = call(admin, "post", f"/agent-releases/{release.pk}/signatures",
                 {"key_id": key.key_id, "signature": key.sign(release.document.encode())})
    assert right.status_code == 201 and right.json()["key_id"] == key.key_id and right.json()["key_active"] is True
    assert call(technician, "post", f"/agent-releases/{release.pk}/publish").status_code == 403
    done = call(admin, "post", f"/agent-releases/{release.pk}/publish")
    assert done.status_code == 200 and done.json()["status"] == "published"
    gone = call(admin, "post", f"/agent-releases/{release.pk}/withdraw")
    assert gone.status_code == 200 and gone.json()["status"] == "withdrawn"
    again = call(admin, "post", f"/agent-releases/{release.pk}/publish")
    assert again.status_code == 409 and again.json()["message"] == (
        "This release was withdrawn: upload a new version instead.")


def test_rollout_over_the_api_and_another_clients_device_is_404_with_nothing_queued() -> None:
    admin = make_staff(Role.ADMIN)
    key = Key()
    register(admin, key, admin)
    release = published(admin, key)
    mine, theirs = Client.objects.create(name="Mine"), Client.objects.create(name="Theirs")
    ok = with_agent(managed_device(mine, "PC-1"), "0.1.0")
    other = with_agent(managed_device(theirs, "PC-2"), "0.1.0")
    technician = make_staff(Role.TECHNICIAN, clients=[mine], restricted=True)
    for body in ({"device_ids": [ok.pk, other.pk]}, {"device_ids": [other.pk]}, {"client_id": theirs.pk}):
        response = call(technician, "post", f"/agent-releases/{release.pk}/rollout", body)
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert not Job.objects.exists()
    bad = call(technician, "post", f"/agent-releases/{release.pk}/rollout", {})
    assert bad.status_code == 422 and bad.json()["message"] == "Name either devices or one client."
    response = call(technician, "post", f"/agent-releases/{release.pk}/rollout", {"client_id": mine.pk})
    assert response.status_code == 201
    [job] = response.json()
    assert (job["device_id"], job["client_id"], job["device_name"], job["status"]) == (ok.pk, mine.pk, "PC-1",
                                                                                        "queued")
    # the release's jobs, as each sees them
    call(admin, "post", f"/agent-releases/{release.pk}/rollout", {"device_ids": [other.pk]})
    assert [j["device_name"] for j in call(technician, "get", f"/agent-releases/{release.pk}/jobs").json()["items"]] \
        == ["PC-1"]
    assert sorted(j["device_name"] for j in call(admin, "get", f"/agent-releases/{release.pk}/jobs").json()["items"]) \
        == ["PC-1", "PC-2"]


def test_list_filters_by_status() -> None:
    admin = make_staff(Role.ADMIN)
    key = Key()
    register(admin, key, admin)
    upload(admin, "0.2.0")
    published(admin, key, "0.3.0")
    listed = call(admin, "get", "/agent-releases?status=published").json()
    assert [r["version"] for r in listed["items"]] == ["0.3.0"]
    assert [r["version"] for r in call(admin, "get", "/agent-releases").json()["items"]] == ["0.3.0", "0.2.0"]
    wrong = call(admin, "get", "/agent-releases?status=bogus")
    assert wrong.status_code == 422
