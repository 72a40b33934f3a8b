"""Fixtures and profiles shared by every app's tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation
from hypothesis import HealthCheck, settings

# `make_instance`: throw-away deployments for tests that run real `tenfold` processes.
from tenfold.core.tests.instances import make_instance  # noqa: F401
from tenfold.monitoring.policies import forget_local as forget_local_policies

# Playwright's sync API runs an event loop in the test thread; the ORM calls the browser tests make
# around it are ordinary synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Generated-input budgets: "ci" bounds the time CI spends; "deep" is for a long local run.
settings.register_profile("dev", max_examples=30, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("deep", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(autouse=True)
def _english_by_default() -> Iterator[None]:
    # A request served in French leaves French active in the thread; each test starts in English.
    translation.activate("en")
    forget_local_policies()
    yield
    translation.deactivate()


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """Debian's Chromium, without the background traffic this offline machine refuses."""
    return {
        "executable_path": "/usr/bin/chromium",
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"],
    }
