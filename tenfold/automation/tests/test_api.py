"""The REST API of automation: bad input refused with clear messages and nothing changed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client as HttpClient

from tenfold.accounts.testing import bearer, make_api_token, make_staff
from tenfold.agents.models import Job
from tenfold.automation.models import Signature, SigningKey
from tenfold.automation.tests.factories import Key, make_script, managed_device, register, sign
from tenfold.clients.models import Client
from tenfold.core.roles import Role

pytestmark = pytest.mark.django_db


def call(user: Any, method: str, path: str, body: Any = None) -> Any:
    http = HttpClient()
    payload = json.dumps(body) if body is not None else None
    return getattr(http, method)(f"/api/v1{path}", data=payload, content_type="application/json",
                                 **bearer(make_api_token(user)))


def test_a_wrong_signature_is_refused_422_and_a_right_one_is_stored() -> None:
    admin = make_staff(Role.ADMIN)
    key, other = Key(), Key()
    answer = call(admin, "post", "/signing-keys", {"name": "Laptop", "public_key": key.public})
    assert answer.status_code == 201 and answer.json()["key_id"] == key.key_id
    script = make_script(admin)
    version = script.versions.get()
    wrong = call(admin, "post", f"/script-versions/{version.pk}/signatures",
                 {"key_id": key.key_id, "signature": other.sign(version.document.encode())})
    assert wrong.status_code == 422
    assert wrong.json()["message"] == (
        f"The signature does not verify with key {key.key_id} against version 1 of this script: the signature "
        "does not match this document and key. Rebuild the document with tenfold sign review.")
    assert not Signature.objects.exists()
    technician = make_staff(Role.TECHNICIAN)
    refused = call(technician, "post", f"/script-versions/{version.pk}/signatures",
                   {"key_id": key.key_id, "signature": key.sign(version.document.encode())})
    assert refused.status_code == 403 and refused.json()["message"] == "Your role may not sign scripts."
    right = call(admin, "post", f"/script-versions/{version.pk}/signatures",
                 {"key_id": key.key_id, "signature": key.sign(version.document.encode())})
    assert right.status_code == 201 and right.json()["key_id"] == key.key_id
    assert call(admin, "get", f"/script-versions/{version.pk}").json()["status"] == "signed"


def test_run_refuses_bad_input_and_another_clients_device_with_nothing_queued() -> None:
    admin = make_staff(Role.ADMIN)
    key = Key()
    register(admin, key, admin)
    script = make_script(admin)
    sign(script.versions.get(), key, admin)
    mine, theirs = Client.objects.create(name="Mine"), Client.objects.create(name="Theirs")
    technician = make_staff(Role.TECHNICIAN, clients=[mine], restricted=True)
    ok, other = managed_device(mine, "PC-1"), managed_device(theirs, "PC-2")
    path = f"/scripts/{script.pk}/run"
    forged = call(technician, "post", path, {"device_ids": [ok.pk, other.pk], "parameters": {"service": "cron"}})
    assert forged.status_code == 404 and forged.json() == {"code": "not_found", "message": "Not found."}
    invalid = call(technician, "post", path, {"device_ids": [ok.pk], "parameters": {"service": "cron",
                                                                                  "level": "max"}})
    assert invalid.status_code == 422
    assert invalid.json()["errors"] == {"parameters.level": ["Choose one of: low, high."]}
    both = call(technician, "post", path, {"device_ids": [ok.pk], "client_id": mine.pk})
    assert both.json()["errors"] == {"device_ids": ["Name either devices, one group or one client."]}
    unknown = call(technician, "post", path, {"device_ids": [ok.pk], "device_id": 3})
    assert unknown.status_code == 422 and "device_id" in unknown.json()["errors"]
    assert not Job.objects.exists()
    done = call(technician, "post", path, {"client_id": mine.pk, "parameters": {"service": "cron"}})
    assert done.status_code == 201 and [r["device_id"] for r in done.json()] == [ok.pk]
    assert done.json()[0]["status"] == "queued" and done.json()[0]["parameters"] == {"service": "cron",
                                                                                      "level": "low"}


def test_script_body_is_kept_byte_for_byte_and_key_management_is_for_owners_and_admins() -> None:
    admin = make_staff(Role.ADMIN)
    body = "  #!/bin/sh\necho hi\n\n"
    created = call(admin, "post", "/scripts", {"name": "Hi", "language": "shell", "os_families": ["linux"],
                                               "body": body})
    assert created.status_code == 201
    versions = call(admin, "get", f"/scripts/{created.json()['id']}/versions").json()
    assert versions[0]["body"] == body and versions[0]["status"] == "awaiting_signature"
    manager = make_staff(Role.SERVICE_MANAGER)
    assert call(manager, "post", "/signing-keys", {"name": "x", "public_key": Key().public}).status_code == 403
    assert not SigningKey.objects.exists()
