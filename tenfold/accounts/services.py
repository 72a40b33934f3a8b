"""Writes of users, staff profiles and API tokens: each validates, writes, audits and emits in one
transaction."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tenfold.accounts import tokens
from tenfold.accounts.models import ApiToken, StaffProfile, User
from tenfold.clients.models import Client, Contact
from tenfold.clients.selectors import clients_visible, contacts_visible
from tenfold.core import audit, events
from tenfold.core.errors import Conflict, PermissionDenied, ValidationError
from tenfold.core.roles import PORTAL_ROLES, STAFF_ROLES, Role, require

USER_FIELDS = ["email", "first_name", "last_name", "role", "is_active", "language", "restrict_to_clients",
               "client", "contact"]
PROFILE_FIELDS = ["job_title", "phone", "hourly_cost_rate", "default_bill_rate"]
UPDATABLE = frozenset({"email", "first_name", "last_name", "role", "language", "is_active",
                       "restrict_to_clients", "assigned_client_ids", "contact_id", "job_title", "phone",
                       "hourly_cost_rate", "default_bill_rate"})
MAX_NAME = 100
PORTAL_NO_ASSIGNMENT = gettext_lazy("Portal users see their own client only; no assignment needed.")


class _Errors:
    """Collects field errors so that a form shows all of them at once."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(str(message))

    def raise_if_any(self) -> None:
        if self.errors:
            first = next(iter(self.errors.values()))[0]
            raise ValidationError(first, errors=self.errors)


def _is_owner(actor: Any) -> bool:
    return getattr(actor, "role", None) == Role.OWNER


def _normalize_email(email: str, errors: _Errors, *, exclude_pk: int | None = None) -> str:
    value = (email or "").strip().lower()
    try:
        validate_email(value)
    except DjangoValidationError:
        errors.add("email", _("Enter a valid e-mail address."))
        return value
    others = User.objects.filter(email__iexact=value)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if others.exists():
        errors.add("email", _("A user with this e-mail address already exists."))
    return value


def _check_names(values: dict[str, str], errors: _Errors) -> None:
    for field in ("first_name", "last_name"):
        if len(values.get(field, "")) > MAX_NAME:
            errors.add(field, _("At most %(n)s characters.") % {"n": MAX_NAME})


def _check_language(language: str, errors: _Errors) -> None:
    if language and language not in dict(settings.LANGUAGES):
        errors.add("language", _("Unknown language."))


def _money(value: Any, field: str, errors: _Errors) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors.add(field, _("Enter an amount such as 45.00."))
        return None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("100000000"):
        errors.add(field, _("Enter an amount between 0 and 99999999.99."))
        return None
    if amount != amount.quantize(Decimal("0.01")):
        errors.add(field, _("At most two decimal places."))
        return None
    return amount


def _visible_clients(actor: Any, ids: Iterable[int], errors: _Errors, field: str) -> list[Client]:
    """The clients with these ids that the actor may see; an unknown or hidden id is a field error."""
    wanted = {int(i) for i in ids}
    found = list(clients_visible(actor).filter(pk__in=wanted)) if wanted else []
    if len(found) != len(wanted):
        errors.add(field, _("Unknown client."))
    return found


def _portal_contact(actor: Any, client: Client | None, contact_id: int | None, errors: _Errors,
                    *, user_pk: int | None = None) -> Contact | None:
    """The contact a portal user stands for: it must belong to the user's client and be free."""
    if contact_id is None:
        return None
    contact = contacts_visible(actor).filter(pk=contact_id).first()
    if contact is None or client is None or contact.client_id != client.pk:
        errors.add("contact", _("This contact does not belong to the user's client."))
        return None
    taken = User.objects.filter(contact_id=contact.pk)
    if user_pk is not None:
        taken = taken.exclude(pk=user_pk)
    if taken.exists():
        errors.add("contact", _("This contact already has a portal account."))
        return None
    return contact


def _guard_role_change(actor: Any, user: User | None, new_role: str) -> None:
    """Only an owner makes owners or changes an owner's account."""
    if user is not None and user.role == Role.OWNER and not _is_owner(actor):
        raise PermissionDenied(_("Only an owner can change an owner's account."))
    if new_role == Role.OWNER and not _is_owner(actor) and (user is None or user.role != Role.OWNER):
        raise PermissionDenied(_("Only an owner can make someone an owner."))


def _guard_last_owner(user: User, *, new_role: str, new_active: bool) -> None:
    """Refuse to leave the MSP without an active owner (owner rows locked in id order)."""
    if user.role != Role.OWNER or not user.is_active:
        return
    if new_role == Role.OWNER and new_active:
        return
    owners = list(User.objects.select_for_update().filter(role=Role.OWNER, is_active=True)
                  .order_by("pk").values_list("pk", flat=True))
    if not [pk for pk in owners if pk != user.pk]:
        field = "role" if new_role != Role.OWNER else "is_active"
        raise Conflict(_("This is the last active owner: make another user an owner first."), field=field)


def _user_snapshot(user: User) -> dict[str, Any]:
    data = audit.snapshot(user, USER_FIELDS)
    data["assigned_client_ids"] = (sorted(user.assigned_clients.values_list("pk", flat=True))
                                   if user.pk else [])
    profile = StaffProfile.objects.filter(user_id=user.pk).first() if user.pk else None
    if profile is not None:
        data.update(audit.snapshot(profile, PROFILE_FIELDS))
    return data


def _save_new_user(user: User) -> None:
    try:
        with transaction.atomic():
            user.save(force_insert=True)
    except IntegrityError:
        raise ValidationError(_("A user with this e-mail address already exists."), field="email") from None


@transaction.atomic
def user_create(*, actor: Any, email: str, role: str, first_name: str = "", last_name: str = "",
                language: str = "", password: str | None = None, client_id: int | None = None,
                contact_id: int | None = None, restrict_to_clients: bool = False,
                assigned_client_ids: Iterable[int] = (), job_title: str = "", phone: str = "",
                hourly_cost_rate: Any = None, default_bill_rate: Any = None) -> User:
    """Create a staff user (with a staff profile) or a portal user of one client."""
    require(actor, "users", "add")
    if role not in Role.values:
        raise ValidationError(_("Unknown role."), field="role")
    _guard_role_change(actor, None, role)
    errors = _Errors()
    names = {"first_name": (first_name or "").strip(), "last_name": (last_name or "").strip()}
    _check_names(names, errors)
    _check_language(language, errors)
    normalized = _normalize_email(email, errors)
    client: Client | None = None
    contact: Contact | None = None
    assigned: list[Client] = []
    cost = bill = None
    if role in PORTAL_ROLES:
        if client_id is None:
            errors.add("client", _("A portal user belongs to a client: choose one."))
        else:
            found = _visible_clients(actor, [client_id], errors, "client")
            client = found[0] if found else None
        contact = _portal_contact(actor, client, contact_id, errors)
        if restrict_to_clients or list(assigned_client_ids):
            errors.add("restrict_to_clients", str(PORTAL_NO_ASSIGNMENT))
    else:
        if client_id is not None or contact_id is not None:
            errors.add("client", _("Staff users do not belong to a client."))
        assigned = _visible_clients(actor, assigned_client_ids, errors, "assigned_clients")
        if restrict_to_clients and not assigned and "assigned_clients" not in errors.errors:
            errors.add("assigned_clients", _("A restricted user needs at least one assigned client."))
        cost = _money(hourly_cost_rate, "hourly_cost_rate", errors)
        bill = _money(default_bill_rate, "default_bill_rate", errors)
    user = User(email=normalized, role=role, language=language or "", client=client, contact=contact,
                restrict_to_clients=bool(restrict_to_clients) and role in STAFF_ROLES, **names)
    if password:
        try:
            validate_password(password, user)
        except DjangoValidationError as exc:
            for message in exc.messages:
                errors.add("password", message)
    errors.raise_if_any()
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    _save_new_user(user)
    if role in STAFF_ROLES:
        user.assigned_clients.set(assigned)
        StaffProfile.objects.create(user=user, job_title=(job_title or "").strip()[:120],
                                    phone=(phone or "").strip()[:40],
                                    hourly_cost_rate=cost or Decimal("0.00"),
                                    default_bill_rate=bill or Decimal("0.00"))
    user.forget_scope()
    audit.record(actor, "user.created", user, changes={k: [None, v] for k, v in _user_snapshot(user).items()})
    events.emit("user.created", payload={"user_id": user.pk, "role": user.role}, client_id=user.client_id)
    return user


@transaction.atomic
def user_update(*, actor: Any, user: User, **changes: Any) -> User:
    """Change a user's role, names, language, active flag, client restriction, contact or staff rates."""
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise TypeError(f"user_update() got unknown fields: {', '.join(sorted(unknown))}")
    require(actor, "users", "change")
    user = User.objects.select_for_update().get(pk=user.pk)
    before = _user_snapshot(user)
    new_role = changes.get("role", user.role)
    if new_role not in Role.values:
        raise ValidationError(_("Unknown role."), field="role")
    _guard_role_change(actor, user, new_role)
    errors = _Errors()
    if (new_role in PORTAL_ROLES) != user.is_portal:
        errors.add("role", _("A staff user cannot become a portal user or the reverse: create a new user."))
    new_active = bool(changes.get("is_active", user.is_active))
    if not new_active and user.pk == getattr(actor, "pk", None):
        raise Conflict(_("You cannot deactivate your own account."), field="is_active")
    if "email" in changes:
        user.email = _normalize_email(changes["email"], errors, exclude_pk=user.pk)
    for field in ("first_name", "last_name"):
        if field in changes:
            setattr(user, field, (changes[field] or "").strip())
    _check_names({"first_name": user.first_name, "last_name": user.last_name}, errors)
    if "language" in changes:
        _check_language(changes["language"] or "", errors)
        user.language = changes["language"] or ""
    assigned: list[Client] | None = None
    profile: StaffProfile | None = None
    if user.is_portal:
        if "contact_id" in changes:
            user.contact = _portal_contact(actor, user.client, changes["contact_id"], errors, user_pk=user.pk)
        if changes.get("restrict_to_clients") or changes.get("assigned_client_ids"):
            errors.add("restrict_to_clients", str(PORTAL_NO_ASSIGNMENT))
    else:
        if changes.get("contact_id") is not None:
            errors.add("contact", _("Staff users do not stand for a client's contact."))
        if "assigned_client_ids" in changes:
            assigned = _visible_clients(actor, changes["assigned_client_ids"] or [], errors,
                                        "assigned_clients")
        if "restrict_to_clients" in changes:
            user.restrict_to_clients = bool(changes["restrict_to_clients"])
        if user.restrict_to_clients and "assigned_clients" not in errors.errors:
            remaining = assigned if assigned is not None else list(user.assigned_clients.all())
            if not remaining:
                errors.add("assigned_clients", _("A restricted user needs at least one assigned client."))
        profile, _created = StaffProfile.objects.get_or_create(user=user)
        for field in ("hourly_cost_rate", "default_bill_rate"):
            if field in changes:
                amount = _money(changes[field], field, errors)
                if amount is not None:
                    setattr(profile, field, amount)
        if "job_title" in changes:
            profile.job_title = (changes["job_title"] or "").strip()[:120]
        if "phone" in changes:
            profile.phone = (changes["phone"] or "").strip()[:40]
    errors.raise_if_any()
    _guard_last_owner(user, new_role=new_role, new_active=new_active)
    user.role = new_role
    user.is_active = new_active
    user.save()
    if assigned is not None:
        user.assigned_clients.set(assigned)
    if profile is not None:
        profile.save()
    user.forget_scope()
    after = _user_snapshot(user)
    changed = audit.diff(before, after)
    if changed:
        audit.record(actor, "user.updated", user, changes=changed)
        events.emit("user.updated", payload={"user_id": user.pk, "fields": sorted(changed)},
                    client_id=user.client_id)
    return user


@transaction.atomic
def user_deactivate(*, actor: Any, user: User) -> User:
    """Deactivate a user: they can no longer log in nor use their API tokens."""
    require(actor, "users", "change")
    user = User.objects.select_for_update().get(pk=user.pk)
    _guard_role_change(actor, user, user.role)
    if user.pk == getattr(actor, "pk", None):
        raise Conflict(_("You cannot deactivate your own account."), field="is_active")
    if not user.is_active:
        return user
    _guard_last_owner(user, new_role=user.role, new_active=False)
    user.is_active = False
    user.save(update_fields=["is_active"])
    audit.record(actor, "user.deactivated", user, changes={"is_active": [True, False]})
    events.emit("user.deactivated", payload={"user_id": user.pk}, client_id=user.client_id)
    return user


@transaction.atomic
def user_set_password(*, actor: Any, user: User, password: str) -> User:
    """Set another user's password (an administrator's reset); it ends that user's sessions."""
    require(actor, "users", "change")
    _guard_role_change(actor, user, user.role)
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationError(exc.messages[0], errors={"password": list(exc.messages)}) from None
    user.set_password(password)
    user.save(update_fields=["password"])
    audit.record(actor, "user.password_set", user)
    return user


@transaction.atomic
def profile_update(*, actor: Any, first_name: str, last_name: str, language: str) -> User:
    """Change one's own names and language preference."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied()
    user = User.objects.select_for_update().get(pk=actor.pk)
    before = audit.snapshot(user, ["first_name", "last_name", "language"])
    errors = _Errors()
    names = {"first_name": (first_name or "").strip(), "last_name": (last_name or "").strip()}
    _check_names(names, errors)
    _check_language(language or "", errors)
    errors.raise_if_any()
    user.first_name, user.last_name, user.language = names["first_name"], names["last_name"], language or ""
    user.save(update_fields=["first_name", "last_name", "language"])
    changed = audit.diff(before, audit.snapshot(user, ["first_name", "last_name", "language"]))
    if changed:
        audit.record(actor, "user.profile_updated", user, changes=changed)
    return user


@transaction.atomic
def token_create(*, actor: Any, name: str, read_only: bool = True,
                 expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """Create a personal API token; the plain token is returned here once and never stored."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied()
    errors = _Errors()
    name = (name or "").strip()
    if not name:
        errors.add("name", _("Give the token a name, e.g. the script that will use it."))
    elif len(name) > MAX_NAME:
        errors.add("name", _("At most %(n)s characters.") % {"n": MAX_NAME})
    if expires_at is not None:
        if timezone.is_naive(expires_at):
            expires_at = timezone.make_aware(expires_at)
        if expires_at <= timezone.now():
            errors.add("expires_at", _("The expiry must be in the future."))
    errors.raise_if_any()
    for _attempt in range(5):
        plain, prefix = tokens.new_token()
        try:
            with transaction.atomic():
                token = ApiToken.objects.create(user_id=actor.pk, name=name, prefix=prefix,
                                                token_hash=tokens.hash_token(plain),
                                                read_only=bool(read_only), expires_at=expires_at)
            break
        except IntegrityError:
            continue  # prefix collision: draw again
    else:
        raise Conflict(_("Could not create a token; try again."))
    audit.record(actor, "api_token.created", token, changes={
        "name": [None, name], "prefix": [None, prefix], "read_only": [None, bool(read_only)],
        "expires_at": [None, expires_at.isoformat() if expires_at else None]})
    return token, plain


@transaction.atomic
def token_revoke(*, actor: Any, token: ApiToken) -> ApiToken:
    """Revoke an API token: one's own, or anyone's for those who manage users."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied()
    if token.user_id != actor.pk:
        require(actor, "users", "change")
        owner = User.objects.filter(pk=token.user_id).only("role").first()
        if owner is not None and owner.role == Role.OWNER and not _is_owner(actor):
            raise PermissionDenied(_("Only an owner can change an owner's account."))
    now = timezone.now()
    if ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now):
        token.revoked_at = now
        audit.record(actor, "api_token.revoked", token, changes={"revoked_at": [None, now.isoformat()]})
    else:
        token.refresh_from_db()
    return token


@transaction.atomic
def owner_bootstrap(*, email: str, password: str, first_name: str = "", last_name: str = "",
                    force: bool = False) -> User:
    """Create an owner from the command line (the system acts); refused when an owner exists unless forced."""
    if not force and User.objects.filter(role=Role.OWNER).exists():
        raise Conflict(_("An owner already exists; use --force to create another one."))
    errors = _Errors()
    normalized = _normalize_email(email, errors)
    user = User(email=normalized, role=Role.OWNER, first_name=(first_name or "").strip(),
                last_name=(last_name or "").strip())
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        for message in exc.messages:
            errors.add("password", message)
    errors.raise_if_any()
    user.set_password(password)
    _save_new_user(user)
    StaffProfile.objects.create(user=user)
    audit.record(None, "user.created", user, changes={"email": [None, user.email], "role": [None, user.role]})
    events.emit("user.created", payload={"user_id": user.pk, "role": user.role})
    return user


@transaction.atomic
def demo_enroll_totp(user: User, secret: str) -> list[str]:
    """Enroll a demo user's TOTP from a known base32 secret (demo accounts only); returns recovery codes."""
    if not user.is_demo:
        raise PermissionDenied(_("Only demo accounts can be enrolled with a known secret."))
    cleaned = (secret or "").strip().replace(" ", "").upper()
    try:
        if len(base64.b32decode(cleaned, casefold=True)) < 10:
            raise ValueError("too short")
    except (binascii.Error, ValueError):
        raise ValidationError(_("The secret must be base32 of at least 80 bits."), field="secret") from None
    Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).delete()
    TOTP.activate(user, cleaned)
    codes = RecoveryCodes.activate(user).generate_codes()
    audit.record(None, "mfa.demo_enrolled", user)
    return codes
