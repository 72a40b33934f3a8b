"""Agent releases: the wheel checks, signatures, publication, roll-out jobs, the agents' download, the screens,
and `tenfold sign` listing and signing a release against a live server."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from django.test import Client as HttpClient

from tenfold.accounts.testing import make_api_token, make_staff
from tenfold.agents import auth as agent_auth
from tenfold.agents.models import Job
from tenfold.agents.tests.helpers import enroll
from tenfold.automation import releases, signing, signing_cli
from tenfold.automation.models import AgentRelease, AgentReleaseSignature, ReleaseStatus
from tenfold.automation.tests.factories import Key, managed_device, register
from tenfold.automation.tests.release_factories import published, sign_release, upload, wheel, with_agent
from tenfold.clients.models import Client
from tenfold.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from tenfold.core.models import AuditEntry
from tenfold.core.roles import Role

pytestmark = pytest.mark.django_db


def refused_upload(actor: Any, version: str, file_name: str, data: bytes) -> str:
    with pytest.raises(ValidationError) as caught:
        releases.release_upload(actor=actor, version=version, file_name=file_name, data=data)
    assert not AgentRelease.objects.exists()
    return str(caught.value.message)


def test_an_uploaded_wheel_is_stored_with_its_hash_size_and_document() -> None:
    # given an administrator and a wheel of tenfold-agent 0.2.0
    admin = make_staff(Role.ADMIN)
    name, data = wheel("0.2.0")
    # when it is uploaded
    release = releases.release_upload(actor=admin, version="0.2.0", file_name=f"C:\\builds\\{name}", data=data,
                                      notes="Faster check-ins")
    # then the release awaits a signature, its document names the wheel by hash and size
    digest = hashlib.sha256(data).hexdigest()
    assert (release.version, release.file_name, release.sha256, release.size, release.status) == (
        "0.2.0", "tenfold_agent-0.2.0-py3-none-any.whl", digest, len(data), ReleaseStatus.DRAFT)
    assert json.loads(release.document) == {
        "purpose": "tenfold-agent-release", "package": "tenfold-agent", "version": "0.2.0",
        "file_name": "tenfold_agent-0.2.0-py3-none-any.whl", "sha256": digest, "size": len(data)}
    assert release.document_sha256 == hashlib.sha256(release.document.encode()).hexdigest()
    with release.file.open("rb") as handle:
        assert handle.read() == data
    assert release.file.name.startswith("agent-releases/tenfold-agent-")
    assert AuditEntry.objects.filter(action="agent_release.uploaded").count() == 1


def test_upload_refuses_what_is_not_the_agent_wheel_with_a_clear_message() -> None:
    admin = make_staff(Role.ADMIN)
    name, data = wheel("0.2.0")
    assert refused_upload(admin, "0.2.0", name, b"PK\x03\x04 but not really a zip") == (
        "This file is not a wheel: it is not a ZIP archive.")
    assert refused_upload(admin, "0.2.0", "tenfold_agent-0.2.0-py3-none-any.whl", b"MZ\x90\x00 an exe") == (
        "This file is not a wheel: it is not a ZIP archive.")
    other_name, other = wheel("0.2.0", name="requests")
    assert refused_upload(admin, "0.2.0", other_name, other) == (
        "This wheel is the package “requests”, not tenfold-agent.")
    assert refused_upload(admin, "0.3.0", name, data) == "The wheel is version 0.2.0, not 0.3.0."
    _, lying = wheel("0.2.0", module_version="0.1.0")
    assert refused_upload(admin, "0.2.0", name, lying) == (
        "The wheel's tenfold_agent.__version__ is 0.1.0, not 0.2.0: the agent would report the old version and be "
        "updated again.")
    assert refused_upload(admin, "0.2.0", "agent.zip", data) == (
        "Upload the agent's wheel (a .whl file built from the tenfold-agent package).")
    assert refused_upload(admin, "0.2.0", "tenfold_agent-0.1.0-py3-none-any.whl", data) == (
        "The file name must be the wheel's own (tenfold_agent-0.2.0-….whl).")
    assert refused_upload(admin, "v0.2", name, data) == (
        "The version must be a release version such as 1.2.0, 1.3.0rc1 or 2.0.post1.")
    assert refused_upload(admin, "0.2.0", name, b"") == "The file is empty."


def test_upload_refuses_a_file_over_50_mb_before_reading_it() -> None:
    admin = make_staff(Role.ADMIN)
    name, data = wheel("0.2.0", padding=b"\0" * (50 * 1024 * 1024))
    assert len(data) > releases.MAX_RELEASE_BYTES
    assert refused_upload(admin, "0.2.0", name, data) == "The file is 50.0 MB: a release is at most 50 MB."


def test_a_version_uploaded_twice_is_refused_even_when_spelt_otherwise() -> None:
    admin = make_staff(Role.ADMIN)
    upload(admin, "0.2.0")
    name, data = wheel("0.2")
    with pytest.raises(ValidationError) as caught:
        releases.release_upload(actor=admin, version="0.2", file_name=name, data=data)
    assert caught.value.message == "A release of this version already exists (0.2.0)."
    assert list(AgentRelease.objects.values_list("version", flat=True)) == ["0.2.0"]


def test_upload_follows_the_script_library_rule() -> None:
    # given roles without the right to change the library, and staff restricted to some clients
    client = Client.objects.create(name="Restricted")
    name, data = wheel("0.2.0")
    for user in (make_staff(Role.ACCOUNT_MANAGER), make_staff(Role.FINANCE),
                 make_staff(Role.TECHNICIAN, clients=[client], restricted=True)):
        with pytest.raises(PermissionDenied):
            releases.release_upload(actor=user, version="0.2.0", file_name=name, data=data)
    assert not AgentRelease.objects.exists()
    # a technician of the whole MSP may upload (as they may write scripts)
    assert releases.release_upload(actor=make_staff(Role.TECHNICIAN), version="0.2.0", file_name=name,
                                   data=data).status == ReleaseStatus.DRAFT


def test_signatures_are_verified_and_publish_is_refused_before_one() -> None:
    admin = make_staff(Role.ADMIN)
    key, other = Key(), Key()
    register(admin, key, admin)
    release = upload(admin)
    # when published before any signature: refused, nothing changed
    with pytest.raises(Conflict) as caught:
        releases.release_publish(actor=admin, release=release)
    assert caught.value.message == ("This release has no signature by an active key: an approver must sign it with "
                                    "tenfold sign first.")
    release.refresh_from_db()
    assert (release.status, release.published_at) == (ReleaseStatus.DRAFT, None)
    # a signature of other bytes, or by a key that is not the signer's own registered one: refused
    with pytest.raises(ValidationError) as wrong:
        releases.release_signature_upload(actor=admin, release=release, key_id=key.key_id,
                                          signature=other.sign(release.document.encode()))
    assert wrong.value.message == (
        f"The signature does not verify with key {key.key_id} against release 0.2.0: the signature does not match "
        "this document and key. Review it again with tenfold sign release-review.")
    with pytest.raises(PermissionDenied):
        releases.release_signature_upload(actor=make_staff(Role.TECHNICIAN), release=release, key_id=key.key_id,
                                          signature=key.sign(release.document.encode()))
    assert not AgentReleaseSignature.objects.exists()
    # when a valid signature arrives: signed, then published
    sign_release(release, key, admin)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.SIGNED
    with pytest.raises(PermissionDenied):
        releases.release_publish(actor=make_staff(Role.TECHNICIAN), release=release)
    releases.release_publish(actor=admin, release=release)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.PUBLISHED and release.published_at is not None


def test_a_release_whose_only_key_was_revoked_cannot_be_published_or_rolled_out() -> None:
    admin = make_staff(Role.ADMIN)
    first, second = Key(), Key()
    register(admin, first, admin)
    second_row = register(admin, second, admin, by=first)
    release = upload(admin)
    sign_release(release, second, admin)
    assert list(releases.releases_awaiting_signature(admin)) == []
    from tenfold.automation import services

    services.signing_key_revoke(actor=admin, key=second_row, revoked_by=first.key_id, signature=first.revoke(second))
    with pytest.raises(Conflict):
        releases.release_publish(actor=admin, release=release)
    assert releases.release_payload(release)["signatures"] == []
    # it is listed again for approvers
    assert list(releases.releases_awaiting_signature(admin)) == [release]


def rollout_world() -> dict[str, Any]:
    admin = make_staff(Role.ADMIN)
    key = Key()
    register(admin, key, admin)
    release = published(admin, key, "0.2.0")
    mine, theirs = Client.objects.create(name="Mine"), Client.objects.create(name="Theirs")
    devices = {
        "old": with_agent(managed_device(mine, "PC-OLD"), "0.1.0"),
        "rc": with_agent(managed_device(mine, "PC-RC"), "0.2.0rc1"),
        "same": with_agent(managed_device(mine, "PC-SAME"), "0.2.0"),
        "newer": with_agent(managed_device(mine, "PC-NEWER"), "0.10.0"),
        "none": managed_device(mine, "PC-NO-AGENT"),
        "their_pc": with_agent(managed_device(theirs, "PC-THEIRS"), "0.1.0"),
    }
    return {"admin": admin, "key": key, "release": release, "mine": mine, "theirs": theirs, **devices}


def test_rollout_to_a_client_queues_exactly_the_older_agents_with_the_signed_payload() -> None:
    w = rollout_world()
    # when the release is rolled out to a client
    jobs = releases.release_rollout(actor=w["admin"], release=w["release"], client_id=w["mine"].pk)
    # then one agent_update job per device of that client whose agent is older, and no other
    assert sorted(j.device.name for j in jobs) == ["PC-OLD", "PC-RC"]
    assert Job.objects.count() == 2 and {j.kind for j in Job.objects.all()} == {"agent_update"}
    release = w["release"]
    signature = AgentReleaseSignature.objects.get()
    assert jobs[0].payload == {
        "version": "0.2.0", "document": release.document,
        "signatures": [{"key_id": w["key"].key_id, "signature": signature.signature}],
        "url": f"/agent/v1/releases/{release.pk}/file", "sha256": release.sha256, "size": release.size}
    # the document rides exactly as signed
    signing.verify(w["key"].public, jobs[0].payload["document"].encode(), jobs[0].payload["signatures"][0]["signature"])
    # when rolled out again: the queued devices are not queued twice
    with pytest.raises(ValidationError) as caught:
        releases.release_rollout(actor=w["admin"], release=release, client_id=w["mine"].pk)
    assert caught.value.message == "No device of this client runs an agent older than 0.2.0."
    assert Job.objects.count() == 2


def test_rollout_to_named_devices_refuses_those_not_older_and_another_clients_with_nothing_queued() -> None:
    w = rollout_world()
    with pytest.raises(ValidationError) as caught:
        releases.release_rollout(actor=w["admin"], release=w["release"],
                                 device_ids=[w["old"].pk, w["same"].pk, w["none"].pk])
    assert caught.value.errors == {"device_ids": ["PC-SAME already runs agent 0.2.0.", "PC-NO-AGENT has no agent."]}
    technician = make_staff(Role.TECHNICIAN, clients=[w["mine"]], restricted=True)
    with pytest.raises(NotFound):
        releases.release_rollout(actor=technician, release=w["release"], device_ids=[w["old"].pk, w["their_pc"].pk])
    with pytest.raises(NotFound):
        releases.release_rollout(actor=technician, release=w["release"], client_id=w["theirs"].pk)
    assert not Job.objects.exists()
    # the restricted technician may update their own client's device
    [job] = releases.release_rollout(actor=technician, release=w["release"], device_ids=[w["old"].pk])
    assert (job.device_id, job.client_id, job.kind) == (w["old"].pk, w["mine"].pk, "agent_update")


def test_only_a_published_release_is_rolled_out() -> None:
    w = rollout_world()
    draft = upload(w["admin"], "0.3.0")
    with pytest.raises(Conflict) as caught:
        releases.release_rollout(actor=w["admin"], release=draft, device_ids=[w["old"].pk])
    assert caught.value.message == "Only a published release can be rolled out (this one is Awaiting signature)."
    releases.release_withdraw(actor=w["admin"], release=w["release"])
    with pytest.raises(Conflict):
        releases.release_rollout(actor=w["admin"], release=w["release"], device_ids=[w["old"].pk])
    assert not Job.objects.exists()


# --- The agents' download ----------------------------------------------------------------------


def download(release_id: int, credential: str | None) -> Any:
    agent_auth.cache_clear()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {credential}"} if credential else {}
    return HttpClient().get(f"/agent/v1/releases/{release_id}/file", **headers)


def test_agent_download_serves_a_published_release_to_any_enrolled_agent() -> None:
    # given a published release and two agents of two clients
    w = rollout_world()
    first = enroll(w["mine"], machine_id="m-1", hostname="pc-1")
    second = enroll(w["theirs"], machine_id="m-2", hostname="pc-2")
    release = w["release"]
    with release.file.open("rb") as handle:
        data = handle.read()
    # when either downloads it, then the wheel's exact bytes
    for agent in (first, second):
        response = download(release.pk, agent["credential"])
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == data
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Length"] == str(len(data))


def test_agent_download_needs_a_credential() -> None:
    w = rollout_world()
    response = download(w["release"].pk, None)
    assert response.status_code == 401 and response.json()["code"] == "credential_invalid"
    response = download(w["release"].pk, "tfa_abcdefgh_" + "x" * 43)
    assert response.status_code == 401
    response = HttpClient().get(f"/agent/v1/releases/{w['release'].pk}/file",
                                HTTP_AUTHORIZATION=f"Bearer {make_api_token(w['admin'])}")
    assert response.status_code == 401  # a staff API token is not an agent credential


def test_agent_download_of_a_release_not_published_or_withdrawn_is_404() -> None:
    w = rollout_world()
    agent = enroll(w["mine"], machine_id="m-1", hostname="pc-1")
    draft = upload(w["admin"], "0.3.0")
    signed = upload(w["admin"], "0.3.1")
    sign_release(signed, w["key"], w["admin"])
    for release in (draft, signed):
        assert download(release.pk, agent["credential"]).status_code == 404
    assert download(999_999, agent["credential"]).status_code == 404
    releases.release_withdraw(actor=w["admin"], release=w["release"])
    response = download(w["release"].pk, agent["credential"])
    assert response.status_code == 404 and response.json()["code"] == "not_found"


# --- Screens -----------------------------------------------------------------------------------


def test_the_screens_upload_review_publish_and_roll_out() -> None:
    admin = make_staff(Role.ADMIN)
    key = Key()
    register(admin, key, admin)
    mine = Client.objects.create(name="Mine")
    old = with_agent(managed_device(mine, "PC-OLD"), "0.1.0")
    http = HttpClient()
    http.force_login(admin)
    # the upload form shows the service's refusal beside the field
    page = http.post("/automation/agent-releases/new/", {"version": "0.3.0", "file": _upload(*wheel("0.2.0"))})
    assert page.status_code == 200 and "The wheel is version 0.2.0, not 0.3.0." in page.content.decode()
    assert not AgentRelease.objects.exists()
    # a valid upload leads to the detail page with the document and the hash
    response = http.post("/automation/agent-releases/new/", {"version": "0.2.0", "file": _upload(*wheel("0.2.0"))})
    release = AgentRelease.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/automation/agent-releases/{release.pk}/"
    detail = http.get(response["Location"]).content.decode()
    assert release.sha256 in detail and "Not signed: agents refuse it" in detail
    assert http.get("/automation/agent-releases/").status_code == 200
    # publishing before a signature is refused with the reason
    http.post(f"/automation/agent-releases/{release.pk}/publish/")
    release.refresh_from_db()
    assert release.status == ReleaseStatus.DRAFT
    sign_release(release, key, admin)
    http.post(f"/automation/agent-releases/{release.pk}/publish/")
    release.refresh_from_db()
    assert release.status == ReleaseStatus.PUBLISHED
    # roll out from the page
    response = http.post(f"/automation/agent-releases/{release.pk}/rollout/", {"devices": [str(old.pk)]})
    assert response.status_code == 302
    assert list(Job.objects.values_list("device_id", "kind")) == [(old.pk, "agent_update")]
    assert "PC-OLD" in http.get(f"/automation/agent-releases/{release.pk}/").content.decode()


def _upload(name: str, data: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


# --- tenfold sign, against a live server -------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_tenfold_sign_lists_reviews_and_signs_a_release(live_server: Any, capsys: Any, tmp_path: Any,
                                                        monkeypatch: Any) -> None:
    # given an approver with a key file on their machine, its public key registered, and a release uploaded
    admin = make_staff(Role.ADMIN)
    key_file = tmp_path / "approver.pem"
    assert signing_cli.main(["keygen", "--out", str(key_file)]) == 0
    private = signing.load_private_key(key_file.read_bytes())
    public = signing.public_key_of(private)
    from tenfold.automation import services

    services.signing_key_register(actor=admin, name="Laptop", public_key=public, owner=admin)
    release = upload(admin, "0.2.0")
    monkeypatch.setenv("TENFOLD_SERVER", live_server.url)
    monkeypatch.setenv("TENFOLD_TOKEN", make_api_token(admin))
    capsys.readouterr()
    # when the approver lists what awaits a signature
    assert signing_cli.main(["pending"]) == 0
    out = capsys.readouterr().out
    # then the release is listed with its version, file name, size and SHA-256
    assert f"release {release.pk}\ttenfold-agent 0.2.0\ttenfold_agent-0.2.0-py3-none-any.whl\t{release.size} bytes\t" \
           f"SHA-256 {release.sha256}" in out.splitlines()
    # when they review it: the hash is computed here from the downloaded wheel
    assert signing_cli.main(["release-review", str(release.pk)]) == 0
    review = capsys.readouterr().out
    assert f"SHA-256 (computed here): {release.sha256}" in review and "WARNING" not in review
    # a wheel of their own that is not the server's is refused, nothing signed
    other_name, other = wheel("0.2.0", module_version="0.2.0", padding=b"x")
    built = tmp_path / other_name
    built.write_bytes(other)
    assert signing_cli.main(["release-approve", str(release.pk), "--key", str(key_file), "--file", str(built),
                             "--yes"]) == 1
    assert "not signed: the file checked here is not the release the server holds" in capsys.readouterr().err
    assert not AgentReleaseSignature.objects.exists()
    # when they approve it
    assert signing_cli.main(["release-approve", str(release.pk), "--key", str(key_file), "--yes"]) == 0
    assert f"Signed agent release 0.2.0 with {signing.key_id_of(public)}." in capsys.readouterr().out
    # then the server stored a signature that verifies, and the release is signed
    row = AgentReleaseSignature.objects.get()
    signing.verify(public, release.document.encode(), row.signature)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.SIGNED
    assert signing_cli.main(["pending"]) == 0
    assert "release " not in capsys.readouterr().out
