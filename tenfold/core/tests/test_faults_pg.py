"""`kill -9` of a worker and of PostgreSQL itself during a fleet run, on a private PostgreSQL cluster.

The test makes its own cluster (`initdb` in a temporary folder, a free loopback port, its own socket
folder; never the machine's shared server), runs a throw-away Tenfold deployment on it (`tenfold serve`
and `tenfold worker`), and simulated agents (the agent package's spool and HTTP client, in threads)
that check in all along, answering the jobs they receive. Mid-run the worker is killed with SIGKILL
and restarted, then the postmaster is killed with SIGKILL and restarted. Afterwards:

- every check-in the server acknowledged is stored exactly once (audit by the agents' seq numbers);
- every outbox event is delivered, each handler applied once (`EventDelivery` rows);
- every job sent to an agent has its result stored (no job result lost).

What the test shows of today's behaviour, and works within:
- `tenfold worker` outlives its database: when PostgreSQL goes away its task loop restarts after a
  growing wait (1 s to 15 s) instead of exiting; the test checks the same process is still running and
  delivers the events written after the database restart.
- The worker is killed when no outbox event is claimed: an event claimed by a worker killed mid-delivery
  is taken again only after `TENFOLD_OUTBOX_CLAIM_SECONDS` (120 s by default) by the periodic sweep, longer
  than this test may run. That case is `test_outbox_kill.py`'s, with a short claim.

PostgreSQL pass only (TENFOLD_TEST_DATABASE_URL set); skipped when `initdb`/`pg_ctl` are not installed.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tenfold_agent.client import AgentClient, RetryLater, ServerUnavailable
from tenfold_agent.payload import build_checkin
from tenfold_agent.spool import Spool
from tenfold_agent.util import iso, utcnow

from tenfold.agents.tests.live import STAFF_AND_CLIENT, Api, Server, _stop_group, free_port, tail, wait_until
from tenfold.core.tests.instances import Instance, instance_env

pytestmark = pytest.mark.slow

AGENTS = 6
JOBS_PER_DEVICE = 2
RESULTS_PER_STEP = 5
DEVICES_PER_PHASE = 3
PG_DEADLINE = 60


def _pg_bin() -> Path | None:
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    found = shutil.which("pg_ctl")
    return Path(found).parent if found and shutil.which("initdb") else None


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of the test's own, run as the `postgres` user when the test runs as root."""

    bin: Path
    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = PG_DEADLINE) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)

    def init(self) -> None:
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
        result = self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                           "-E", "UTF8", "--no-sync")
        assert result.returncode == 0, f"initdb failed:\n{result.stdout}\n{result.stderr}"

    def start(self) -> None:
        # After a SIGKILL the orphaned backends notice the postmaster's death and exit; until they have,
        # a new postmaster refuses the shared memory they hold: retry within the deadline.
        deadline = time.monotonic() + PG_DEADLINE
        while True:
            result = self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30",
                               "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1", "start")
            if result.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"pg_ctl start failed:\n{result.stdout}\n{result.stderr}\n{tail(self.log)}")
            time.sleep(0.5)

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    def kill9(self) -> None:
        """SIGKILL of the postmaster: no shutdown checkpoint, crash recovery at the next start."""
        pid = self.postmaster_pid()
        assert pid is not None, tail(self.log)
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not _alive(pid), 10, "the postmaster to die", interval=0.05)

    def stop(self) -> None:
        """Whatever state it is in: an immediate stop, then SIGKILL of anything left."""
        with contextlib.suppress(Exception):
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "stop", "-m", "immediate", timeout=30)
        pid = self.postmaster_pid()
        if pid is not None and _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose (it is the child of pg_ctl's shell, reaped by init).
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
            return False
    return True


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    if not os.environ.get("TENFOLD_TEST_DATABASE_URL", "").startswith("postgres"):
        pytest.skip("the PostgreSQL crash test runs in the PostgreSQL pass (TENFOLD_TEST_DATABASE_URL)")
    pg_bin = _pg_bin()
    if pg_bin is None:
        pytest.skip("initdb and pg_ctl are not installed (looked in /usr/lib/postgresql/*/bin and on PATH)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root with no postgres user to run PostgreSQL as")
    # Not under pytest's tmp_path: the postgres user must be able to reach the folder.
    root = Path(tempfile.mkdtemp(prefix="tenfold-pg-"))
    cluster = PrivatePostgres(pg_bin, root, free_port())
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


class FleetAgent(threading.Thread):
    """An agent made of the real agent's spool and client: each step spools RESULTS_PER_STEP check results
    (and the result of each job it received, once per job id), sends the spool oldest first, and deletes
    only what the server acknowledged. Server errors: a short pause, then the same items again."""

    def __init__(self, number: int, server_url: str, credential: str, spool_path: Path, gate: threading.Event):
        super().__init__(name=f"fleet-agent-{number}", daemon=True)
        self.number = number
        self.client = AgentClient(server_url, credential, verify_tls=False, timeout=20)
        self.spool_path = spool_path
        self.gate = gate
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.kinds: dict[int, str] = {}
        self.jobs_seen: set[int] = set()
        self.acked = 0
        self.failures = 0
        self.refused = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            spool = Spool(self.spool_path)
            spool._db.execute("PRAGMA synchronous=OFF")  # speed only: the server's durability is under test
            try:
                while not self.stop.is_set():
                    self.gate.wait(timeout=0.5)
                    if self.gate.is_set() and not self.stop.is_set():
                        with self.lock:
                            self._step(spool)
            finally:
                spool.close()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc

    def _step(self, spool: Spool) -> None:
        if spool.count() < 200:
            for n in range(RESULTS_PER_STEP):
                seq = spool.put("check_result", {"check_id": 1 + n, "status": "pass", "value": float(n),
                                                 "message": f"fleet agent {self.number}"})
                self.kinds[seq] = "check_result"
        items = spool.pending(100)
        body = build_checkin(items, agent_version="0.1.0", policy_version="", sent_at=iso(utcnow())).body
        try:
            answer = self.client.checkin(body)
        except RetryLater as exc:  # the server sheds load: come back when it says
            self.refused += 1
            self.stop.wait(exc.retry_after if exc.retry_after is not None else 5.0)
            return
        except ServerUnavailable:
            self.failures += 1
            time.sleep(0.2)
            return
        ack = int(answer["ack_seq"])
        assert ack >= items[-1].seq, (ack, items[-1].seq)
        spool.ack(ack)
        self.acked = max(self.acked, ack)
        for job in answer.get("jobs") or []:
            if job["id"] in self.jobs_seen:
                continue  # sent again before its result arrived: the agent runs a job id once
            self.jobs_seen.add(job["id"])
            seq = spool.put("job_result", {"job_id": job["id"], "status": "succeeded", "exit_code": 0,
                                           "stdout": f"job {job['id']} ran on fleet agent {self.number}",
                                           "stderr": "", "duration_ms": 12})
            self.kinds[seq] = "job_result"
        time.sleep(0.05)


JOBS = """
from tenfold.accounts.models import User
from tenfold.agents import services
from tenfold.assets.models import Device
admin = User.objects.get(email="e2e-admin@msp.test")
result = [services.job_create(actor=admin, device=device, kind="run_checks_now", payload={{}}).pk
          for device in Device.objects.filter(pk__in={devices!r}).order_by("pk") for _ in range({per_device})]
"""

AUDIT = """
from collections import Counter
from tenfold.agents.models import Agent, Job
from tenfold.assets.models import CheckResult
from tenfold.core import events
from tenfold.core.models import EventDelivery, OutboxEvent
devices = {devices!r}
result = {{"devices": {{}}}}
for device_id in devices:
    seqs = list(CheckResult.objects.filter(device_id=device_id).values_list("seq", flat=True))
    result["devices"][str(device_id)] = {{
        "last_seq": Agent.objects.get(device_id=device_id).last_seq,
        "seqs": sorted(seqs),
        "jobs": sorted(Job.objects.filter(device_id=device_id).values_list("pk", "status", "stdout")),
    }}
rows = list(OutboxEvent.objects.values_list("pk", "name", "delivered_at"))
result["names"] = dict(Counter(name for _pk, name, _at in rows))
result["undelivered"] = sum(1 for _pk, _name, at in rows if at is None)
result["expected"] = sorted((pk, h.name) for pk, name, _at in rows for h in events.handlers_for(name))
result["applied"] = sorted(EventDelivery.objects.values_list("event_id", "handler"))
"""

UNDELIVERED = ("from tenfold.core.models import OutboxEvent\n"
               "result = OutboxEvent.objects.filter(delivered_at__isnull=True).count()")


def _instance(root: Path, database_url: str) -> Instance:
    """A deployment of its own on the private cluster (make_instance would use the shared server)."""
    root.mkdir()
    env = instance_env(root)
    env.update(TENFOLD_DATABASE_URL=database_url, TENFOLD_SCHEDULER_TICK_SECONDS="1")
    instance = Instance(root=root, env=env)
    instance.run("migrate", "--verbosity", "0")
    return instance


@dataclass
class Worker:
    instance: Instance
    log: Path
    process: subprocess.Popen[bytes] | None = None
    started: list[int] = field(default_factory=list)

    def start(self) -> None:
        with self.log.open("ab") as handle:
            self.process = subprocess.Popen([sys.executable, "-m", "tenfold", "worker"], env=self.instance.env,
                                            cwd=self.instance.root, stdin=subprocess.DEVNULL, stdout=handle,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append(self.process.pid)

    def kill9(self) -> None:
        assert self.process is not None and self.process.poll() is None, tail(self.log)
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None:
            _stop_group(self.process, signal.SIGTERM, grace=20)


def test_worker_and_postgresql_killed_during_a_fleet_run_lose_nothing(
        private_postgres: PrivatePostgres, tmp_path: Path) -> None:
    began = time.monotonic()
    pg = private_postgres
    instance = _instance(tmp_path / "instance", pg.url)
    facts = instance.query(STAFF_AND_CLIENT)
    server = Server(instance, free_port(), tmp_path / "server.log")
    worker = Worker(instance, tmp_path / "worker.log")
    api = Api(server.url, facts["token"])
    gate = threading.Event()
    fleet: dict[int, FleetAgent] = {}
    new_devices = iter(range(1000))

    def details() -> str:
        return "\n".join([tail(server.log_path), tail(worker.log), tail(pg.log)])

    def add_devices() -> None:
        for _ in range(DEVICES_PER_PHASE):
            api.post("/devices", {"client_id": facts["client_id"], "name": f"PC-{next(new_devices):03d}",
                                  "kind": "workstation"})

    def delivered() -> bool:
        return instance.query(UNDELIVERED) == 0

    def acked() -> int:
        return sum(agent.acked for agent in fleet.values())

    def worker_alive() -> bool:
        """The worker started after the kill -9 is still the one running (it must not exit with its database)."""
        assert worker.process is not None
        assert worker.process.poll() is None, f"the worker exited ({worker.process.returncode}): {tail(worker.log)}"
        return True

    try:
        server.start()
        worker.start()
        token = instance.run("agent-token", "--client", str(facts["client_id"]), "--max-uses", str(AGENTS)).stdout
        for n in range(AGENTS):
            answer = AgentClient(server.url, verify_tls=False).enroll({
                "token": token.strip(), "hostname": f"fleet-{n:02d}", "machine_id": f"fleet-machine-{n:02d}",
                "os": {"family": "linux", "name": "Debian GNU/Linux", "version": "12"}, "agent_version": "0.1.0"})
            fleet[int(answer["device_id"])] = FleetAgent(n, server.url, answer["credential"],
                                                         tmp_path / f"fleet-{n:02d}" / "spool.sqlite3", gate)
        jobs = instance.query(JOBS.format(devices=sorted(fleet), per_device=JOBS_PER_DEVICE))
        assert len(jobs) == AGENTS * JOBS_PER_DEVICE
        for agent in fleet.values():
            agent.start()
        gate.set()

        # phase 1: the fleet checks in, events flow; then the worker is killed with SIGKILL
        add_devices()
        wait_until(lambda: acked() >= 300 or any(a.error for a in fleet.values()), 60, "check-ins acknowledged",
                   details, interval=0.1)
        # No event may be claimed by the worker at the kill: a claim held by a dead worker is only retaken
        # after TENFOLD_OUTBOX_CLAIM_SECONDS (120 s), beyond this test's time bound (see the module docstring).
        wait_until(delivered, 60, "the first events delivered", details, interval=1)
        worker.kill9()
        acked_before = acked()
        # phase 2: with no worker, the fleet goes on and more events are written; then it is restarted
        add_devices()
        wait_until(lambda: acked() >= acked_before + 150, 60, "check-ins with the worker dead", details,
                   interval=0.1)
        assert not delivered(), "events written while no worker ran were delivered: by whom?"
        worker.start()
        wait_until(delivered, 60, "the events written while the worker was dead", details, interval=1)

        # phase 3: PostgreSQL killed with SIGKILL in the middle of check-ins
        wait_until(lambda: acked() >= acked_before + 300, 60, "check-ins before the database kill", details,
                   interval=0.1)
        failures_before = sum(a.failures for a in fleet.values())
        acked_at_pg_kill = acked()
        pg.kill9()
        time.sleep(2)  # the fleet keeps trying against a server whose database is gone
        refused_meanwhile = sum(a.failures for a in fleet.values()) - failures_before
        assert server.process is not None and server.process.poll() is None, "the web server died with its database"
        assert refused_meanwhile > 0, "no check-in was attempted while the database was down"
        pg.start()
        acked_at_restart = acked()
        # The worker outlives its database: its task loop waits and restarts (no supervisor needed).
        worker_pid = worker.process.pid if worker.process is not None else None
        worker_alive()
        # phase 4: everything resumes; events written after the restart are delivered by the same worker
        wait_until(lambda: acked() >= acked_at_restart + 300, 60, "check-ins after the database restart",
                   details, interval=0.1)
        add_devices()
        wait_until(lambda: worker_alive() and delivered(), 60, "the events written after the database restart",
                   details, interval=1)
        assert worker.process is not None and worker.process.pid == worker_pid
        # every job has been answered and its result acknowledged
        wait_until(lambda: all(len(a.jobs_seen) == JOBS_PER_DEVICE for a in fleet.values()), 30,
                   "every job received by its agent", details, interval=0.2)
        results_sent = {d: max(s for s, k in a.kinds.items() if k == "job_result") for d, a in fleet.items()}
        wait_until(lambda: all(fleet[d].acked >= s for d, s in results_sent.items()), 30,
                   "every job result acknowledged", details, interval=0.2)
        gate.clear()
        for agent in fleet.values():  # let the check-in in flight, if any, finish
            with agent.lock:
                pass
        acked_final = {d: a.acked for d, a in fleet.items()}
        kinds = {d: dict(a.kinds) for d, a in fleet.items()}
        audit = instance.query(AUDIT.format(devices=sorted(fleet)))
    finally:
        for agent in fleet.values():
            agent.stop.set()
        gate.set()
        for agent in fleet.values():
            if agent.is_alive():
                agent.join(timeout=30)
        worker.stop()
        server.stop()

    assert not any(a.error for a in fleet.values()), [a.error for a in fleet.values()]
    total = sum(acked_final.values())
    print(f"\nfleet of {AGENTS} agents: {total} items acknowledged; worker killed at {acked_before}, PostgreSQL "
          f"killed at {acked_at_pg_kill}, restarted at {acked_at_restart} ({refused_meanwhile} check-ins "
          f"failed while it was down); worker "
          f"process still the same after the database restart (pid {worker_pid}); "
          f"{sum(a.refused for a in fleet.values())} check-ins answered 429; "
          f"{len(audit['applied'])} event deliveries for {sum(audit['names'].values())} events; "
          f"{len(jobs)} jobs; {time.monotonic() - began:.0f} s")

    # then: every acknowledged check result is stored exactly once, nothing above what was acknowledged
    # is missing below the server's high-water mark
    for device, agent_acked in acked_final.items():
        facts_of = audit["devices"][str(device)]
        assert facts_of["last_seq"] >= agent_acked, (device, facts_of["last_seq"], agent_acked)
        expected = sorted(s for s, k in kinds[device].items() if k == "check_result" and s <= facts_of["last_seq"])
        assert facts_of["seqs"] == expected, device
    # and every event was delivered, each handler applied exactly once
    assert audit["undelivered"] == 0
    assert audit["applied"] == audit["expected"]
    assert audit["names"]["device.created"] == 3 * DEVICES_PER_PHASE
    assert audit["names"]["job.created"] == AGENTS * JOBS_PER_DEVICE
    assert audit["names"]["device.enrolled"] == AGENTS
    # and every job's result is stored
    for device, agent in fleet.items():
        assert audit["devices"][str(device)]["jobs"] == sorted(
            [job, "succeeded", f"job {job} ran on fleet agent {agent.number}"] for job in agent.jobs_seen)
