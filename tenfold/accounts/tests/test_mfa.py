"""Mandatory MFA for staff, optional for portal users; login with password then code; login rate limit."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.test import Client as HttpClient
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from tenfold.accounts.models import ApiToken, User
from tenfold.accounts.tests.factories import (
    PASSWORD,
    ClientFactory,
    logged_in,
    make_portal_user,
    make_staff,
    totp_code,
)
from tenfold.core.roles import STAFF_ROLES

pytestmark = pytest.mark.django_db

SETUP_URL = "/accounts/2fa/totp/activate/"
OPEN_PREFIXES = (
    "/accounts/2fa/",
    "/accounts/logout/",
    "/accounts/reauthenticate/",
    "/i18n/",
    "/healthz",
    "/static/",
)


def password_login(http: HttpClient, email: str, password: str = PASSWORD) -> Any:
    return http.post("/accounts/login/", {"login": email, "password": password})


def every_page_path() -> list[str]:
    """A path for every named UI pattern (ids filled with 1), outside the API."""
    paths: list[str] = []

    def walk(patterns: list[Any], namespace: str, names: tuple[str, ...]) -> None:
        for entry in patterns:
            found = names + tuple(entry.pattern.regex.groupindex)
            if isinstance(entry, URLResolver):
                if (entry.namespace or "").startswith("api"):
                    continue
                walk(
                    entry.url_patterns,
                    f"{namespace}{entry.namespace}:" if entry.namespace else namespace,
                    found,
                )
            elif isinstance(entry, URLPattern) and entry.name:
                paths.append(reverse(f"{namespace}{entry.name}", kwargs=dict.fromkeys(found, "1") or None))

    walk(get_resolver().url_patterns, "", ())
    return sorted(set(paths))


class _InlineCode(HTMLParser):
    """Collects what a strict CSP would block: inline scripts, style attributes, inline handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if "style" in names:
            self.blocked.append(f"style= on <{tag}>")
        self.blocked.extend(f"{name}= on <{tag}>" for name in names if name.startswith("on"))
        if tag == "script" and "src" not in names and names.get("type") != "application/json":
            self.blocked.append("inline <script>")
        if tag == "style":
            self.blocked.append("<style> element")


def inline_code(html: str) -> list[str]:
    parser = _InlineCode()
    parser.feed(html)
    return parser.blocked


def test_staff_without_mfa_is_sent_to_totp_setup_from_every_page() -> None:
    # given a technician who has not set up MFA
    user = make_staff("technician", mfa=False)
    http = logged_in(user)
    paths = [p for p in every_page_path() if not p.startswith(OPEN_PREFIXES)]
    assert {"/", "/accounts/profile/", "/accounts/users/", "/clients/"} <= set(paths)
    # when they open every page
    answers = {path: http.get(path) for path in paths}
    # then each one redirects to the TOTP set-up page
    wrong = {
        path: (r.status_code, r.get("Location"))
        for path, r in answers.items()
        if (r.status_code, r.get("Location")) != (302, SETUP_URL)
    }
    assert wrong == {}


def test_staff_without_mfa_cannot_post_anything_either() -> None:
    # given an owner without MFA
    user = make_staff("owner", mfa=False)
    http = logged_in(user)
    # when they try to create a token and a user
    token_answer = http.post("/accounts/tokens/new/", {"name": "sneaky", "access": "read_write"})
    user_answer = http.post("/accounts/users/new/", {"email": "new@msp.test", "role": "technician"})
    # then both are sent to set-up and nothing was created
    assert (token_answer.status_code, token_answer["Location"]) == (302, SETUP_URL)
    assert (user_answer.status_code, user_answer["Location"]) == (302, SETUP_URL)
    assert ApiToken.objects.count() == 0
    assert User.objects.count() == 1


@pytest.mark.parametrize("role", sorted(STAFF_ROLES))
def test_every_staff_role_must_set_up_mfa(role: str) -> None:
    # given a staff user of this role without MFA
    http = logged_in(make_staff(role, mfa=False))
    # when they open their account page
    response = http.get("/accounts/profile/")
    # then they are sent to set-up
    assert (response.status_code, response["Location"]) == (302, SETUP_URL)


def test_htmx_request_of_staff_without_mfa_gets_a_client_side_redirect() -> None:
    # given a staff user without MFA
    http = logged_in(make_staff("admin", mfa=False))
    # when an HTMX fragment is requested
    response = http.get("/accounts/users/", headers={"HX-Request": "true", "HX-Target": "list-results"})
    # then HTMX is told to load the set-up page
    assert response.status_code == 204
    assert response["HX-Redirect"] == SETUP_URL


def test_api_request_by_session_of_staff_without_mfa_is_refused_with_json() -> None:
    # given a staff user without MFA, logged in by session
    http = logged_in(make_staff("owner", mfa=False))
    # when they call the API
    response = http.get("/api/v1/me")
    # then the answer is 403 mfa_required
    assert response.status_code == 403
    assert response.json()["code"] == "mfa_required"


def test_staff_with_mfa_reaches_pages_and_the_api() -> None:
    # given a staff user with TOTP set up
    http = logged_in(make_staff("technician"))
    # when they open their account page and the API
    page = http.get("/accounts/profile/")
    api = http.get("/api/v1/me")
    # then both answer
    assert page.status_code == 200
    assert api.status_code == 200
    assert api.json()["mfa_enabled"] is True


def test_portal_user_without_mfa_is_not_forced() -> None:
    # given a portal user without MFA
    user = make_portal_user(ClientFactory())
    http = logged_in(user)
    # when they open their account page and call the API
    page = http.get("/accounts/profile/")
    api = http.get("/api/v1/me")
    # then both answer normally
    assert page.status_code == 200
    assert api.status_code == 200
    assert api.json()["mfa_enabled"] is False


def test_recovery_codes_alone_do_not_count_as_mfa() -> None:
    # given a staff user whose TOTP was removed, leaving only recovery codes
    user = make_staff("technician")
    Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).delete()
    http = logged_in(user)
    # when they open a page
    response = http.get("/accounts/profile/")
    # then they must set up a second factor again
    assert (response.status_code, response["Location"]) == (302, SETUP_URL)


def test_totp_setup_page_shows_qr_code_and_secret_without_inline_code() -> None:
    # given a staff user without MFA who just logged in with their password
    user = make_staff("technician", mfa=False)
    http = HttpClient()
    login = password_login(http, user.email)
    assert (login.status_code, login["Location"]) == (302, "/")
    # when they open the set-up page
    response = http.get(SETUP_URL)
    html = response.content.decode()
    # then it shows the QR code as an inline image, the secret as text, and nothing the CSP would block
    assert response.status_code == 200
    assert re.search(r'<img src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]+"', html)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)</code>', html)
    assert secret is not None and len(secret.group(1)) == 32
    assert inline_code(html) == []
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_activating_totp_lifts_the_restriction() -> None:
    # given a staff user without MFA on the set-up page
    user = make_staff("technician", mfa=False)
    http = HttpClient()
    password_login(http, user.email)
    html = http.get(SETUP_URL).content.decode()
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)</code>', html).group(1)  # type: ignore[union-attr]
    # when they enter the current code
    response = http.post(SETUP_URL, {"code": totp_code(secret)})
    # then TOTP is active, recovery codes are shown, and the dashboard opens
    assert (response.status_code, response["Location"]) == (302, "/accounts/2fa/recovery-codes/")
    assert list(Authenticator.objects.filter(user=user).order_by("type").values_list("type", flat=True)) == [
        "recovery_codes",
        "totp",
    ]
    codes = http.get("/accounts/2fa/recovery-codes/")
    assert codes.status_code == 200
    assert inline_code(codes.content.decode()) == []
    assert http.get("/").status_code == 200


def test_wrong_code_does_not_activate_totp() -> None:
    # given a staff user on the set-up page
    user = make_staff("technician", mfa=False)
    http = HttpClient()
    password_login(http, user.email)
    html = http.get(SETUP_URL).content.decode()
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)</code>', html).group(1)  # type: ignore[union-attr]
    wrong = str((int(totp_code(secret)) + 1) % 1_000_000).zfill(6)
    # when they enter a wrong code
    response = http.post(SETUP_URL, {"code": wrong})
    # then nothing is activated and they stay restricted
    assert response.status_code == 200
    assert "Incorrect code." in response.content.decode()
    assert Authenticator.objects.filter(user=user).count() == 0
    assert (http.get("/").status_code, http.get("/")["Location"]) == (302, SETUP_URL)


def test_login_with_mfa_asks_for_the_code_after_the_password() -> None:
    # given a staff user with TOTP
    user = make_staff("technician")
    http = HttpClient()
    # when they enter their password
    first = password_login(http, user.email)
    # then they are asked for a code and are not logged in yet
    assert (first.status_code, first["Location"]) == (302, "/accounts/2fa/authenticate/")
    page = http.get("/accounts/2fa/authenticate/")
    assert page.status_code == 200
    assert inline_code(page.content.decode()) == []
    assert (http.get("/").status_code, http.get("/")["Location"]) == (302, "/accounts/login/?next=/")
    # when they enter the current code
    second = http.post("/accounts/2fa/authenticate/", {"code": totp_code(user.totp_secret)})  # type: ignore[attr-defined]
    # then they reach the dashboard
    assert (second.status_code, second["Location"]) == (302, "/")
    assert http.get("/").status_code == 200


def test_login_with_a_wrong_code_is_refused() -> None:
    # given a staff user with TOTP who entered their password
    user = make_staff("technician")
    http = HttpClient()
    password_login(http, user.email)
    wrong = str((int(totp_code(user.totp_secret)) + 1) % 1_000_000).zfill(6)  # type: ignore[attr-defined]
    # when they enter a wrong code
    response = http.post("/accounts/2fa/authenticate/", {"code": wrong})
    # then they stay logged out
    assert response.status_code == 200
    assert "Incorrect code." in response.content.decode()
    assert "_auth_user_id" not in http.session


def test_sixth_failed_login_within_a_minute_is_refused() -> None:
    # given a user and five failed logins
    user = make_staff("technician")
    http = HttpClient()
    failures = [password_login(http, user.email, "wrong password 123") for _ in range(5)]
    assert [r.status_code for r in failures] == [200] * 5
    assert all("are not correct" in r.content.decode() for r in failures)
    # when a sixth attempt comes within the minute, even with the right password
    sixth = password_login(http, user.email)
    # then it is refused without checking the password
    assert sixth.status_code == 200
    assert "Too many failed login attempts" in sixth.content.decode()
    assert "_auth_user_id" not in http.session
    assert http.get("/accounts/2fa/authenticate/").status_code == 302


def test_inactive_user_cannot_log_in() -> None:
    # given a deactivated user
    user = make_staff("technician", is_active=False)
    http = HttpClient()
    # when they try to log in with the right password
    response = password_login(http, user.email)
    # then they are shown the "account inactive" page, logged out
    assert (response.status_code, response["Location"]) == (302, "/accounts/inactive/")
    assert "_auth_user_id" not in http.session


def test_sign_up_is_closed() -> None:
    # given nobody
    http = HttpClient()
    # when someone tries to sign up
    page = http.get("/accounts/signup/")
    post = http.post(
        "/accounts/signup/", {"email": "intruder@example.com", "password1": "a long passphrase 9"}
    )
    # then the sign-up is closed and no user exists
    assert "Sign Up Closed" in page.content.decode()
    assert post.status_code == 200
    assert User.objects.count() == 0


def test_login_page_has_no_inline_code_and_no_sign_up_link() -> None:
    # given nobody
    http = HttpClient()
    # when the login page opens
    response = http.get("/accounts/login/")
    html = response.content.decode()
    # then it follows the CSP and does not invite to sign up
    assert response.status_code == 200
    assert inline_code(html) == []
    assert "/accounts/signup/" not in html


def test_removing_totp_still_asks_for_the_password_again() -> None:
    # given a staff user who logged in with password and code
    user = make_staff("technician")
    http = HttpClient()
    password_login(http, user.email)
    http.post("/accounts/2fa/authenticate/", {"code": totp_code(user.totp_secret)})  # type: ignore[attr-defined]
    # when they try to deactivate TOTP at once
    response = http.post("/accounts/2fa/totp/deactivate/")
    # then they must confirm their password first, and TOTP stays
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert Authenticator.objects.filter(user=user, type="totp").count() == 1


def test_first_setup_long_after_login_asks_for_the_password_again() -> None:
    # given a staff user without MFA who logged in six minutes ago
    user = make_staff("technician", mfa=False)
    http = HttpClient()
    with time_machine.travel(timezone.now() - timedelta(minutes=6)):
        password_login(http, user.email)
    # when they open the set-up page now
    response = http.get(SETUP_URL)
    # then they confirm their password first
    assert response.status_code == 302
    assert response["Location"] == "/accounts/reauthenticate/?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F"


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/2fa/",
        "/accounts/2fa/webauthn/add/",
        "/accounts/2fa/recovery-codes/generate/",
        "/accounts/password/change/",
        "/accounts/logout/",
        "/accounts/reauthenticate/",
        "/accounts/profile/",
        "/accounts/users/",
        "/accounts/users/new/",
    ],
)
def test_account_pages_follow_the_csp(path: str) -> None:
    # given an owner with MFA, fully logged in
    user = make_staff("owner")
    http = HttpClient()
    password_login(http, user.email)
    http.post("/accounts/2fa/authenticate/", {"code": totp_code(user.totp_secret)})  # type: ignore[attr-defined]
    # when the page opens (after any confirmation step)
    response = http.get(path, follow=True)
    # then it renders without anything the CSP would block
    assert response.status_code == 200
    assert inline_code(response.content.decode()) == []
