"""Test overlay: fast hashing, in-memory cache, immediate e-mail capture; database from TENFOLD_TEST_DATABASE_URL."""

from __future__ import annotations

import os

import dj_database_url

os.environ.setdefault("TENFOLD_DEBUG", "0")
os.environ.setdefault("TENFOLD_SECRET_KEY", "test-" + "k8Jq2vX9pL4mN7rT1wZ5yB3cF6hD0gS" * 2)

from tenfold.config.settings import *  # noqa: F403
from tenfold.config.settings import DATABASES

_test_url = os.environ.get("TENFOLD_TEST_DATABASE_URL", "")
if _test_url:
    DATABASES["default"] = dj_database_url.parse(_test_url)
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TENFOLD_TEST_DATABASE_NAME", "test_tenfold")}
else:
    DATABASES["default"] = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": ":memory:",
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
    }
TENFOLD_DATABASE_VENDOR = "sqlite" if "sqlite" in DATABASES["default"]["ENGINE"] else "postgresql"

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only; production uses argon2
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
