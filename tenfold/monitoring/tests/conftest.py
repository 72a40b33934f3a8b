from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    # Device ids are reused across tests (rolled-back transactions): a policy cached by one test must
    # not answer in the next.
    cache.clear()
    yield
    cache.clear()
