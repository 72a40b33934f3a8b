"""The credential vault: envelope encryption, access by role and client, re-authentication, audit."""

from __future__ import annotations

import base64
import time

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.urls import reverse

from tenfold.accounts.testing import bearer, make_api_token, make_staff
from tenfold.clients.models import Client
from tenfold.core.errors import NotFound, PermissionDenied
from tenfold.core.models import AuditEntry
from tenfold.knowledge import selectors, services, vault
from tenfold.knowledge.models import Credential, CredentialReveal

pytestmark = pytest.mark.django_db

SECRET = "Pl41n-Vault-Secret-9f3e7c"
SEED = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # RFC 6238 test key "12345678901234567890"


def _store(actor, client=None, secret=SECRET, seed=SEED) -> Credential:
    return services.credential_create(actor=actor, data={
        "name": "Firewall admin", "username": "admin", "url": "https://192.0.2.1", "notes": "",
        "client_id": client.pk if client else None}, secret=secret, totp_seed=seed)


def _reauthenticated_session(user) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    session = http.session
    session["account_authentication_methods_user"] = str(user.pk)
    session["account_authentication_methods"] = [{"method": "password", "at": time.time(), "reauthenticated": True}]
    session.save()
    return http


def test_totp_matches_the_rfc_6238_vectors() -> None:
    assert vault.totp_code(SEED, at=59) == "287082"
    assert vault.totp_code(SEED, at=1111111109) == "081804"
    assert vault.totp_code("gezd gnbv gy3t qojq gezd gnbv gy3t qojq", at=1234567890) == "005924"


def test_database_dump_holds_no_plaintext_secret_or_seed() -> None:
    # given a credential with a secret and a TOTP seed
    admin = make_staff("admin")
    _store(admin, Client.objects.create(name="A"))
    # when every text and binary column of every table is read
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')
            for row in cursor.fetchall():
                for value in row:
                    raw = bytes(value) if isinstance(value, (bytes, memoryview)) else str(value).encode()
                    if SECRET.encode() in raw or SEED.encode() in raw or b"12345678901234567890" in raw:
                        found.append(table)
    # then neither the secret nor the seed appears anywhere
    assert found == []


def test_reveal_decrypts_and_records_who_and_audits() -> None:
    tech = make_staff("technician")
    credential = _store(make_staff("admin"))
    revealed = services.credential_reveal(actor=tech, credential=credential, recent_auth=True, channel="ui",
                                          ip="198.51.100.7")
    assert revealed.secret == SECRET
    assert revealed.totp_code == vault.totp_code(SEED)
    reveal = CredentialReveal.objects.get(credential=credential)
    assert (reveal.user_id, reveal.channel, reveal.ip) == (tech.pk, "ui", "198.51.100.7")
    entries = AuditEntry.objects.filter(action="credential.revealed", object_id=str(credential.pk))
    assert [(e.actor_id, e.changes) for e in entries] == [(tech.pk, {"channel": "ui", "totp": True})]


def test_reveal_without_recent_reauthentication_is_refused_and_unrecorded() -> None:
    credential = _store(make_staff("admin"))
    with pytest.raises(services.ReauthenticationRequired):
        services.credential_reveal(actor=make_staff("technician"), credential=credential, recent_auth=False)
    assert CredentialReveal.objects.count() == 0
    assert not AuditEntry.objects.filter(action="credential.revealed").exists()


def test_unassigned_technician_gets_404_and_roles_without_vault_403() -> None:
    client_a, client_b = Client.objects.create(name="A"), Client.objects.create(name="B")
    credential = _store(make_staff("admin"), client_a)
    with pytest.raises(NotFound):
        selectors.access_credential(make_staff("technician", clients=[client_b], restricted=True), credential.pk)
    assert selectors.access_credential(make_staff("technician", clients=[client_a], restricted=True),
                                       credential.pk) == credential
    for role in ("account_manager", "finance"):
        with pytest.raises(PermissionDenied):
            selectors.access_credential(make_staff(role), credential.pk)


def test_unassigned_technician_reveal_url_is_404_and_nothing_recorded() -> None:
    client_a, client_b = Client.objects.create(name="A"), Client.objects.create(name="B")
    credential = _store(make_staff("admin"), client_a)
    http = _reauthenticated_session(make_staff("technician", clients=[client_b], restricted=True))
    response = http.post(reverse("knowledge:credential_reveal", args=[credential.pk]))
    assert response.status_code == 404
    assert SECRET not in response.content.decode()
    assert CredentialReveal.objects.count() == 0
    assert not AuditEntry.objects.filter(action="credential.revealed").exists()


def test_reveal_page_sends_to_reauthentication_then_shows_secret_and_reveal_list() -> None:
    tech = make_staff("technician", first_name="Lena", last_name="Roux")
    credential = _store(make_staff("admin"))
    url = reverse("knowledge:credential_reveal", args=[credential.pk])
    # without a recent re-authentication: sent to it, nothing revealed
    http = HttpClient()
    http.force_login(tech)
    response = http.post(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert CredentialReveal.objects.count() == 0
    # after re-authentication: the secret, the TOTP code and the reveal list
    http = _reauthenticated_session(tech)
    response = http.post(url)
    body = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert f'<code data-testid="secret">{SECRET}</code>' in body
    assert 'data-testid="totp"' in body
    detail = http.get(reverse("knowledge:credential_detail", args=[credential.pk])).content.decode()
    assert SECRET not in detail
    assert "Lena Roux" in detail or tech.email in detail


def test_reauthentication_older_than_15_minutes_does_not_count() -> None:
    tech = make_staff("technician")
    credential = _store(make_staff("admin"))
    http = HttpClient()
    http.force_login(tech)
    session = http.session
    session["account_authentication_methods_user"] = str(tech.pk)
    session["account_authentication_methods"] = [{"method": "password", "at": time.time() - 16 * 60,
                                                  "reauthenticated": True}]
    session.save()
    response = http.post(reverse("knowledge:credential_reveal", args=[credential.pk]))
    assert response.status_code == 302
    assert CredentialReveal.objects.count() == 0


def test_api_tokens_never_reveal() -> None:
    admin = make_staff("admin")
    credential = _store(admin)
    response = HttpClient().post(f"/api/v1/vault/{credential.pk}/reveal", **bearer(make_api_token(admin)))
    assert response.status_code == 403
    assert response.json()["code"] == "token_cannot_reveal"
    assert CredentialReveal.objects.count() == 0


def test_api_session_reveal_after_reauthentication() -> None:
    admin = make_staff("admin")
    credential = _store(admin)
    http = _reauthenticated_session(admin)
    response = http.post(f"/api/v1/vault/{credential.pk}/reveal")
    assert response.status_code == 200
    assert response.json()["secret"] == SECRET
    assert CredentialReveal.objects.get().channel == "api"


def test_api_list_never_carries_secrets() -> None:
    admin = make_staff("admin")
    _store(admin)
    body = HttpClient().get("/api/v1/vault", **bearer(make_api_token(admin))).content.decode()
    assert SECRET not in body and "ciphertext" not in body and "wrapped" not in body
    assert '"has_totp": true' in body


def test_wrong_key_gives_a_clear_error(vault_key_file, monkeypatch) -> None:
    credential = _store(make_staff("admin"))
    # when the deployment starts with another key
    monkeypatch.setenv("TENFOLD_VAULT_KEY", base64.b64encode(b"k" * 32).decode())
    with pytest.raises(vault.VaultKeyError) as exc:
        services.credential_reveal(actor=make_staff("admin"), credential=credential, recent_auth=True)
    assert credential.key_id in str(exc.value.message)
    assert "TENFOLD_VAULT_KEY" in str(exc.value.message)
    assert CredentialReveal.objects.count() == 0


def test_malformed_key_is_refused_with_its_origin(monkeypatch) -> None:
    monkeypatch.setenv("TENFOLD_VAULT_KEY", "not base64 at all")
    with pytest.raises(vault.VaultKeyError) as exc:
        vault.load_kek()
    assert "TENFOLD_VAULT_KEY" in str(exc.value.message)


def test_key_file_is_created_once_owner_only(vault_key_file) -> None:
    first = vault.load_kek()
    assert vault_key_file.stat().st_mode & 0o777 == 0o600
    assert vault.load_kek() == first
    assert len(first) == 32


def test_bad_totp_seed_is_refused_and_nothing_stored() -> None:
    with pytest.raises(services.ValidationError) as exc:
        _store(make_staff("admin"), seed="not-base32!!")
    assert "totp_seed" in exc.value.errors
    assert Credential.objects.count() == 0


def test_secret_change_reencrypts_under_the_same_data_key() -> None:
    admin = make_staff("admin")
    credential = _store(admin)
    wrapped = bytes(credential.wrapped_key)
    services.credential_update(actor=admin, credential=credential, data={}, secret="new-secret", clear_totp=True)
    credential.refresh_from_db()
    assert bytes(credential.wrapped_key) == wrapped
    revealed = services.credential_reveal(actor=admin, credential=credential, recent_auth=True)
    assert (revealed.secret, revealed.totp_code) == ("new-secret", None)
