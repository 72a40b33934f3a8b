from __future__ import annotations

from collections.abc import Iterator

import pytest

from tenfold.agents.tests.live import live  # noqa: F401 - a live server for the end-to-end test
from tenfold.automation import trust


@pytest.fixture(autouse=True)
def _fresh_signing_keys_cache() -> Iterator[None]:
    # The keys' state is cached per process: a test's keys must not reach the next test's check-ins.
    trust.forget_local()
    yield
    trust.forget_local()
