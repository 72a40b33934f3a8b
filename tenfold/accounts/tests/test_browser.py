"""In a real browser: first login forces TOTP set-up; the next login asks for the code."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tenfold.accounts.testing import PASSWORD, fresh_totp_code, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()


def test_first_login_forces_totp_setup_then_login_asks_for_the_code(page: Page, live_server: Any) -> None:
    # given a new technician without MFA, and a browser that reports CSP violations
    user = make_staff("technician", mfa=False, first_name="Nadia")
    violations: list[str] = []
    page.on(
        "console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None
    )
    base = live_server.url

    # when they log in with their password
    log_in(page, base, user.email)
    # then they are held on the TOTP set-up page, which shows a QR code and the secret
    expect(page).to_have_url(f"{base}/accounts/2fa/totp/activate/")
    expect(
        page.get_by_text("Two-factor authentication is mandatory for staff accounts").first
    ).to_be_visible()
    expect(page.get_by_test_id("totp-qr")).to_be_visible()
    secret = page.get_by_test_id("totp-secret").inner_text().strip()
    assert len(secret) == 32
    # and any other page sends them back there
    page.goto(f"{base}/clients/")
    expect(page).to_have_url(f"{base}/accounts/2fa/totp/activate/")
    secret = page.get_by_test_id("totp-secret").inner_text().strip()

    # when they enter the code their app would show
    page.get_by_label("Authenticator code").fill(fresh_totp_code(secret))
    page.get_by_test_id("totp-activate").click()
    # then recovery codes are shown, and the dashboard opens
    expect(page).to_have_url(f"{base}/accounts/2fa/recovery-codes/")
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    page.get_by_test_id("recovery-continue").click()
    expect(page.get_by_role("heading", name="Welcome, Nadia")).to_be_visible()

    # when they log out and log in again with the password
    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("logout").click()
    expect(page).to_have_url(f"{base}/accounts/login/")
    log_in(page, base, user.email)
    # then a code is asked for before anything else, even when they try to go to the dashboard
    expect(page).to_have_url(f"{base}/accounts/2fa/authenticate/")
    page.goto(f"{base}/")
    expect(page).to_have_url(f"{base}/accounts/2fa/authenticate/")
    expect(page.get_by_role("heading", name="Welcome, Nadia")).to_have_count(0)

    # when they enter a fresh code
    page.get_by_label("Code").fill(fresh_totp_code(secret))
    page.get_by_test_id("mfa-submit").click()
    # then the dashboard opens, and no page broke the Content-Security-Policy
    expect(page.get_by_role("heading", name="Welcome, Nadia")).to_be_visible()
    assert violations == []
