"""Throw-away Tenfold deployments for tests that run real `tenfold` processes: each instance has its own
data directory and database (a SQLite file, or a PostgreSQL database created on the test server when the
suite runs on PostgreSQL, dropped at the end of the test), driven through the CLI.

The `make_instance` fixture is offered to every test by tenfold/conftest.py.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest


@dataclass
class Instance:
    """A Tenfold deployment of its own: data dir, database and environment, driven through the CLI."""

    root: Path
    env: dict[str, str]

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "tenfold", *args], env=self.env, cwd=self.root,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def run(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([sys.executable, "-m", "tenfold", *args], env=self.env, cwd=self.root,
                                capture_output=True, text=True, timeout=timeout)
        assert result.returncode == 0, f"tenfold {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return result

    def query(self, code: str) -> Any:
        """Run Python in the instance's Django (`result = ...`) and return `result` through JSON."""
        script = f"{code}\nimport json\nprint('RESULT=' + json.dumps(result, default=str))"
        output = self.run("manage", "shell", "--no-imports", "-c", script).stdout
        line = next(line for line in output.splitlines() if line.startswith("RESULT="))
        return json.loads(line.removeprefix("RESULT="))

    def add_schedule(self, name: str, task: str, **kwargs: Any) -> None:
        self.query(
            "from django.utils import timezone\nfrom tenfold.core.models import Schedule\n"
            f"Schedule.objects.create(name={name!r}, task_path={task!r}, cron='0 0 1 1 *', kwargs={kwargs!r},"
            " next_run_at=timezone.now())\nresult = None")

    def heartbeats(self) -> list[str]:
        return self.query("from tenfold.core.models import WorkerHeartbeat\n"
                          "result = list(WorkerHeartbeat.objects.values_list('worker_id', flat=True))")


def _throwaway_postgres(admin_url: str, template: str = "") -> str:
    """Create a PostgreSQL database on the test server, empty or a copy of `template`; returns its URL."""
    import psycopg

    name = f"test_tenfold_worker_{secrets.token_hex(4)}"
    copy = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    return urlsplit(admin_url)._replace(path=f"/{name}").geturl()


def _drop_postgres(admin_url: str, database_url: str) -> None:
    import psycopg

    name = urlsplit(database_url).path.lstrip("/")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def instance_env(root: Path) -> dict[str, str]:
    """A deployment's environment under `root`: none of the caller's TENFOLD_ settings, its own data directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENFOLD_")}
    env.update(DJANGO_SETTINGS_MODULE="tenfold.config.settings", TENFOLD_DATA_DIR=str(root / "var"),
               TENFOLD_DEBUG="0", PYTHONUNBUFFERED="1")
    return env


@dataclass
class _Migrated:
    """One migrated deployment per test process, copied for each instance: migrating takes from half a minute to
    a few minutes here, and what `migrate` writes does not depend on the instances' own settings."""

    var: Path
    database: str = ""  # the PostgreSQL template database, on the PostgreSQL pass


@pytest.fixture(scope="session")
def _migrated_instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Migrated]:
    admin_url = os.environ.get("TENFOLD_TEST_DATABASE_URL", "")
    root = tmp_path_factory.mktemp("migrated-instance")
    env = instance_env(root)
    url = _throwaway_postgres(admin_url) if admin_url else ""
    if url:
        env["TENFOLD_DATABASE_URL"] = url
    try:
        # Generous: on a machine shared with other work a first migration has taken over three minutes.
        Instance(root=root, env=env).run("migrate", "--verbosity", "0", timeout=600)
        yield _Migrated(var=root / "var", database=urlsplit(url).path.lstrip("/") if url else "")
    finally:
        if url:
            _drop_postgres(admin_url, url)


@pytest.fixture
def make_instance(tmp_path: Path, _migrated_instance: _Migrated) -> Iterator[Any]:
    """Build migrated instances (copies of the process's migrated deployment: its data directory, and its database
    file or PostgreSQL database); their PostgreSQL databases are dropped at the end of the test."""
    admin_url = os.environ.get("TENFOLD_TEST_DATABASE_URL", "")
    databases: list[str] = []

    def make(**extra_env: str) -> Instance:
        root = tmp_path / f"instance-{secrets.token_hex(3)}"
        root.mkdir()
        shutil.copytree(_migrated_instance.var, root / "var")
        env = instance_env(root)
        if admin_url:
            databases.append(_throwaway_postgres(admin_url, template=_migrated_instance.database))
            env["TENFOLD_DATABASE_URL"] = databases[-1]
        env.update(extra_env)
        instance = Instance(root=root, env=env)
        if "TENFOLD_DATABASE_URL" in extra_env:  # a database of the test's own (e.g. a private cluster): empty
            instance.run("migrate", "--verbosity", "0", timeout=600)
        return instance

    yield make
    for database_url in databases:
        _drop_postgres(admin_url, database_url)
