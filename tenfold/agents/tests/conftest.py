from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from tenfold.agents import auth
from tenfold.agents.tests.live import live  # noqa: F401 - a live server for the end-to-end and fault tests


@pytest.fixture(autouse=True)
def _fresh_credential_cache() -> Iterator[None]:
    # The cache is per process: a credential cached by one test must not answer in the next.
    auth.cache_clear()
    cache.clear()  # cached device policies are keyed by device id, which tests reuse
    yield
    auth.cache_clear()
