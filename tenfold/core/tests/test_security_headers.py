"""Headers and session settings (docs/security.md, ASVS V3 and V14): a strict Content-Security-Policy on every
page, HSTS and secure cookies when Tenfold is behind TLS, and no web set-up endpoint at all (the first
administrator is made with `tenfold createadmin` on the server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from django.test import Client as HttpClient
from django.urls import URLPattern, URLResolver, get_resolver

from tenfold.accounts.testing import make_staff

SHOW_SETTINGS = ("import django, json; django.setup(); from django.conf import settings as s; print(json.dumps({"
                 "'hsts': s.SECURE_HSTS_SECONDS if hasattr(s, 'SECURE_HSTS_SECONDS') else 0, "
                 "'hsts_sub': getattr(s, 'SECURE_HSTS_INCLUDE_SUBDOMAINS', False), "
                 "'session_secure': s.SESSION_COOKIE_SECURE, 'csrf_secure': s.CSRF_COOKIE_SECURE, "
                 "'session_httponly': s.SESSION_COOKIE_HTTPONLY, 'samesite': s.SESSION_COOKIE_SAMESITE, "
                 "'proxy_ssl': list(s.SECURE_PROXY_SSL_HEADER or []) if hasattr(s, 'SECURE_PROXY_SSL_HEADER') "
                 "else []}))")


def _settings(tmp_path: Path, **env: str) -> dict[str, object]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TENFOLD_")}
    base.update(DJANGO_SETTINGS_MODULE="tenfold.config.settings", TENFOLD_DATA_DIR=str(tmp_path / "data"),
                TENFOLD_DEBUG="0", TENFOLD_ALLOWED_HOSTS="tenfold.example")
    base.update(env)
    result = subprocess.run([sys.executable, "-c", SHOW_SETTINGS], env=base, capture_output=True, text=True,
                            timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_behind_tls_sets_hsts_and_secure_cookies(tmp_path: Path) -> None:
    shown = _settings(tmp_path, TENFOLD_BEHIND_TLS="1")
    assert shown == {"hsts": 31536000, "hsts_sub": True, "session_secure": True, "csrf_secure": True,
                     "session_httponly": True, "samesite": "Lax", "proxy_ssl": ["HTTP_X_FORWARDED_PROTO", "https"]}


def test_without_tls_no_hsts_and_cookies_not_marked_secure(tmp_path: Path) -> None:
    # (HSTS over plain HTTP would lock browsers out of a server that has no certificate)
    shown = _settings(tmp_path)
    assert (shown["hsts"], shown["session_secure"], shown["csrf_secure"], shown["session_httponly"]) == (
        0, False, False, True)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/clients/", "/tickets/", "/billing/", "/portal/"])
def test_pages_carry_a_csp_without_unsafe_inline_and_the_other_headers(path: str) -> None:
    http = HttpClient()
    http.force_login(make_staff("owner"))
    response = http.get(path)
    assert response.status_code in (200, 302, 403)
    csp = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_no_web_route_sets_up_the_instance() -> None:
    # The first administrator is created on the server (`tenfold createadmin`); no page creates one. The only
    # "setup" routes are allauth's two-factor set-up pages, which act on the signed-in user.
    found: list[str] = []

    def walk(patterns: Sequence[object], prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                route = prefix + str(entry.pattern)
                if any(word in route.lower() for word in ("setup", "install", "bootstrap", "first-admin")):
                    found.append(route)

    walk(get_resolver().url_patterns, "/")
    assert all(route.startswith("/accounts/2fa/") for route in found), found
