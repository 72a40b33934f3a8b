"""User management rules: who may do what, the last owner, portal users' client and contact."""

from __future__ import annotations

from decimal import Decimal

import pytest
from allauth.mfa.models import Authenticator
from django.utils import timezone

from tenfold.accounts import services
from tenfold.accounts.models import ApiToken, StaffProfile, User
from tenfold.accounts.tests.factories import (
    ApiTokenFactory,
    ClientFactory,
    ContactFactory,
    make_portal_user,
    make_staff,
)
from tenfold.core.errors import Conflict, PermissionDenied, ValidationError
from tenfold.core.models import AuditEntry, OutboxEvent

pytestmark = pytest.mark.django_db


def user_rows() -> list[tuple[str, str, bool]]:
    return list(User.objects.order_by("email").values_list("email", "role", "is_active"))


@pytest.mark.parametrize("role", ["service_manager", "technician", "account_manager", "finance"])
def test_roles_without_user_management_cannot_create_users(role: str) -> None:
    # given a staff user whose role does not manage users
    actor = make_staff(role)
    before = user_rows()
    # when they try to create a user
    with pytest.raises(PermissionDenied):
        services.user_create(actor=actor, email="new@msp.test", role="technician")
    # then nothing changed
    assert user_rows() == before
    assert AuditEntry.objects.count() == 0


def test_portal_admin_cannot_create_users() -> None:
    # given a portal administrator
    actor = make_portal_user(ClientFactory(), "portal_admin")
    before = user_rows()
    # when they try to create a portal user of their client
    with pytest.raises(PermissionDenied):
        services.user_create(
            actor=actor, email="colleague@client.test", role="portal_user", client_id=actor.client_id
        )
    # then nothing changed
    assert user_rows() == before


def test_admin_creates_staff_with_profile_and_restriction() -> None:
    # given an admin and two clients
    admin = make_staff("admin")
    first, second = ClientFactory(name="Alpha"), ClientFactory(name="Beta")
    # when they create a restricted technician with rates
    user = services.user_create(
        actor=admin,
        email=" Tech.New@MSP.test ",
        role="technician",
        first_name="Théo",
        last_name="Nouveau",
        language="fr",
        password="a long passphrase 2024",
        restrict_to_clients=True,
        assigned_client_ids=[first.pk, second.pk],
        hourly_cost_rate="38.50",
        default_bill_rate=Decimal("95"),
    )
    # then the user, profile and scope are as asked, audited and announced
    user.refresh_from_db()
    assert (user.email, user.role, user.language, user.restrict_to_clients) == (
        "tech.new@msp.test",
        "technician",
        "fr",
        True,
    )
    assert user.check_password("a long passphrase 2024")
    assert user.client_scope() == frozenset({first.pk, second.pk})
    profile = StaffProfile.objects.get(user=user)
    assert (profile.hourly_cost_rate, profile.default_bill_rate) == (Decimal("38.50"), Decimal("95.00"))
    entry = AuditEntry.objects.get(action="user.created")
    assert (entry.actor_id, entry.object_id) == (admin.pk, str(user.pk))
    assert "password" not in entry.changes
    assert list(OutboxEvent.objects.values_list("name", "payload")) == [
        ("user.created", {"user_id": user.pk, "role": "technician"})
    ]


def test_admin_cannot_create_an_owner() -> None:
    # given an admin
    admin = make_staff("admin")
    before = user_rows()
    # when they try to create an owner
    with pytest.raises(PermissionDenied) as refused:
        services.user_create(actor=admin, email="boss@msp.test", role="owner")
    # then it is refused and nothing changed
    assert str(refused.value.message) == "Only an owner can make someone an owner."
    assert user_rows() == before


def test_owner_can_create_an_owner() -> None:
    # given an owner
    owner = make_staff("owner")
    # when they create another owner
    user = services.user_create(actor=owner, email="co-owner@msp.test", role="owner")
    # then it exists, without a usable password until one is set
    assert User.objects.get(pk=user.pk).role == "owner"
    assert user.has_usable_password() is False


def test_admin_cannot_promote_to_owner() -> None:
    # given an admin and a technician
    admin = make_staff("admin")
    tech = make_staff("technician")
    # when the admin tries to make the technician an owner
    with pytest.raises(PermissionDenied):
        services.user_update(actor=admin, user=tech, role="owner")
    # then the technician is unchanged
    assert User.objects.get(pk=tech.pk).role == "technician"


def test_admin_cannot_change_or_deactivate_an_owner() -> None:
    # given an admin and two owners
    admin = make_staff("admin")
    owner = make_staff("owner")
    make_staff("owner")
    before = user_rows()
    # when the admin tries to rename, demote, deactivate or reset the password of an owner
    with pytest.raises(PermissionDenied):
        services.user_update(actor=admin, user=owner, first_name="Hacked")
    with pytest.raises(PermissionDenied):
        services.user_update(actor=admin, user=owner, role="technician")
    with pytest.raises(PermissionDenied):
        services.user_deactivate(actor=admin, user=owner)
    with pytest.raises(PermissionDenied):
        services.user_set_password(actor=admin, user=owner, password="another long passphrase")
    # then nothing changed
    assert user_rows() == before
    owner.refresh_from_db()
    assert owner.first_name != "Hacked"
    assert owner.check_password("correct horse battery staple 42")


def test_last_active_owner_cannot_be_demoted() -> None:
    # given a single owner
    owner = make_staff("owner")
    other = make_staff("owner", is_active=False)
    before = user_rows()
    # when they try to demote themselves
    with pytest.raises(Conflict) as refused:
        services.user_update(actor=owner, user=owner, role="admin")
    # then it is refused with a clear message, and nothing changed
    assert str(refused.value.message) == "This is the last active owner: make another user an owner first."
    assert refused.value.status == 409
    assert user_rows() == before
    assert other.is_active is False


def test_last_active_owner_cannot_deactivate_themselves() -> None:
    # given a single active owner
    owner = make_staff("owner")
    before = user_rows()
    # when they try to deactivate their account through an edit
    with pytest.raises(Conflict):
        services.user_update(actor=owner, user=owner, is_active=False)
    # then nothing changed
    assert user_rows() == before


def test_owner_can_be_demoted_when_another_owner_remains() -> None:
    # given two active owners
    owner = make_staff("owner")
    second = make_staff("owner")
    # when the first demotes the second
    services.user_update(actor=owner, user=second, role="admin")
    # then the second is an admin, and the change is audited
    assert User.objects.get(pk=second.pk).role == "admin"
    entry = AuditEntry.objects.get(action="user.updated")
    assert entry.changes["role"] == ["owner", "admin"]


def test_nobody_deactivates_themselves() -> None:
    # given an admin
    admin = make_staff("admin")
    # when they try to deactivate their own account
    with pytest.raises(Conflict):
        services.user_deactivate(actor=admin, user=admin)
    # then they stay active
    assert User.objects.get(pk=admin.pk).is_active is True


def test_deactivate_makes_login_and_tokens_stop() -> None:
    # given an admin and a technician with a token
    admin = make_staff("admin")
    tech = make_staff("technician")
    ApiTokenFactory(user=tech)
    # when the admin deactivates the technician
    services.user_deactivate(actor=admin, user=tech)
    # then the technician is inactive, audited and announced
    tech.refresh_from_db()
    assert tech.is_active is False
    assert AuditEntry.objects.filter(action="user.deactivated", object_id=str(tech.pk)).count() == 1
    assert OutboxEvent.objects.filter(name="user.deactivated").count() == 1


def test_portal_user_needs_a_client() -> None:
    # given an admin
    admin = make_staff("admin")
    # when they create a portal user without a client
    with pytest.raises(ValidationError) as refused:
        services.user_create(actor=admin, email="p@client.test", role="portal_user")
    # then the client field is in error and no user exists
    assert refused.value.errors == {"client": ["A portal user belongs to a client: choose one."]}
    assert User.objects.filter(email="p@client.test").exists() is False


def test_portal_user_with_a_contact_of_their_client() -> None:
    # given an admin, a client and one of its contacts
    admin = make_staff("admin")
    contact = ContactFactory()
    # when they create a portal user standing for that contact
    user = services.user_create(
        actor=admin,
        email="claire@client.test",
        role="portal_admin",
        client_id=contact.client_id,
        contact_id=contact.pk,
    )
    # then it is tied to both, with no staff profile
    user.refresh_from_db()
    assert (user.client_id, user.contact_id, user.role) == (contact.client_id, contact.pk, "portal_admin")
    assert user.client_scope() == frozenset({contact.client_id})
    assert StaffProfile.objects.filter(user=user).exists() is False


def test_forged_contact_of_another_client_is_refused() -> None:
    # given an admin, client A and a contact of client B
    admin = make_staff("admin")
    client_a = ClientFactory()
    contact_b = ContactFactory()
    # when they create a portal user of A standing for B's contact
    with pytest.raises(ValidationError) as refused:
        services.user_create(
            actor=admin,
            email="forged@client.test",
            role="portal_user",
            client_id=client_a.pk,
            contact_id=contact_b.pk,
        )
    # then it is refused on the contact field and nothing was created
    assert refused.value.errors == {"contact": ["This contact does not belong to the user's client."]}
    assert User.objects.filter(email="forged@client.test").exists() is False


def test_restricted_admin_cannot_assign_clients_they_cannot_see() -> None:
    # given an admin restricted to client A, and client B
    client_a, client_b = ClientFactory(), ClientFactory()
    admin = make_staff("admin", clients=[client_a], restricted=True)
    # when they create a technician assigned to B
    with pytest.raises(ValidationError) as refused:
        services.user_create(
            actor=admin,
            email="t@msp.test",
            role="technician",
            restrict_to_clients=True,
            assigned_client_ids=[client_b.pk],
        )
    # then B is an unknown client for them
    assert refused.value.errors == {"assigned_clients": ["Unknown client."]}


def test_duplicate_email_is_refused_whatever_the_case() -> None:
    # given an existing user
    admin = make_staff("admin", email="taken@msp.test")
    # when another one is created with the same address in capitals
    with pytest.raises(ValidationError) as refused:
        services.user_create(actor=admin, email="TAKEN@msp.test", role="technician")
    # then the e-mail field is in error
    assert refused.value.errors == {"email": ["A user with this e-mail address already exists."]}


def test_weak_password_and_bad_rates_are_reported_together() -> None:
    # given an admin
    admin = make_staff("admin")
    # when they create a user with a short password and a negative rate
    with pytest.raises(ValidationError) as refused:
        services.user_create(
            actor=admin, email="x@msp.test", role="technician", password="short", hourly_cost_rate="-1"
        )
    # then both fields are in error
    assert set(refused.value.errors) == {"password", "hourly_cost_rate"}
    assert User.objects.filter(email="x@msp.test").exists() is False


def test_staff_cannot_become_portal_user() -> None:
    # given an owner and a technician
    owner = make_staff("owner")
    tech = make_staff("technician")
    # when the technician is turned into a portal user
    with pytest.raises(ValidationError) as refused:
        services.user_update(actor=owner, user=tech, role="portal_user")
    # then it is refused
    assert list(refused.value.errors) == ["role"]
    assert User.objects.get(pk=tech.pk).role == "technician"


def test_update_restriction_and_rates() -> None:
    # given an admin, a client and an unrestricted technician
    admin = make_staff("admin")
    client = ClientFactory()
    tech = make_staff("technician")
    # when the admin restricts them to the client and changes their bill rate
    services.user_update(
        actor=admin,
        user=tech,
        restrict_to_clients=True,
        assigned_client_ids=[client.pk],
        default_bill_rate="110.00",
    )
    # then scope and profile follow
    tech = User.objects.get(pk=tech.pk)
    assert tech.client_scope() == frozenset({client.pk})
    assert StaffProfile.objects.get(user=tech).default_bill_rate == Decimal("110.00")
    changes = AuditEntry.objects.get(action="user.updated").changes
    assert changes["assigned_client_ids"] == [[], [client.pk]]
    assert changes["restrict_to_clients"] == [False, True]
    assert changes["default_bill_rate"] == ["90.00", "110.00"]


def test_set_password_by_admin() -> None:
    # given an admin and a technician
    admin = make_staff("admin")
    tech = make_staff("technician")
    # when the admin sets a new password, then a too-short one
    services.user_set_password(actor=admin, user=tech, password="fresh long passphrase 7")
    with pytest.raises(ValidationError):
        services.user_set_password(actor=admin, user=tech, password="short")
    # then the first one is in force
    tech.refresh_from_db()
    assert tech.check_password("fresh long passphrase 7")
    assert AuditEntry.objects.filter(action="user.password_set").count() == 1


def test_token_create_and_revoke_rules() -> None:
    # given a technician, an admin and the technician's token
    tech = make_staff("technician")
    admin = make_staff("admin")
    other_tech = make_staff("technician")
    token, _plain = services.token_create(actor=tech, name="script")
    # when another technician tries to revoke it
    with pytest.raises(PermissionDenied):
        services.token_revoke(actor=other_tech, token=token)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    # when the admin revokes it (twice)
    services.token_revoke(actor=admin, token=token)
    first = ApiToken.objects.get(pk=token.pk).revoked_at
    services.token_revoke(actor=admin, token=token)
    # then it is revoked once, audited once
    assert first is not None
    assert ApiToken.objects.get(pk=token.pk).revoked_at == first
    assert AuditEntry.objects.filter(action="api_token.revoked").count() == 1


def test_token_name_and_expiry_are_validated() -> None:
    # given a technician
    tech = make_staff("technician")
    # when they create a token without a name and with an expiry in the past
    with pytest.raises(ValidationError) as refused:
        services.token_create(actor=tech, name="  ", expires_at=timezone.now())
    # then both are reported and nothing was created
    assert set(refused.value.errors) == {"name", "expires_at"}
    assert ApiToken.objects.count() == 0


def test_demo_totp_enrolment_is_for_demo_accounts_only() -> None:
    # given a demo user and a normal user
    demo = make_staff("technician", mfa=False, is_demo=True)
    normal = make_staff("technician", mfa=False)
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    # when the seeder enrols both
    codes = services.demo_enroll_totp(demo, secret)
    with pytest.raises(PermissionDenied):
        services.demo_enroll_totp(normal, secret)
    # then only the demo user has TOTP (with that secret) and recovery codes
    totp = Authenticator.objects.get(user=demo, type="totp")
    assert totp.wrap().instance.data["secret"] == secret
    assert len(codes) == 10
    assert Authenticator.objects.filter(user=normal).count() == 0


def test_demo_totp_enrolment_refuses_a_weak_secret() -> None:
    # given a demo user
    demo = make_staff("technician", mfa=False, is_demo=True)
    # when the secret is not base32 or too short
    for secret in ("not base32!", "JBSWY3DP"):
        with pytest.raises(ValidationError):
            services.demo_enroll_totp(demo, secret)
    # then nothing was enrolled
    assert Authenticator.objects.filter(user=demo).count() == 0


def test_owner_bootstrap_refuses_a_second_owner_unless_forced() -> None:
    # given an owner
    make_staff("owner")
    # when a second one is bootstrapped, without then with force
    with pytest.raises(Conflict):
        services.owner_bootstrap(email="second@msp.test", password="a long passphrase 2024")
    forced = services.owner_bootstrap(email="second@msp.test", password="a long passphrase 2024", force=True)
    # then only the forced one exists
    assert forced.role == "owner"
    assert User.objects.filter(role="owner").count() == 2
