"""Per-user language, and mandatory MFA for staff."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from tenfold.accounts.selectors import needs_mfa_setup


class UserLanguageMiddleware:
    """Activate the signed-in user's language when they chose one (after AuthenticationMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        language = getattr(user, "language", "") if user is not None and user.is_authenticated else ""
        if language and language in dict(settings.LANGUAGES):
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


def mfa_setup_paths() -> tuple[str, ...]:
    """Path prefixes a staff user without MFA may still reach."""
    return (
        reverse("mfa_index"),  # /accounts/2fa/: TOTP activation, recovery codes, security keys
        reverse("account_logout"),
        reverse("account_reauthenticate"),
        settings.STATIC_URL,
        "/i18n/",
        "/healthz",
    )


class MandatoryMFAMiddleware:
    """A staff user without TOTP or a security key may only set one up (or log out).

    Runs in process_view, so that the message middleware (later in the chain) is ready to carry the
    explanation to the set-up page. There is no setting that turns this off.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._allowed: tuple[str, ...] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def allowed(self, path: str) -> bool:
        """Whether the path is one of the MFA set-up pages or an always-open resource."""
        if self._allowed is None:
            self._allowed = mfa_setup_paths()
        return path.startswith(self._allowed)

    def process_view(self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any,
                     view_kwargs: Any) -> HttpResponse | None:
        if self.allowed(request.path_info):
            return None
        if request.path_info.startswith("/api/") and request.headers.get("Authorization"):
            return None  # a token request: the token's owner is checked by the API's authentication
        if not needs_mfa_setup(getattr(request, "user", None)):
            return None
        message = _("Two-factor authentication is mandatory for staff accounts: set it up to continue.")
        if request.path_info.startswith("/api/"):
            return JsonResponse({"code": "mfa_required", "message": message}, status=403)
        setup_url = reverse("mfa_activate_totp")
        if hasattr(request, "_messages"):
            messages.warning(request, message)
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = setup_url
            return response
        return HttpResponseRedirect(setup_url)
