"""Pages: user management (owners and administrators) and "Your account" (everyone)."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from tenfold.accounts import selectors, services
from tenfold.accounts.forms import PasswordSetForm, ProfileForm, TokenForm, UserForm, apply_errors
from tenfold.accounts.models import User
from tenfold.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from tenfold.core.lists import ChoiceFilter, Column, ListSpec, render_list
from tenfold.core.roles import Role, has_capability, require


def _actor(request: HttpRequest) -> User:
    """The signed-in user (the views below all require a login)."""
    return cast(User, request.user)


def _when(value: Any) -> str:
    if value is None:
        return "—"
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


USER_LIST = ListSpec(
    columns=[
        Column("name", gettext_lazy("Name"), accessor=lambda u: u.get_full_name() or "—", sort="last_name",
               link=lambda u: reverse("accounts:user_detail", args=[u.pk])),
        Column("email", gettext_lazy("E-mail"), sort="email",
               link=lambda u: reverse("accounts:user_detail", args=[u.pk])),
        Column("role", gettext_lazy("Role"), sort="role"),
        Column("client", gettext_lazy("Client"), accessor=lambda u: u.client.name if u.client_id else ""),
        Column("is_active", gettext_lazy("State"), sort="is_active", badge=True,
               accessor=lambda u: _("Active") if u.is_active else _("Inactive"),
               badge_key=lambda u: "active" if u.is_active else "inactive"),
        Column("mfa", gettext_lazy("Two-factor"), badge=True,
               accessor=lambda u: _("Set up") if u.has_second_factor else _("Missing") if u.is_staff_member
               else _("Optional"),
               badge_key=lambda u: "set-up" if u.has_second_factor else "missing" if u.is_staff_member
               else "optional"),
        Column("last_login", gettext_lazy("Last login"), sort="last_login",
               accessor=lambda u: _when(u.last_login)),
    ],
    search_fields=["first_name", "last_name", "email"],
    filters=[
        ChoiceFilter("role", gettext_lazy("Role"), "role", lambda request: list(Role.choices)),
        ChoiceFilter("active", gettext_lazy("State"), "is_active",
                     lambda request: [("1", _("Active")), ("0", _("Inactive"))]),
    ],
    default_sort="name",
)


def _changeable_user(actor: User, pk: int) -> User:
    """The user to change: 404 if missing, 403 without the right (only owners change owners)."""
    user = selectors.access_user(actor, pk)
    require(actor, "users", "change")
    if user.role == Role.OWNER and actor.role != Role.OWNER:
        raise PermissionDenied(_("Only an owner can change an owner's account."))
    return user


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    """Every user, searchable by name and e-mail, filtered by role and state."""
    queryset = selectors.users_visible(_actor(request))
    return render_list(request, queryset, USER_LIST, template="accounts/user_list.html")


@login_required
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A user's identity, role, restriction, rates and API tokens."""
    actor = _actor(request)
    user = selectors.access_user(actor, pk)
    return render(request, "accounts/user_detail.html", {
        "subject": user, "profile": getattr(user, "staff_profile", None),
        "assigned": list(user.assigned_clients.order_by("name")) if user.restrict_to_clients else [],
        "tokens": list(selectors.tokens_of(user)), "has_mfa": selectors.has_mfa(user),
        "can_change": has_capability(actor, "users", "change")
        and (user.role != Role.OWNER or actor.role == Role.OWNER),
    })


@login_required
@require_http_methods(["GET", "POST"])
def user_create(request: HttpRequest) -> HttpResponse:
    """Create a staff or portal user."""
    actor = _actor(request)
    require(actor, "users", "add")
    form = UserForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(actor=actor, **form.service_arguments())
        except (ValidationError, Conflict) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("User %(name)s created.") % {"name": user})
            return redirect("accounts:user_detail", pk=user.pk)
    return render(request, "accounts/user_form.html", {"form": form, "subject": None})


@login_required
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a user's role, names, language, state, restriction or rates."""
    actor = _actor(request)
    user = _changeable_user(actor, pk)
    form = UserForm(request.POST or None, actor=actor, instance=user)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(actor=actor, user=user, **form.service_arguments())
        except (ValidationError, Conflict) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("accounts:user_detail", pk=user.pk)
    return render(request, "accounts/user_form.html", {"form": form, "subject": user})


@login_required
@require_http_methods(["GET", "POST"])
def user_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask, then deactivate a user."""
    actor = _actor(request)
    user = _changeable_user(actor, pk)
    error = ""
    if request.method == "POST":
        try:
            services.user_deactivate(actor=actor, user=user)
        except Conflict as exc:
            error = str(exc.message)
        else:
            messages.success(request, _("%(name)s can no longer log in.") % {"name": user})
            return redirect("accounts:user_detail", pk=user.pk)
    return render(request, "accounts/user_confirm_deactivate.html", {"subject": user, "error": error},
                  status=409 if error else 200)


@login_required
@require_http_methods(["GET", "POST"])
def user_password(request: HttpRequest, pk: int) -> HttpResponse:
    """Set a new password for a user."""
    actor = _actor(request)
    user = _changeable_user(actor, pk)
    form = PasswordSetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_set_password(actor=actor, user=user, password=form.cleaned_data["password1"])
        except ValidationError as exc:
            for message in exc.errors.get("password", [str(exc.message)]):
                form.add_error("password1", message)
        else:
            if user.pk == actor.pk:
                update_session_auth_hash(request, user)
            messages.success(request, _("Password changed for %(name)s.") % {"name": user})
            return redirect("accounts:user_detail", pk=user.pk)
    return render(request, "accounts/user_password.html", {"form": form, "subject": user})


@login_required
@require_POST
def user_token_revoke(request: HttpRequest, pk: int, token_pk: int) -> HttpResponse:
    """Revoke another user's API token."""
    actor = _actor(request)
    user = selectors.access_user(actor, pk)
    token = selectors.tokens_of(user).filter(pk=token_pk).first()
    if token is None:
        raise NotFound()
    services.token_revoke(actor=actor, token=token)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("accounts:user_detail", pk=user.pk)


def _profile_page(request: HttpRequest, form: ProfileForm, token_form: TokenForm,
                  status: int = 200) -> HttpResponse:
    actor = _actor(request)
    return render(request, "accounts/profile.html", {
        "form": form, "token_form": token_form, "tokens": list(selectors.tokens_of(actor)),
        "has_mfa": selectors.has_mfa(actor),
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """Your account: names, language, two-factor authentication and API tokens."""
    user = _actor(request)
    initial = {"first_name": user.first_name, "last_name": user.last_name, "language": user.language}
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            updated = services.profile_update(actor=user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if updated.language:
                translation.activate(updated.language)
            messages.success(request, _("Your account was saved."))
            response = redirect("accounts:profile")
            if updated.language:
                response.set_cookie(settings.LANGUAGE_COOKIE_NAME, updated.language,
                                    max_age=settings.LANGUAGE_COOKIE_AGE, samesite="Lax",
                                    secure=settings.SESSION_COOKIE_SECURE)
            return response
    return _profile_page(request, form, TokenForm(), status=422 if form.errors else 200)


@never_cache
@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    """Create a token and show it once; the answer is never cached and the token never shown again."""
    actor = _actor(request)
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            token, plain = services.token_create(actor=actor, **form.service_arguments())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return render(request, "accounts/token_created.html", {"token": token, "plain": plain})
    profile_form = ProfileForm(initial={"first_name": actor.first_name, "last_name": actor.last_name,
                                        "language": actor.language})
    return _profile_page(request, profile_form, form, status=422)


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of your own tokens."""
    actor = _actor(request)
    token = selectors.access_own_token(actor, pk)
    services.token_revoke(actor=actor, token=token)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("accounts:profile")
