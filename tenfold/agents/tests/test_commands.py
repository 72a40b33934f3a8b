"""`tenfold agent-token` (a system action that prints only the token) and `tenfold manage evaluate_monitoring`."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client as HttpClient

from tenfold.agents import secrets
from tenfold.agents.models import Agent, EnrollmentToken
from tenfold.agents.tests.helpers import enroll_body, post
from tenfold.clients.models import Client, Site
from tenfold.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def agent_token(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("agent_token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def bakery() -> Client:
    Client.objects.create(name="Agence Horizon", status="active")
    return Client.objects.create(name="Boulangerie Martin SARL", status="active")


def test_agent_token_prints_only_the_token_and_is_audited_as_the_system(bakery) -> None:
    site = Site.objects.create(client=bakery, name="Fournil")
    # when a token is made on the command line, by name, for a site
    out, err = agent_token("--client", "boulangerie martin sarl", "--site", "fournil", "--days", "3",
                           "--max-uses", "2")
    # then stdout is the token alone, and stderr says what it is
    plain = out.strip()
    assert out == plain + "\n"
    token = EnrollmentToken.objects.get()
    assert secrets.matches(plain, token.token_hash) and plain.startswith(f"tfe_{token.prefix}_")
    assert (token.client_id, token.site_id, token.max_uses, token.created_by, token.checkin_interval) == (
        bakery.pk, site.pk, 2, None, None)
    assert 3 * 86400 - 60 < (token.expires_at - token.created_at).total_seconds() <= 3 * 86400
    assert f"tfe_{token.prefix}_… for Boulangerie Martin SARL, site Fournil (client {bakery.pk})" in err
    assert plain not in err
    entry = AuditEntry.objects.get(action="enrollment_token.created")
    assert (entry.actor_kind, entry.actor_id, entry.client_id, entry.object_id) == (
        "system", None, bakery.pk, str(token.pk))
    assert entry.changes["max_uses"] == 2 and plain not in json.dumps(entry.changes)


def test_agent_token_by_id_gives_its_interval_to_the_agents_it_enrolls(bakery) -> None:
    # given a token with a short check-in interval
    plain = agent_token("--client", str(bakery.pk), "--checkin-interval", "15")[0].strip()
    # when an agent enrolls with it and checks in
    response = post(HttpClient(), "/agent/v1/enroll", enroll_body(plain))
    # then it is told that interval, with a jitter in proportion
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["checkin_interval"], body["checkin_jitter"]) == (15, 3)
    assert Agent.objects.get(device_id=body["device_id"]).checkin_interval == 15
    answer = post(HttpClient(), "/agent/v1/checkin", {"agent_version": "0.1.0", "policy_version": "",
                                                      "sent_at": "2026-11-26T16:01:00Z", "items": []},
                  credential=body["credential"]).json()
    assert (answer["checkin_interval"], answer["checkin_jitter"]) == (15, 3)
    assert AuditEntry.objects.get(action="enrollment_token.created").changes["checkin_interval"] == 15


def test_agent_token_falls_back_to_the_first_active_client_only_when_asked() -> None:
    Client.objects.create(name="Zinc Café", status="active")
    first = Client.objects.create(name="Atelier Bois", status="active")
    Client.objects.create(name="Aaa Prospect", status="prospect")
    with pytest.raises(CommandError, match="no client named or numbered 'Boulangerie Martin SARL'"):
        agent_token("--client", "Boulangerie Martin SARL")
    assert not EnrollmentToken.objects.exists()
    agent_token("--client", "Boulangerie Martin SARL", "--or-first-active")
    assert EnrollmentToken.objects.get().client_id == first.pk


@pytest.mark.parametrize(("args", "message"), [
    (["--days", "0"], "expires_in_days: Choose between 1 and 365 days."),
    (["--max-uses", "0"], "max_uses: Choose between 1 and 100000 uses"),
    (["--checkin-interval", "2"], "checkin_interval: Choose between 5 and 86400 seconds."),
    (["--site", "Nowhere"], "has no site named 'Nowhere'"),
])
def test_agent_token_refuses_bad_options_and_creates_nothing(bakery, args, message) -> None:
    with pytest.raises(CommandError, match=message) as caught:
        agent_token("--client", str(bakery.pk), *args)
    assert caught.value.returncode == 2
    assert not EnrollmentToken.objects.exists() and not AuditEntry.objects.exists()


def test_evaluate_monitoring_prints_what_it_did() -> None:
    out = io.StringIO()
    call_command("evaluate_monitoring", stdout=out)
    assert json.loads(out.getvalue()) == {"raised": 0, "resolved": 0, "results": 0}
