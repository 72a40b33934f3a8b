"""Staff and portal users, staff profiles, client restrictions and personal API tokens."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenfold.core.models import TimeStampedModel
from tenfold.core.roles import PORTAL_ROLES, STAFF_ROLES, Role


class UserManager(BaseUserManager["User"]):
    """Users are identified by e-mail."""

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        """Create a user; the e-mail is stored in lower case (it is the login)."""
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user


class User(AbstractBaseUser):
    """Someone who logs in: MSP staff (with a role) or a client-portal user (tied to one client)."""

    email = models.EmailField(_("email"), unique=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.TECHNICIAN)
    is_active = models.BooleanField(_("active"), default=True)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, blank=True,
                                help_text=_("Empty: the browser's language."))
    restrict_to_clients = models.BooleanField(
        _("restricted to assigned clients"), default=False,
        help_text=_("When set, this user sees only the clients assigned below."))
    assigned_clients = models.ManyToManyField("clients.Client", verbose_name=_("assigned clients"),
                                              blank=True, related_name="assigned_staff")
    client = models.ForeignKey("clients.Client", verbose_name=_("client"), null=True, blank=True,
                               on_delete=models.CASCADE, related_name="portal_users")
    contact = models.OneToOneField("clients.Contact", verbose_name=_("contact"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="portal_user")
    is_demo = models.BooleanField(default=False, editable=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["last_name", "first_name", "email"]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(role__in=sorted(PORTAL_ROLES), client__isnull=False)
                           | (~models.Q(role__in=sorted(PORTAL_ROLES)) & models.Q(client__isnull=True))),
                name="accounts_user_portal_has_client"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def get_full_name(self) -> str:
        """First and last name, or empty."""
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        """First name, else the e-mail."""
        return self.first_name or self.email

    @property
    def is_portal(self) -> bool:
        """Whether this is a client-portal user."""
        return self.role in PORTAL_ROLES

    @property
    def is_staff_member(self) -> bool:
        """Whether this is MSP staff (MFA is mandatory for them)."""
        return self.role in STAFF_ROLES

    def client_scope(self) -> frozenset[int] | None:
        """Client ids this user may see; None means every client."""
        if "_client_scope_cache" in self.__dict__:
            cached: frozenset[int] | None = self.__dict__["_client_scope_cache"]
            return cached
        scope: frozenset[int] | None
        if self.is_portal:
            scope = frozenset({self.client_id}) if self.client_id else frozenset()
        elif self.restrict_to_clients and self.pk:
            scope = frozenset(self.assigned_clients.values_list("pk", flat=True))
        else:
            scope = None
        self._client_scope_cache = scope
        return scope

    def forget_scope(self) -> None:
        """Drop the cached scope after assignments change."""
        self.__dict__.pop("_client_scope_cache", None)


class StaffProfile(TimeStampedModel):
    """What a staff member costs and is billed at; read by service desk, billing and people."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="staff_profile")
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    hourly_cost_rate = models.DecimalField(_("hourly cost rate"), max_digits=10, decimal_places=2,
                                           default=Decimal("0.00"),
                                           validators=[MinValueValidator(Decimal("0"))])
    default_bill_rate = models.DecimalField(_("default bill rate"), max_digits=10, decimal_places=2,
                                            default=Decimal("0.00"),
                                           validators=[MinValueValidator(Decimal("0"))])

    class Meta:
        verbose_name = _("staff profile")

    def __str__(self) -> str:
        return str(self.user)


class TokenState(models.TextChoices):
    """Whether an API token can still be used."""

    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")


class ApiToken(TimeStampedModel):
    """A personal API token: shown once, stored as a SHA-256 hash, read-only or read-write, revocable."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    token_hash = models.CharField(max_length=64)
    read_only = models.BooleanField(_("read only"), default=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        """Neither revoked nor expired."""
        return self.state == TokenState.ACTIVE

    @property
    def state(self) -> str:
        """Active, expired or revoked (revoked wins)."""
        if self.revoked_at is not None:
            return TokenState.REVOKED
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return TokenState.EXPIRED
        return TokenState.ACTIVE

    def get_state_display(self) -> str:
        """The state in the user's language."""
        return str(TokenState(self.state).label)
