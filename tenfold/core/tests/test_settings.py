"""Start-up refuses an insecure production configuration and names the setting to fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

LOAD_SETTINGS = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
GOOD_KEY = "Zq8vN2xL5pR7tW1yB4cF6hJ9kM3nQ0sU-e_gA8dE2iO5uY7"


def start_django(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TENFOLD_")}
    base.update(DJANGO_SETTINGS_MODULE="tenfold.config.settings", TENFOLD_DATA_DIR=str(tmp_path / "data"))
    base.update(env)
    return subprocess.run([sys.executable, "-c", LOAD_SETTINGS], env=base, capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)


def test_production_refuses_a_short_secret_key(tmp_path):
    # when
    result = start_django(tmp_path, TENFOLD_DEBUG="0", TENFOLD_SECRET_KEY="short")

    # then
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Tenfold refuses to start with an insecure configuration:\n"
        "  - TENFOLD_SECRET_KEY is too short or too simple (at least 40 varied characters)")


def test_production_refuses_any_host(tmp_path):
    # when
    result = start_django(tmp_path, TENFOLD_DEBUG="0", TENFOLD_SECRET_KEY=GOOD_KEY, TENFOLD_ALLOWED_HOSTS="*")

    # then
    assert result.returncode == 1
    assert "TENFOLD_ALLOWED_HOSTS must name the hosts, not '*'" in result.stderr


def test_production_starts_with_a_generated_secret_key(tmp_path):
    # when
    result = start_django(tmp_path, TENFOLD_DEBUG="0")

    # then
    assert (result.returncode, result.stdout, result.stderr) == (0, "False\n", "")
    key_file = tmp_path / "data" / "secret_key"
    assert len(key_file.read_text()) >= 40
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_debug_mode_accepts_a_short_secret_key(tmp_path):
    # when
    result = start_django(tmp_path, TENFOLD_DEBUG="1", TENFOLD_SECRET_KEY="short")

    # then
    assert (result.returncode, result.stdout) == (0, "True\n")
