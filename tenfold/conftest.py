"""Fixtures and profiles shared by every app's tests."""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone, translation
from hypothesis import HealthCheck, settings

# `make_instance`: throw-away deployments for tests that run real `tenfold` processes.
from tenfold.core.tests.instances import _migrated_instance, make_instance  # noqa: F401
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


# --- The demo MSP, seeded once per test process ----------------------------------------------------------
# Seeding the demo takes about twenty seconds; some twenty tests check what it wrote. They ask for the `demo`
# fixture instead of seeding: the first one seeds inside an outer transaction that stays open, and each test runs
# in a savepoint of it (pytest-django's own), so what a test changes is rolled back as before. A test without the
# demo that comes next in the same process rolls the outer transaction back first (pytest_runtest_setup below);
# the demo tests are collected last, so that normally happens once per process, at its end.


@dataclass
class DemoDatabase:
    """The seeded demo's outer transaction in this test process; `started_at` is when its seed began (tests
    that compare with "now" use it: the seed may be minutes older than the test)."""

    blocker: Any
    started_at: datetime = field(default_factory=timezone.now)
    atomic: Any = None
    # The vault key the seed's credentials are wrapped with (tests that reveal one set TENFOLD_VAULT_KEY to it).
    vault_key: str = field(default_factory=lambda: base64.b64encode(secrets.token_bytes(32)).decode("ascii"))

    def open(self) -> None:
        if self.atomic is not None:
            return
        from tenfold.demo.seed import seed_demo

        with self.blocker.unblock():
            self.atomic = transaction.atomic()
            self.atomic.__enter__()
            self.started_at = timezone.now()
            before = os.environ.get("TENFOLD_VAULT_KEY")
            os.environ["TENFOLD_VAULT_KEY"] = self.vault_key
            try:
                seed_demo(2026)
            finally:
                if before is None:
                    del os.environ["TENFOLD_VAULT_KEY"]
                else:
                    os.environ["TENFOLD_VAULT_KEY"] = before

    def close(self) -> None:
        if self.atomic is None:
            return
        with self.blocker.unblock():
            transaction.set_rollback(True)
            self.atomic.__exit__(None, None, None)
        self.atomic = None


_demo_database: DemoDatabase | None = None


@pytest.fixture(scope="session")
def _demo_session(django_db_setup: Any, django_db_blocker: Any) -> Iterator[DemoDatabase]:
    global _demo_database
    _demo_database = DemoDatabase(django_db_blocker)
    _demo_database.open()
    yield _demo_database
    _demo_database.close()
    _demo_database = None


@pytest.fixture
def demo(_demo_session: DemoDatabase, db: Any) -> DemoDatabase:
    """The demo MSP as `tenfold demo` writes it (seed 2026), in this test's savepoint."""
    return _demo_session


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Before the test's fixtures: the outer transaction is open for a demo test and closed for any other.
    if _demo_database is None:
        return
    if "demo" in getattr(item, "fixturenames", ()):
        _demo_database.open()
    else:
        _demo_database.close()


TRANSACTIONAL_FIXTURES = {"transactional_db", "live_server", "django_db_reset_sequences"}


def _transactional(item: pytest.Item) -> bool:
    """Whether a test commits for real: the database is emptied after it, rows the migrations wrote included."""
    marker = item.get_closest_marker("django_db")
    if marker is not None and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")):
        return True
    return bool(TRANSACTIONAL_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # pytest-xdist hands each process its tests in collection order. First the tests that run real processes for
    # minutes, so that they do not finish alone at the end of a pass; then the others; then the demo tests (one
    # seed per process); last the transactional tests: the database is emptied after each, including the rows the
    # migrations wrote (baseline policies, the starter scripts) that the other tests and the demo build on.
    def rank(item: pytest.Item) -> int:
        if _transactional(item):
            return 3
        if "demo" in getattr(item, "fixturenames", ()):
            return 2
        return 0 if item.get_closest_marker("slow") else 1

    items.sort(key=rank)  # stable: the order within each group is kept
