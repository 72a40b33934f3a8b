"""Enrollment screens (token shown once with install commands, revoke) and the device's agent panel."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client as HttpClient

from tenfold.accounts.testing import make_staff
from tenfold.agents import secrets
from tenfold.agents.models import Agent, AgentCredential, EnrollmentToken
from tenfold.agents.tests.helpers import checkin_body, enroll, enroll_body, heartbeat, post
from tenfold.clients.models import Client, Site
from tenfold.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def logged_in(role: str = "admin", **kwargs: Any) -> HttpClient:
    http = HttpClient()
    http.force_login(make_staff(role, **kwargs))
    return http


@pytest.fixture
def client_a() -> Client:
    return Client.objects.create(name="Boulangerie Martin", status="active")


def test_created_token_is_shown_once_with_install_commands_and_enrolls(client_a: Client) -> None:
    # given a technician on the client's enrollment page
    site = Site.objects.create(client=client_a, name="Fournil")
    http = logged_in("technician")
    assert http.get(f"/agents/enrollment/{client_a.pk}/").status_code == 200
    # when they create a token limited to 3 uses at the site
    response = http.post(f"/agents/enrollment/{client_a.pk}/tokens/", {
        "name": "Fournil roll-out", "site": site.pk, "expires_in_days": "7", "max_uses": "3"})
    page = response.content.decode()
    # then the page shows the token once, with the Linux, Windows and macOS commands carrying it
    plain = re.search(r'value="(tfe_[0-9a-f]{8}_[A-Za-z0-9_-]+)"', page).group(1)
    assert page.count(f"--token {plain}") == 3
    assert "--server http://testserver" in page and "systemctl enable --now tenfold-agent" in page
    token = EnrollmentToken.objects.get()
    assert (token.name, token.site_id, token.max_uses, token.uses) == ("Fournil roll-out", site.pk, 3, 0)
    assert token.token_hash == secrets.hash_secret(plain)
    # and the token list never shows it again, only its prefix
    listing = http.get(f"/agents/enrollment/{client_a.pk}/").content.decode()
    assert plain not in listing and f"tfe_{token.prefix}_…" in listing
    # and an agent enrolls with it at that site
    body = post(HttpClient(), "/agent/v1/enroll", enroll_body(plain)).json()
    assert Agent.objects.get(device_id=body["device_id"]).device.site_id == site.pk


def test_token_form_errors_are_shown(client_a: Client) -> None:
    response = logged_in().post(f"/agents/enrollment/{client_a.pk}/tokens/", {"name": "", "expires_in_days": "900"})
    assert response.status_code == 422
    assert EnrollmentToken.objects.count() == 0


def test_revoked_token_no_longer_enrolls(client_a: Client) -> None:
    # given a token created through the page
    http = logged_in()
    page = http.post(f"/agents/enrollment/{client_a.pk}/tokens/", {"name": "T", "expires_in_days": "7"})
    plain = re.search(r'value="(tfe_[^"]+)"', page.content.decode()).group(1)
    token = EnrollmentToken.objects.get()
    # when it is revoked
    assert http.post(f"/agents/tokens/{token.pk}/revoke/").status_code == 302
    # then enrollment with it fails and the revocation is audited
    assert post(HttpClient(), "/agent/v1/enroll", enroll_body(plain)).status_code == 401
    assert AuditEntry.objects.filter(action="enrollment_token.revoked", object_id=str(token.pk)).count() == 1
    assert "Revoked" in http.get(f"/agents/enrollment/{client_a.pk}/").content.decode()


def test_account_manager_sees_tokens_but_cannot_create(client_a: Client) -> None:
    http = logged_in("account_manager")
    page = http.get(f"/agents/enrollment/{client_a.pk}/").content.decode()
    assert 'data-testid="token-form"' not in page
    refused = http.post(f"/agents/enrollment/{client_a.pk}/tokens/", {"name": "T", "expires_in_days": "7"})
    assert refused.status_code == 403
    assert EnrollmentToken.objects.count() == 0


def test_agent_panel_rotate_and_revoke(client_a: Client) -> None:
    # given an enrolled device that checked in
    agent = enroll(client_a)
    post(HttpClient(), "/agent/v1/checkin", checkin_body(heartbeat(1)), agent["credential"])
    http = logged_in("technician")
    device_id = agent["device_id"]
    prefix = agent["credential"].split("_")[1]
    # when the panel is shown
    panel = http.get(f"/agents/devices/{device_id}/").content.decode()
    # then it shows the active credential by prefix and the two actions
    assert f"tfa_{prefix}_…" in panel and 'data-testid="rotate-credential"' in panel
    # when the technician asks for a rotation, then revokes
    assert http.post(f"/agents/devices/{device_id}/rotate/").status_code == 302
    assert Agent.objects.get(device_id=device_id).rotation_requested_at is not None
    assert http.post(f"/agents/devices/{device_id}/revoke/").status_code == 302
    # then the credential is revoked, audited, and the agent is refused
    assert not AgentCredential.objects.filter(device_id=device_id, revoked_at__isnull=True).exists()
    assert list(AuditEntry.objects.filter(action__startswith="agent_credential.").order_by("pk")
                .values_list("action", flat=True)) == ["agent_credential.rotation_requested",
                                                       "agent_credential.revoked"]
    refused = post(HttpClient(), "/agent/v1/checkin", checkin_body(heartbeat(2)), agent["credential"])
    assert (refused.status_code, refused.json()["code"]) == (401, "credential_revoked")
    assert "Revoked: enroll the device again" in http.get(f"/agents/devices/{device_id}/").content.decode()


def test_enrollment_index_lists_visible_clients_only(client_a: Client) -> None:
    other = Client.objects.create(name="Garage Perrin", status="active")
    http = logged_in("technician", clients=[other], restricted=True)
    page = http.get("/agents/enrollment/").content.decode()
    assert "Garage Perrin" in page and "Boulangerie Martin" not in page
