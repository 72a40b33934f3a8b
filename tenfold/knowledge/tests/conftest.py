"""Each knowledge test gets its own vault key, in a file of its own temporary data directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def vault_key_file(tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.delenv("TENFOLD_VAULT_KEY", raising=False)
    path = tmp_path / "vault_key"
    settings.TENFOLD_VAULT_KEY_FILE = str(path)
    yield path
