"""The one test command (`make test`, and `.ci/run` with --require-all).

Gates, in order, each with a time limit: ruff, mypy, the import-layer contracts, bandit, the migrations
check and the fuzz targets (side by side), the dependency audit (pip-audit with
security/audit-allowlist.toml; "skipped" with the reason when no vulnerability data is reachable), the
French catalogue, the agent's tests, pytest on SQLite, pytest on PostgreSQL (when a server answers on
127.0.0.1:5432 or TENFOLD_TEST_DATABASE_URL names one; a throw-away database per run) with the browser
tests beside it (when /usr/bin/chromium exists). Every gate runs even when an earlier one failed; the summary says
what passed, failed or was skipped and why, and the last line counts every pytest pass.

    python3 scripts/test.py [--require-all] [--budget-minutes N]
"""

# ruff: noqa: S603 - this script exists to run the project's checkers

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bootstrap

ROOT = bootstrap.ROOT
CHROMIUM = Path("/usr/bin/chromium")
FRENCH_CATALOGUE = ROOT / "tenfold" / "locale" / "fr" / "LC_MESSAGES" / "django.po"
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"
MINUTE = 60
FUZZ_SECONDS = int(os.environ.get("TENFOLD_FUZZ_SECONDS", "60"))  # the fuzzing gate's time bound
# The other outside parsers' targets (fuzz/parsers.py), each for this long.
PARSER_FUZZ_SECONDS = int(os.environ.get("TENFOLD_PARSER_FUZZ_SECONDS", "15"))
PARSER_FUZZ_TARGETS = ("email", "markdown", "csv", "payments", "workflow")
# Before its first input a target instruments every module Django loads: about a minute alone, over three minutes
# with the static gates and the other targets beside it on two cores. The gate's limit is that plus its fuzzing.
FUZZ_SETUP_LIMIT = 7 * MINUTE
# Generated API requests per operation (the whole-API schema run as the owner; the isolation run as each of two
# users of another client), and whether schemathesis's coverage phase runs (boundary and invalid values of every
# parameter, as explicit examples beyond that budget: about four fifths of a run's time). `make test` and CI run
# the examples and fuzzing phases on both passes, PostgreSQL's with more examples, and the owner run's coverage
# phase on the PostgreSQL pass (the production database: it found the NUL characters PostgreSQL cannot compare,
# at about 4 minutes of that pass). The isolation run's coverage phase, and the test files' full budgets (25 and
# 8 examples), run when pytest is run directly.
SQLITE_SCHEMA_EXAMPLES = {"TENFOLD_SCHEMATHESIS_EXAMPLES": "6", "TENFOLD_SCHEMATHESIS_ISOLATION_EXAMPLES": "2",
                          "TENFOLD_SCHEMATHESIS_COVERAGE": "0", "TENFOLD_SCHEMATHESIS_ISOLATION_COVERAGE": "0"}
POSTGRES_SCHEMA_EXAMPLES = {"TENFOLD_SCHEMATHESIS_EXAMPLES": "10", "TENFOLD_SCHEMATHESIS_ISOLATION_EXAMPLES": "3",
                            "TENFOLD_SCHEMATHESIS_COVERAGE": "1", "TENFOLD_SCHEMATHESIS_ISOLATION_COVERAGE": "0"}


@dataclass
class Counts:
    """Test outcomes of one pytest pass."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    skip_reasons: Counter[str] = field(default_factory=Counter)


class ParallelCommand(NamedTuple):
    """A gate run side by side with others: passed when the command exits 0."""

    name: str
    command: list[str]
    timeout: float
    env: dict[str, str] | None = None


@dataclass
class Background:
    """A gate's command running beside others, its output in a log file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    started: float
    timeout: float


@dataclass
class Gate:
    """What one gate did."""

    name: str
    status: str  # passed | failed | skipped
    seconds: float = 0.0
    detail: str = ""
    counts: Counts | None = None
    exit_code: int | None = None


class Runner:
    """Runs the gates and remembers what each did."""

    def __init__(self, require_all: bool, work: Path, budget_seconds: float | None = None) -> None:
        self.require_all = require_all
        self.work = work
        self.started = time.monotonic()
        self.deadline = self.started + budget_seconds if budget_seconds else None
        self.gates: list[Gate] = []
        self.bin = Path(sys.executable).parent

    # --- plumbing -----------------------------------------------------------------------------
    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a gate: no deployment settings leak in from the caller's shell."""
        # TENFOLD_TEST_REDIS_URL may pass; the test database is chosen per pass below.
        leaking = ("TENFOLD_", "DJANGO_SETTINGS_MODULE")
        env = {k: v for k, v in os.environ.items()
               if k == "TENFOLD_TEST_REDIS_URL" or not k.startswith(leaking)}
        env["TENFOLD_DATA_DIR"] = str(self.work / "var")
        env.update(extra)
        return env

    def run(self, command: list[str], *, timeout: float, env: dict[str, str], cwd: Path = ROOT) -> int | None:
        """Run a command with its output streaming through; None when it overran its time limit."""
        print(f"$ {' '.join(command)}", flush=True)
        # Own process group, so a timeout also ends what the command started (pytest-xdist workers).
        return wait_or_kill(subprocess.Popen(command, cwd=cwd, env=env, start_new_session=True), timeout)

    def gate(self, name: str, command: list[str], *, timeout: float, env: dict[str, str] | None = None,
             cwd: Path = ROOT) -> Gate:
        """Run a command as a gate: passed when it exits 0."""
        print(f"\n==> {name}", flush=True)
        started = time.monotonic()
        if self.deadline is not None:
            if self.deadline - started < MINUTE:
                return self.record(Gate(name, "failed", detail="not run: the time budget is spent"))
            timeout = min(timeout, self.deadline - started)
        code = self.run(command, timeout=timeout, env=env or self.env(), cwd=cwd)
        return self.record(outcome(name, code, time.monotonic() - started, timeout))

    def skip(self, name: str, reason: str, *, required: bool = False) -> Gate:
        """Record a gate that did not run; with --require-all a required one fails instead."""
        print(f"\n==> {name}: skipped ({reason})", flush=True)
        if required and self.require_all:
            return self.record(Gate(name, "failed", detail=f"required, but it would be skipped: {reason}"))
        return self.record(Gate(name, "skipped", detail=reason))

    def record(self, result: Gate) -> Gate:
        self.gates.append(result)
        print(f"<== {result.name}: {result.status} in {result.seconds:.1f}s"
              + (f" ({result.detail})" if result.detail else ""), flush=True)
        return result

    # --- static gates ---------------------------------------------------------------------------
    def static_commands(self) -> list[ParallelCommand]:
        """The static gates: ruff, mypy (server and agent), the import layers, bandit, the migrations check."""
        settings_env = self.env(DJANGO_SETTINGS_MODULE="tenfold.config.settings")
        return [
            ParallelCommand("ruff", [str(self.bin / "ruff"), "check", "."], 5 * MINUTE),
            ParallelCommand("mypy", [str(self.bin / "mypy"), "tenfold"], 20 * MINUTE),
            # The agent has no Django: its own mypy settings, without the Django plugin.
            ParallelCommand("mypy agent", [str(self.bin / "mypy"), "--config-file", "agent/pyproject.toml",
                                           "agent/tenfold_agent"], 10 * MINUTE),
            ParallelCommand("import layers", [str(self.bin / "lint-imports")], 5 * MINUTE),
            # Security lint: no finding of medium or high severity in the server or the agent.
            ParallelCommand("bandit", [str(self.bin / "bandit"), "-q", "-r", "tenfold", "agent/tenfold_agent",
                                       "-x", "*/tests/*", "--severity-level", "medium"], 5 * MINUTE),
            ParallelCommand("migrations", [sys.executable, "-m", "tenfold", "manage", "makemigrations", "--check",
                                           "--dry-run"], 5 * MINUTE, settings_env),
        ]

    def dependency_audit(self) -> None:
        """pip-audit over the installed dependencies with the allowlist's advisories ignored
        (scripts/audit_deps.py); when no vulnerability data can be reached it is skipped, saying why, never
        passed."""
        name = "dependency audit"
        if self.deadline is not None and self.deadline - time.monotonic() < MINUTE:
            self.record(Gate(name, "failed", detail="not run: the time budget is spent"))
            return
        print(f"\n==> {name}", flush=True)
        summary = self.work / "dependency-audit.txt"
        started = time.monotonic()
        code = self.run([sys.executable, "scripts/audit_deps.py", "--summary-file", str(summary)],
                        timeout=12 * MINUTE, env=self.env())
        seconds = time.monotonic() - started
        said = summary.read_text(encoding="utf-8").strip() if summary.exists() else ""
        if code is None:
            self.record(Gate(name, "failed", seconds, "timed out after 12 min"))
        elif code == 3:  # audit_deps.SKIPPED: no vulnerability data reachable, and the reason
            self.record(Gate(name, "skipped", seconds, said.removeprefix("skipped: ")))
        else:
            self.record(Gate(name, "passed" if code == 0 else "failed", seconds,
                             said.split(": ", 1)[-1] if said else f"exit {code}", exit_code=code))

    def translations(self) -> None:
        name = "translations"
        if not FRENCH_CATALOGUE.exists():
            self.skip(name, f"no French catalogue yet at {FRENCH_CATALOGUE.relative_to(ROOT)}")
            return
        if shutil.which("msgfmt") is None:
            self.skip(name, "msgfmt not found (install gettext)")
            return
        # From inside the package: compilemessages walks its working directory for locale folders.
        result = self.gate(name, [sys.executable, "-m", "tenfold", "manage", "compilemessages"],
                           timeout=5 * MINUTE, cwd=ROOT / "tenfold",
                           env=self.env(DJANGO_SETTINGS_MODULE="tenfold.config.settings"))
        if result.status == "passed":
            missing = untranslated(FRENCH_CATALOGUE)
            if missing:
                result.status = "failed"
                result.detail = f"{missing} French entries untranslated or fuzzy in {FRENCH_CATALOGUE.name}"

    # --- pytest passes ------------------------------------------------------------------------------
    def pytest_pass(self, name: str, args: list[str], *, timeout: float, env: dict[str, str]) -> Gate:
        report = self._report(name)
        command = [sys.executable, "-m", "pytest", *args, f"--junitxml={report}", "-p", "no:cacheprovider"]
        return self.counted(self.gate(name, command, timeout=timeout, env=env), report)

    def counted(self, result: Gate, report: Path) -> Gate:
        """A pytest gate's outcome with its counts from the JUnit report."""
        if result.exit_code == 5:  # pytest's "no tests collected": nothing of this kind exists yet
            result.status, result.detail = "passed", "no tests collected"
        if report.exists():
            result.counts = read_junit(report)
            counts = result.counts
            summary = f"{counts.passed} passed, {counts.failed} failed, {counts.skipped} skipped"
            result.detail = f"{summary}; {result.detail}" if result.detail else summary
        elif result.status == "failed":
            # Counted, so that the closing line cannot read "0 failed" after a crash.
            result.counts = Counts(failed=1)
            result.detail += "; pytest wrote no report"
        return result

    def start(self, name: str, command: list[str], *, timeout: float, env: dict[str, str]) -> Background | None:
        """Start a gate's command beside others (cut at its time limit or the budget's end), its output in a log
        file; `finish` waits for it. None, recorded as failed, when the budget is spent."""
        started = time.monotonic()
        if self.deadline is not None:
            if self.deadline - started < MINUTE:
                self.record(Gate(name, "failed", detail="not run: the time budget is spent"))
                return None
            timeout = min(timeout, self.deadline - started)
        log = self.work / f"{name.replace(':', '').replace(' ', '-')}.log"
        print(f"\n==> {name} (side by side; output in {log.name})\n$ {' '.join(command)}", flush=True)
        with log.open("wb") as out:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        return Background(name, process, log, started, timeout)

    def finish(self, running: Background, *, shown: int) -> Gate:
        """Wait for a command started by `start`, print its failure lines and last `shown` lines, record it."""
        code = wait_or_kill(running.process, running.started + running.timeout - time.monotonic())
        lines = running.log.read_text(errors="replace").splitlines()
        failures = [line for line in lines if line.startswith(("FAILED ", "ERROR "))]
        print(f"\n--- {running.name}: the end of {running.log.name}\n" + "\n".join(failures[:50] + lines[-shown:]),
              flush=True)
        return self.record(outcome(running.name, code, time.monotonic() - running.started, running.timeout))

    def start_pytest(self, name: str, args: list[str], *, timeout: float, env: dict[str, str]) -> Background | None:
        """Start a pytest pass in the background; `finish_pytest` waits for it."""
        command = [sys.executable, "-m", "pytest", *args, f"--junitxml={self._report(name)}", "-p", "no:cacheprovider"]
        return self.start(name, command, timeout=timeout, env=env)

    def finish_pytest(self, running: Background | None) -> None:
        """Wait for a background pass and record it with its counts."""
        if running is not None:
            self.counted(self.finish(running, shown=30), self._report(running.name))

    def _report(self, name: str) -> Path:
        return self.work / f"{name.replace(' ', '-')}.xml"

    def fuzz_commands(self) -> list[ParallelCommand]:
        """The atheris targets, each time-bounded: the agent check-in parser (fuzz/checkin.py), and the email,
        Markdown, device CSV import, payments CSV import and workflow definition parsers (fuzz/parsers.py).

        They run side by side with the static gates, each a gate of its own with its output in its own log: most of
        a target's wall time is atheris instrumenting the imports before the first input, so one after the other
        they took about a minute each for 15 s of fuzzing. The bound is wall time (libFuzzer's -max_total_time), so
        side by side on a small machine each target runs fewer inputs in that time."""
        try:
            import atheris  # noqa: F401
        except ImportError:
            self.skip("fuzz: check-in parser", "atheris is not installed (pip install -e '.[dev]')", required=True)
            return []
        common = ["-rss_limit_mb=2048", "-max_len=200000"]
        for target in ("checkin", *PARSER_FUZZ_TARGETS):
            (self.work / f"fuzz-{target}").mkdir(exist_ok=True)  # each target's scratch corpus
        targets = [ParallelCommand(
            "fuzz: check-in parser",
            [sys.executable, "fuzz/checkin.py", str(self.work / "fuzz-checkin"), "fuzz/corpus/checkin",
             f"-max_total_time={FUZZ_SECONDS}", *common, f"-artifact_prefix={self.work}/fuzz-"],
            FUZZ_SECONDS + FUZZ_SETUP_LIMIT)]
        for target in PARSER_FUZZ_TARGETS:
            targets.append(ParallelCommand(f"fuzz: {target} parser", [
                sys.executable, "fuzz/parsers.py", target, str(self.work / f"fuzz-{target}"), f"fuzz/corpus/{target}",
                f"-max_total_time={PARSER_FUZZ_SECONDS}", *common, f"-artifact_prefix={self.work}/fuzz-{target}-"],
                PARSER_FUZZ_SECONDS + FUZZ_SETUP_LIMIT))
        return targets

    def parallel_gates(self, targets: list[ParallelCommand]) -> None:
        """Run commands side by side, each recorded as its own gate (passed when it exits 0); each one's output is
        kept in a log file and its last lines printed when it ends."""
        running = [self.start(name, command, timeout=timeout, env=env or self.env())
                   for name, command, timeout, env in targets]
        for started in running:
            if started is not None:
                self.finish(started, shown=8)

    def agent(self) -> None:
        # The agent package's own tests: no Django, so pytest-django stays out of the way.
        self.pytest_pass("agent tests", ["agent/tests", "-c", "agent/pyproject.toml",
                                         "--rootdir", "agent"], timeout=10 * MINUTE, env=self.env())

    def sqlite(self) -> None:
        self.pytest_pass("pytest on SQLite", ["-m", "not browser", *xdist_args()], timeout=30 * MINUTE,
                         env=self.env(**SQLITE_SCHEMA_EXAMPLES))

    def postgresql(self) -> None:
        name = "pytest on PostgreSQL"
        url = os.environ.get("TENFOLD_TEST_DATABASE_URL", "")
        if not url:
            if not answers("127.0.0.1", 5432):
                self.skip(name, "no PostgreSQL answers on 127.0.0.1:5432 and TENFOLD_TEST_DATABASE_URL "
                          "is not set", required=True)
                return
            url = DEFAULT_POSTGRES_URL
        database = f"test_tenfold_{secrets.token_hex(4)}"
        try:
            self.pytest_pass(name, ["-m", "not browser", "--create-db", *xdist_args()], timeout=30 * MINUTE,
                             env=self.env(TENFOLD_TEST_DATABASE_URL=url, TENFOLD_TEST_DATABASE_NAME=database,
                                          **POSTGRES_SCHEMA_EXAMPLES))
        finally:
            drop_databases(url, database)

    def start_browser(self) -> Background | None:
        """The browser tests, started in the background beside the PostgreSQL pass: most of their time is spent
        waiting for Chromium and the live server, not on the cores."""
        name = "browser tests"
        if not CHROMIUM.exists():
            self.skip(name, f"{CHROMIUM} not found (apt-get install chromium)", required=True)
            return None
        # Playwright's sync API keeps an event loop on the test thread; Django must still allow ORM calls.
        return self.start_pytest(name, ["-m", "browser"], timeout=25 * MINUTE,
                                 env=self.env(DJANGO_ALLOW_ASYNC_UNSAFE="true"))

    # --- summary ------------------------------------------------------------------------------------
    def summary(self) -> int:
        print("\n" + "=" * 30 + " summary " + "=" * 30)
        totals = Counts()
        for result in self.gates:
            print(f"{result.name:<22} {result.status:<8} {result.seconds:7.1f}s  {result.detail}")
            if result.counts is not None:
                totals.passed += result.counts.passed
                totals.failed += result.counts.failed
                totals.skipped += result.counts.skipped
                for reason, count in result.counts.skip_reasons.most_common():
                    print(f"{'':<22} skipped {count} × {reason}")
        failed = [g.name for g in self.gates if g.status == "failed"]
        print("FAILED: " + ", ".join(failed) if failed else "All gates passed.")
        print(f"(total {(time.monotonic() - self.started) / MINUTE:.1f} min of wall time; gates side by side each "
              "count their own)")
        print(f"{totals.passed} passed, {totals.failed} failed, {totals.skipped} skipped", flush=True)
        return 1 if failed else 0


def wait_or_kill(process: subprocess.Popen[bytes], timeout: float) -> int | None:
    """The command's exit code; None when it overran `timeout` seconds, and then its whole process group
    (pytest-xdist workers, what a fuzz target started) is killed."""
    try:
        return process.wait(timeout=max(1.0, timeout))
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return None
    except KeyboardInterrupt:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise


def outcome(name: str, code: int | None, seconds: float, timeout: float) -> Gate:
    """A finished command's gate: passed on exit 0, failed on another exit code or on overrunning `timeout`."""
    if code is None:
        return Gate(name, "failed", seconds, f"timed out after {timeout / MINUTE:.1f} min")
    return Gate(name, "passed" if code == 0 else "failed", seconds, "" if code == 0 else f"exit {code}",
                exit_code=code)


def xdist_args() -> list[str]:
    """Two test processes: this project's machines have two cores."""
    return ["-n", "2"]


def answers(host: str, port: int) -> bool:
    """Whether something accepts TCP connections there."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def drop_databases(url: str, prefix: str) -> None:
    """Drop what a PostgreSQL pass left behind when it was stopped (pytest-django drops its own)."""
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            rows = conn.execute("SELECT datname FROM pg_database WHERE datname = %s OR datname LIKE %s",
                                [prefix, f"{prefix}\\_%"])
            names = [row[0] for row in rows]
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except psycopg.Error as exc:
        print(f"could not drop the test databases {prefix}*: {exc}", flush=True)


def read_junit(report: Path) -> Counts:
    """Outcomes per test case from pytest's JUnit XML report."""
    counts = Counts()
    for case in ET.parse(report).getroot().iter("testcase"):  # noqa: S314 - our own report
        if case.find("failure") is not None or case.find("error") is not None:
            counts.failed += 1
        elif (skipped := case.find("skipped")) is not None:
            counts.skipped += 1
            counts.skip_reasons[(skipped.get("message") or "no reason given").strip()] += 1
        else:
            counts.passed += 1
    return counts


def untranslated(catalogue: Path) -> int:
    """How many entries of a .po file are untranslated or fuzzy."""
    import polib

    po = polib.pofile(str(catalogue))
    return len(po.untranslated_entries()) + len(po.fuzzy_entries())


def main() -> int:
    """Run every gate; exit 1 when one failed."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--require-all", action="store_true",
                        help="fail when the PostgreSQL or browser pass would be skipped (CI)")
    parser.add_argument("--budget-minutes", type=float, default=None,
                        help="stop starting gates, and cut the running one, after this long in total")
    args = parser.parse_args()
    bootstrap.reexec_in_venv()
    with tempfile.TemporaryDirectory(prefix="tenfold-test-") as work:
        budget = args.budget_minutes * MINUTE if args.budget_minutes else None
        runner = Runner(args.require_all, Path(work), budget)
        browser: Background | None = None
        try:
            # The static gates and the fuzz targets side by side: each is one process, mostly on one core.
            runner.parallel_gates(runner.static_commands() + runner.fuzz_commands())
            runner.dependency_audit()
            runner.translations()
            runner.agent()
            runner.sqlite()
            browser = runner.start_browser()
            runner.postgresql()
            runner.finish_pytest(browser)
        except KeyboardInterrupt:
            if browser is not None and browser.process.poll() is None:
                os.killpg(browser.process.pid, signal.SIGKILL)
            runner.record(Gate("interrupted", "failed", detail="Ctrl-C"))
        return runner.summary()


if __name__ == "__main__":
    sys.exit(main())
