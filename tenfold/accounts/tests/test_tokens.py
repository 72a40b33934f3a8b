"""Personal API tokens: Bearer authentication, read-only refusal, expiry, revocation, rate limit."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client as HttpClient
from django.utils import timezone

from tenfold.accounts import services
from tenfold.accounts.models import ApiToken
from tenfold.accounts.tests.factories import ApiTokenFactory, ClientFactory, bearer, make_staff
from tenfold.accounts.tokens import hash_token
from tenfold.clients.models import Client
from tenfold.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_valid_token_authenticates_and_records_its_use() -> None:
    # given a read-write token of a technician
    user = make_staff("technician")
    token = ApiTokenFactory(user=user)
    # when it calls /me
    response = HttpClient().get("/api/v1/me", **bearer(token.plain))
    # then the API answers as that user and the use is recorded
    assert response.status_code == 200
    assert response.json()["email"] == user.email
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_last_used_is_written_at_most_once_a_minute() -> None:
    # given a token used a few seconds ago
    token = ApiTokenFactory(user=make_staff("technician"))
    http = HttpClient()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        http.get("/api/v1/me", **bearer(token.plain))
        token.refresh_from_db()
        first = token.last_used_at
        # when it is used again 30 s later, then 61 s later
        clock.shift(timedelta(seconds=30))
        http.get("/api/v1/me", **bearer(token.plain))
        token.refresh_from_db()
        after_30 = token.last_used_at
        clock.shift(timedelta(seconds=31))
        http.get("/api/v1/me", **bearer(token.plain))
        token.refresh_from_db()
    # then only the second of those uses moved the time
    assert after_30 == first
    assert first is not None and token.last_used_at == first + timedelta(seconds=61)


def test_wrong_secret_is_refused() -> None:
    # given a token, presented with its prefix but another secret
    token = ApiTokenFactory(user=make_staff("technician"))
    forged = f"tf_{token.prefix}_{'A' * 43}"
    # when it calls the API
    response = HttpClient().get("/api/v1/me", **bearer(forged))
    # then it is refused and the token is not marked used
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    token.refresh_from_db()
    assert token.last_used_at is None


@pytest.mark.parametrize("presented", ["", "garbage", "tf_short_x", "Basic dXNlcjpwYXNz"])
def test_malformed_tokens_are_refused(presented: str) -> None:
    # given a malformed Authorization value
    http = HttpClient()
    # when it calls the API
    response = http.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {presented}")
    # then it is 401
    assert response.status_code == 401


def test_revoked_token_is_refused() -> None:
    # given a token revoked by its owner
    user = make_staff("technician")
    token = ApiTokenFactory(user=user)
    services.token_revoke(actor=user, token=token)
    # when it calls the API
    response = HttpClient().get("/api/v1/me", **bearer(token.plain))
    # then it is refused
    assert response.status_code == 401


def test_expired_token_is_refused() -> None:
    # given a token that expired a second ago
    token = ApiTokenFactory(user=make_staff("technician"), expires_at=timezone.now() - timedelta(seconds=1))
    # when it calls the API
    response = HttpClient().get("/api/v1/me", **bearer(token.plain))
    # then it is refused
    assert response.status_code == 401


def test_token_of_inactive_user_is_refused() -> None:
    # given a token of a deactivated user
    token = ApiTokenFactory(user=make_staff("technician", is_active=False))
    # when it calls the API
    response = HttpClient().get("/api/v1/me", **bearer(token.plain))
    # then it is refused
    assert response.status_code == 401


def test_token_of_staff_without_mfa_is_refused() -> None:
    # given a token of a staff user who has no second factor
    token = ApiTokenFactory(user=make_staff("admin", mfa=False))
    # when it calls the API
    response = HttpClient().get("/api/v1/me", **bearer(token.plain))
    # then it is refused with mfa_required
    assert response.status_code == 403
    assert response.json()["code"] == "mfa_required"


def test_read_only_token_cannot_write_and_nothing_changes() -> None:
    # given an owner's read-only token and an existing client
    owner = make_staff("owner")
    token = ApiTokenFactory(user=owner, read_only=True)
    client = ClientFactory(name="Unchanged SARL")
    tokens_before = ApiToken.objects.count()
    http = HttpClient()
    # when it tries to create a token, create a client and rename one
    created_token = http.post(
        "/api/v1/tokens",
        {"name": "escalation", "read_only": False},
        content_type="application/json",
        **bearer(token.plain),
    )
    created_client = http.post(
        "/api/v1/clients", {"name": "New client"}, content_type="application/json", **bearer(token.plain)
    )
    renamed = http.patch(
        f"/api/v1/clients/{client.pk}",
        {"name": "Renamed"},
        content_type="application/json",
        **bearer(token.plain),
    )
    # then each is 403 read_only_token and nothing changed
    for response in (created_token, created_client, renamed):
        assert response.status_code == 403
        assert response.json()["code"] == "read_only_token"
    assert ApiToken.objects.count() == tokens_before
    assert list(Client.objects.values_list("name", flat=True)) == ["Unchanged SARL"]


def test_read_only_token_can_read() -> None:
    # given an owner's read-only token
    token = ApiTokenFactory(user=make_staff("owner"), read_only=True)
    # when it lists users
    response = HttpClient().get("/api/v1/users", **bearer(token.plain))
    # then it may
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_audit_rows_name_the_token() -> None:
    # given an owner's read-write token
    owner = make_staff("owner")
    token = ApiTokenFactory(user=owner)
    # when it creates a user through the API
    response = HttpClient().post(
        "/api/v1/users",
        {"email": "new.tech@msp.test", "role": "technician"},
        content_type="application/json",
        **bearer(token.plain),
    )
    # then the audit row says which token did it
    assert response.status_code == 201
    entry = AuditEntry.objects.get(action="user.created")
    assert entry.actor_kind == "token"
    assert entry.actor_id == owner.pk
    assert entry.actor_label == f"{owner.email} (token #{token.pk})"


def test_failed_token_attempts_are_rate_limited_per_address() -> None:
    # given 30 failed attempts from one address within a minute
    user = make_staff("technician")
    token = ApiTokenFactory(user=user)
    http = HttpClient(REMOTE_ADDR="203.0.113.9")
    with time_machine.travel("2030-01-01 12:00:10+00:00", tick=False):
        failures = [
            http.get("/api/v1/me", **bearer(f"tf_{token.prefix}_{'B' * 43}")).status_code for _ in range(30)
        ]
        # when the 31st arrives, even with the right token
        limited = http.get("/api/v1/me", **bearer(token.plain))
        # and another address tries meanwhile
        other = HttpClient(REMOTE_ADDR="203.0.113.10").get("/api/v1/me", **bearer(token.plain))
    # then the address is told to wait until the minute ends; the other address is served
    assert failures == [401] * 30
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert limited["Retry-After"] == "50"
    assert other.status_code == 200
    with time_machine.travel("2030-01-01 12:01:01+00:00", tick=False):
        assert http.get("/api/v1/me", **bearer(token.plain)).status_code == 200


def test_tokens_are_stored_hashed() -> None:
    # given a token created through the service
    user = make_staff("technician")
    token, plain = services.token_create(actor=user, name="export", read_only=True)
    # then only its SHA-256 and its prefix are kept
    assert plain.startswith(f"tf_{token.prefix}_")
    assert len(plain) == len("tf_12345678_") + 43
    assert token.token_hash == hash_token(plain)
    assert plain not in str(list(ApiToken.objects.values()))
