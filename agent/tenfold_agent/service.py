"""The agent's work: enrollment, the collect-and-check-in loop, and what a check-in answer asks for."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import shutil
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__, actions
from .checks import CheckRunner
from .client import (
    AgentClient,
    CredentialRejected,
    PayloadRejected,
    ProtocolError,
    RequestTooLarge,
    RetryLater,
    backoff_delay,
    retry_after_delay,
)
from .collectors import Collector, get_collector
from .collectors.updates import UpdatesSchedule
from .config import AgentConfig, ConfigError, check_server_url, default_run_dir
from .discovery import discover
from .jobs import JobRunner, QueuedJob, job_result
from .payload import MAX_BODY_BYTES, MAX_ITEMS, build_checkin
from .process import CancelToken, cancellable_runner
from .restart import PendingRestarts
from .scripts import run_script
from .selfupdate import RESTART_EXIT_CODE, handle_update, make_fetch
from .signing import TRUST_NAME, SignatureError, TrustedKeys, TrustStore
from .spool import ItemTooLarge, Spool
from .util import Runner, iso, read_json, utcnow, write_json_atomic
from .wire import discovery_wire, inventory_wire, os_wire, posture_wire

log = logging.getLogger("tenfold_agent")

SPOOL_NAME = "spool.sqlite3"
STATE_NAME = "state.json"
POLICY_NAME = "policy.json"
POSTURE_EVERY_S = 3600
INVENTORY_LOOK_EVERY_S = 3600
DEFAULT_INVENTORY_HOURS = 24
DISCOVERY_EVERY_S = 4 * 3600
DEFAULT_CHECK_INTERVAL_S = 300
MAX_BATCHES_PER_SYNC = 50
EXIT_OK, EXIT_ERROR, EXIT_CREDENTIAL = 0, 1, 3
NOT_SUPPORTED = "job type not supported by this agent version"
# How long stopping the agent waits for a running job before killing it, and a cancel for the kill to land.
STOP_WAIT_S = 10.0
CANCEL_WAIT_S = 10.0
JOB_POLL_S = 5.0
# While a restart is pending the loop looks for users' deferral requests this often.
RESTART_POLL_S = 2.0
INTERRUPTED = "the agent stopped while this job ran (a crash or a restart); it was not run again"
# Inventory fields that change by themselves; they do not make the inventory "changed".
VOLATILE_HARDWARE = ("uptime_s", "logged_in_users")


@dataclass
class SyncOutcome:
    """How a round of check-ins ended: drained, or the error and the wait it calls for."""

    ok: bool
    sent: int = 0
    retry_after: float | None = None
    stop: bool = False
    error: str = ""


def inventory_hash(inventory: Mapping[str, Any]) -> str:
    """A digest of the inventory without its volatile fields, to send it only when it changed."""
    hardware = {k: v for k, v in dict(inventory.get("hardware", {})).items() if k not in VOLATILE_HARDWARE}
    canonical = json.dumps({"hardware": hardware, "software": inventory.get("software", [])}, sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def enroll(
    state_dir: Path,
    server_url: str,
    token: str,
    *,
    insecure: bool = False,
    ca_file: str | None = None,
    force: bool = False,
    collector: Collector | None = None,
    client: AgentClient | None = None,
) -> AgentConfig:
    """Enroll this device with a per-client token and write the configuration the server answers with."""
    url = check_server_url(server_url, insecure)
    if not token.startswith("tfe_"):
        raise ConfigError("an enrollment token starts with tfe_")
    previous: AgentConfig | None = None
    try:
        previous = AgentConfig.load(state_dir)
    except ConfigError:
        previous = None
    if previous is not None and not force:
        raise ConfigError(f"already enrolled as device {previous.device_id} (use --force to enroll again)")
    collector = collector or get_collector()
    client = client or AgentClient(url, verify_tls=not insecure, ca_file=ca_file)
    answer = client.enroll({
        "token": token,
        "hostname": socket.gethostname(),
        "machine_id": collector.machine_id(),
        "os": os_wire(collector.os_info()),
        "agent_version": __version__,
    })
    try:
        keys = list(answer.get("signing_keys") or [])
        TrustedKeys.from_enrollment(keys)  # refuse an answer whose keys could never verify anything
        config = AgentConfig(
            server_url=url, credential=str(answer["credential"]), device_id=int(answer["device_id"]),
            signing_keys=keys, verify_tls=not insecure, ca_file=ca_file,
            checkin_interval=int(answer.get("checkin_interval", 60)),
            checkin_jitter=int(answer.get("checkin_jitter", 10)),
            collectors=previous.collectors if previous else {},
        )
    except (KeyError, TypeError, ValueError, SignatureError) as exc:
        raise ConfigError(f"the server's enrollment answer is not usable: {exc}") from exc
    try:
        trust = TrustStore.from_enrollment(state_dir / TRUST_NAME, keys)
    except SignatureError as exc:
        raise ConfigError(f"the server's signing keys are not usable: {exc}") from exc
    if previous is not None and previous.device_id != config.device_id:
        # Items collected for another device must not be delivered as this one's.
        for name in (SPOOL_NAME, SPOOL_NAME + "-wal", SPOOL_NAME + "-shm", POLICY_NAME):
            (state_dir / name).unlink(missing_ok=True)
    config.save(state_dir)
    trust.save()  # a new enrollment starts a new trust: the keys this server's answer named
    write_json_atomic(state_dir / STATE_NAME, {"enrolled_at": iso(utcnow())})
    log.info("enrolled as device %s at %s", config.device_id, url)
    return config


class Agent:
    """One agent process: collects into the spool and delivers it, as the protocol says."""

    def __init__(
        self,
        state_dir: Path,
        *,
        config: AgentConfig | None = None,
        collector: Collector | None = None,
        client: AgentClient | None = None,
        spool: Spool | None = None,
        clock: Callable[[], float] = time.time,
        wait: Callable[[float], bool] | None = None,
        rand: Callable[[], float] = random.random,
        cpu_sample_s: float = 1.0,
        discoverer: Callable[[], Mapping[str, Any]] = discover,
        commands: Runner | None = None,
        which: Callable[[str], str | None] = shutil.which,
        exists: Callable[[str], bool] = os.path.exists,
        run_dir: Path | None = None,
    ) -> None:
        self.state_dir = state_dir
        self.config = config or AgentConfig.load(state_dir)
        self.collector = collector or get_collector()
        self.client = client or AgentClient(self.config.server_url, self.config.credential,
                                            verify_tls=self.config.verify_tls, ca_file=self.config.ca_file)
        self.spool = spool or Spool(state_dir / SPOOL_NAME, clock=clock)
        self.clock = clock
        # `wait(seconds)` sleeps and returns True when the agent must stop (a service stop request).
        self.wait = wait or _sleep
        self.rand = rand
        # Network discovery (neighbour table and sweep of the own subnet); tests inject their own.
        self.discoverer = discoverer
        self.checks = CheckRunner(self.collector, state_dir, cpu_sample_s=cpu_sample_s)
        self.state: dict[str, Any] = read_json(state_dir / STATE_NAME, {})
        self.policy: dict[str, Any] = read_json(state_dir / POLICY_NAME, {})
        self.check_due: dict[str, float] = {}
        self.updates = UpdatesSchedule()
        self.max_items = MAX_ITEMS
        self.interval_changed = False
        # The built-in actions run their commands through this runner; None: real, killable processes.
        self.commands = commands
        self.which = which
        self.exists = exists
        # The check-in loop and the job runner's thread both touch the state, the policy and the checks.
        self.lock = threading.RLock()
        # Set by a successful `agent_update`: the loop ends with RESTART_EXIT_CODE, the supervisor starts the
        # new version. `release_fetch` downloads a release (tests inject their own).
        self.restart_requested = False
        self.release_fetch: Callable[[str], bytes] | None = None
        # A restart after updates that the user may postpone; its notices and the restart itself run through
        # the same command runner as the built-in actions.
        self.restarts = PendingRestarts(state_dir, run_dir or default_run_dir(),
                                        family=os_wire(self.collector.os_info())["family"],
                                        run=commands or cancellable_runner(CancelToken()), clock=clock)
        self.restarts.publish()
        self.jobs = JobRunner(self.spool, self.execute_job, lambda kind: kind in JOB_KINDS and JOB_KINDS[kind].long)
        self.report_interrupted_jobs()
        try:
            self.trust = TrustStore.load(state_dir, self.config.signing_keys)
        except SignatureError as exc:
            # Without a usable trust store every script is refused; everything else keeps working.
            log.error("signing keys not usable, scripts will be refused: %s", exc)
            self.trust = TrustStore(state_dir / TRUST_NAME, {}, set())

    # --- collection -------------------------------------------------------------------------------
    def collect(self, force_inventory: bool = False) -> None:
        """Heartbeat, metrics, due checks, inventory when changed or stale, posture when due."""
        now = self.clock()
        with self.lock:
            self._guard("heartbeat", lambda: self.spool.put_heartbeat({"uptime_s": self._uptime()}))
            self._guard("metrics", lambda: self.spool.put("metrics", self.collector.metrics()))
            self.run_due_checks(now)
            self._guard("inventory", lambda: self.maybe_inventory(now, force=force_inventory))
            self._guard("posture", lambda: self.maybe_posture(now))
            self._guard("discovery", lambda: self.maybe_discovery(now))
            self._guard("updates", lambda: self.updates.maybe_spool(self, now))

    def _uptime(self) -> int:
        uptime = getattr(self.collector, "uptime_s", None)
        return int(uptime()) if callable(uptime) else 0

    def _guard(self, what: str, action: Callable[[], object]) -> None:
        try:
            action()
        except ItemTooLarge as exc:
            log.error("%s not spooled: %s", what, exc)
        except Exception:
            # One failing collector must not stop the others, nor the delivery of what is spooled.
            log.exception("collecting %s failed", what)

    def policy_checks(self) -> list[dict[str, Any]]:
        """The checks of the current policy."""
        checks = self.policy.get("checks") or []
        return [c for c in checks if isinstance(c, dict) and "id" in c]

    def run_due_checks(self, now: float, everything: bool = False) -> int:
        """Evaluate the checks whose interval has passed and spool their results; returns how many ran."""
        with self.lock:
            due = []
            for check in self.policy_checks():
                key = str(check["id"])
                if everything or now >= self.check_due.get(key, 0):
                    due.append(check)
                    interval = check.get("interval") or DEFAULT_CHECK_INTERVAL_S
                    self.check_due[key] = now + max(10, float(interval))
            for outcome in self.checks.run_many(due):
                self._guard("check result", lambda o=outcome: self.spool.put("check_result", o))  # type: ignore[misc]
            return len(due)

    def next_check_due(self) -> float | None:
        """When the next check is due, or None without checks."""
        # A check never run yet (a new policy) is due at once.
        with self.lock:
            times = [self.check_due.get(str(c["id"]), 0.0) for c in self.policy_checks()]
        return min(times) if times else None

    def maybe_inventory(self, now: float, force: bool = False) -> int | None:
        """Spool the inventory when it changed, is older than the policy allows, or is forced; returns its seq."""
        if not force and now - float(self.state.get("inventory_looked_at", 0)) < INVENTORY_LOOK_EVERY_S:
            return None
        inventory = self.collector.inventory()
        digest = inventory_hash(inventory)
        hours = float(self.collectors_policy().get("inventory_hours") or DEFAULT_INVENTORY_HOURS)
        stale = now - float(self.state.get("inventory_sent_at", 0)) >= hours * 3600
        self.state["inventory_looked_at"] = now
        seq = None
        if force or stale or digest != self.state.get("inventory_hash"):
            seq = self.spool.put("inventory", inventory_wire(inventory))
            self.state.update(inventory_hash=digest, inventory_sent_at=now)
        self.save_state()
        return seq

    def maybe_posture(self, now: float, force: bool = False) -> int | None:
        """Spool the security posture hourly; returns its seq."""
        if not force and now - float(self.state.get("posture_at", 0)) < POSTURE_EVERY_S:
            return None
        collectors = self.collectors_policy()
        tools = [t for t in collectors.get("backup_tools") or [] if isinstance(t, str)]
        settings = {**{k: v for k, v in collectors.items() if isinstance(v, dict)}, **self.config.collectors}
        posture = self.collector.posture(tools, settings)
        backup = posture.get("backup") or {}
        if backup.get("error"):
            log.warning("backup status from %s: %s", backup.get("tool"), backup["error"])
        seq = self.spool.put("posture", posture_wire(posture))
        self.state["posture_at"] = now
        self.save_state()
        return seq

    def maybe_discovery(self, now: float, force: bool = False) -> int | None:
        """Spool a network discovery when the policy's collectors enable `network_discovery`, at most
        every 4 hours (the time is kept in state.json, so a restart does not sweep again); returns its seq."""
        if self.collectors_policy().get("network_discovery") is not True:
            return None
        if not force and 0 <= now - float(self.state.get("discovery_at", 0)) < DISCOVERY_EVERY_S:
            return None
        # Marked before running: a discovery that fails waits its 4 hours like one that succeeded.
        self.state["discovery_at"] = now
        self.save_state()
        found = self.discoverer()
        seq = self.spool.put("discovery", discovery_wire(found))
        log.info("network discovery: %d neighbour(s) on %s", len(found.get("neighbors") or []),
                 found.get("subnet") or "no subnet")
        return seq

    def collectors_policy(self) -> dict[str, Any]:
        """The policy's `collectors` part."""
        value = self.policy.get("collectors")
        return dict(value) if isinstance(value, dict) else {}

    # --- delivery ---------------------------------------------------------------------------------
    def sync(self) -> SyncOutcome:
        """Check in until the spool is drained or an error; items leave the spool only when acknowledged."""
        sent = 0
        for _ in range(MAX_BATCHES_PER_SYNC):
            items = self.spool.pending(self.max_items, MAX_BODY_BYTES)
            if not items:
                return SyncOutcome(ok=True, sent=sent)
            batch = build_checkin(items, agent_version=__version__,
                                  policy_version=str(self.policy.get("version") or ""), sent_at=iso(utcnow()))
            try:
                answer = self.client.checkin(batch.body)
            except RetryLater as exc:
                log.warning("server busy (429): retry after %s s", exc.retry_after)
                return self._failed(exc, retry_after=exc.retry_after)
            except CredentialRejected as exc:
                log.error("credential %s (%s): this agent stops; enroll it again with "
                          "`tenfold-agent enroll --server URL --token TOKEN --force`", exc.code, exc.message)
                self.state["credential_rejected"] = exc.code
                self.save_state()
                return SyncOutcome(ok=False, sent=sent, stop=True, error=exc.code)
            except RequestTooLarge:
                if len(batch.items) == 1:
                    log.error("server refuses item seq %d as too large: discarded", batch.items[0].seq)
                    self.spool.discard([batch.items[0].seq])
                    continue
                self.max_items = max(1, len(batch.items) // 2)
                log.warning("request too large (413): sending at most %d items per check-in", self.max_items)
                continue
            except PayloadRejected as exc:
                named = [s for s in exc.seqs if any(i.seq == s for i in batch.items)]
                if named:
                    log.error("server rejected items %s (%s): discarded, the rest is sent again", named, exc.message)
                    self.spool.discard(named)
                    continue
                log.error("server rejected the check-in without naming items: %s %s", exc.message, exc.errors)
                return self._failed(exc)
            except ProtocolError as exc:
                log.warning("check-in failed: %s", exc)
                return self._failed(exc)
            sent += len(batch.items)
            if not self.apply_answer(answer, batch.last_seq):
                return SyncOutcome(ok=False, sent=sent, error="answer without progress")
        return SyncOutcome(ok=True, sent=sent)

    def _failed(self, exc: ProtocolError, retry_after: float | None = None) -> SyncOutcome:
        self.state["last_error"] = {"at": iso(utcnow()), "error": str(exc)[:500]}
        self.save_state()
        return SyncOutcome(ok=False, retry_after=retry_after, error=exc.code)

    def apply_answer(self, answer: Mapping[str, Any], last_sent: int | None) -> bool:
        """Acknowledge, take the new policy, interval and credential, record jobs; False if nothing was acked."""
        ack = answer.get("ack_seq")
        progressed = False
        if isinstance(ack, int) and not isinstance(ack, bool):
            before = self.spool.count()
            self.spool.ack(ack)
            progressed = self.spool.count() < before or (last_sent is not None and ack >= last_sent)
        else:
            log.error("check-in answer without a valid ack_seq: %r", ack)
        changed = False
        for key in ("checkin_interval", "checkin_jitter"):
            value = answer.get(key)
            valid = isinstance(value, int) and not isinstance(value, bool) and value >= 0
            if valid and getattr(self.config, key) != value:
                setattr(self.config, key, value)
                changed = self.interval_changed = True
        new_credential = answer.get("rotate_credential")
        if isinstance(new_credential, str) and new_credential.startswith("tfa_"):
            self.config.credential = new_credential
            self.client.credential = new_credential
            changed = True
            log.info("credential rotated by the server")
        if changed:
            self.config.save(self.state_dir)
        policy = answer.get("policy")
        if isinstance(policy, dict) and policy.get("version"):
            with self.lock:
                self.policy = policy
                write_json_atomic(self.state_dir / POLICY_NAME, policy)
                self.check_due = {}
            log.info("policy %s applied (%d checks)", policy.get("version"), len(self.policy_checks()))
        keys = answer.get("signing_keys")
        if isinstance(keys, dict):
            # Before the jobs: a job may need a key rotated in, or must meet a revocation.
            self.update_trust(keys)
        jobs = answer.get("jobs") or []
        if isinstance(jobs, list):
            for job in jobs:
                if isinstance(job, dict):
                    self.handle_job(job)
        self.state["last_checkin"] = iso(utcnow())
        self.state.pop("last_error", None)
        self.save_state()
        return progressed

    def update_trust(self, update: Mapping[str, Any]) -> None:
        """Apply the key changes of a check-in answer (countersigned keys, signed revocations)."""
        before = (dict(self.trust.keys), set(self.trust.revoked))
        try:
            notes = self.trust.apply(update)
        except SignatureError as exc:
            log.error("signing keys update refused: %s", exc)
            return
        for note in notes:
            log.info("signing keys: %s", note)
        if (self.trust.keys, self.trust.revoked) != before:
            self.trust.save()

    def handle_job(self, job: Mapping[str, Any]) -> None:
        """Queue a job for the job runner, or answer at once a `cancel_job` or a kind this agent does not
        know; a job id is handled once, even across a restart."""
        job_id = job.get("id", job.get("job_id"))
        job_type = str(job.get("kind") or job.get("type") or job.get("action") or "")
        if job_id is None or self.spool.job_seen(str(job_id)) or self.jobs.knows(str(job_id)):
            return
        queued = QueuedJob(job_id, job_type, job.get("payload"))
        if job_type == "cancel_job":
            # Not queued: it must reach the job it cancels, which may be the one running.
            self._answer_now(queued, self.cancel_job)
        elif job_type in JOB_KINDS:
            self.jobs.submit(queued)
        else:
            log.warning("job %s of type %r refused: %s", job_id, job_type, NOT_SUPPORTED)
            self._answer_now(queued, lambda _job: actions.Outcome("failed", None, "", NOT_SUPPORTED))

    def _answer_now(self, job: QueuedJob, handler: Callable[[QueuedJob], actions.Outcome]) -> None:
        self.spool.job_record(job.key, job.kind, "running")
        start = time.monotonic()
        try:
            outcome = handler(job)
        except actions.PayloadError as exc:
            outcome = actions.Outcome("failed", None, "", f"refused, nothing was run: {exc}")
        self.spool.put("job_result", job_result(job.wire_id, outcome, int((time.monotonic() - start) * 1000)))
        self.spool.job_record(job.key, job.kind, outcome.status)

    def cancel_job(self, job: QueuedJob) -> actions.Outcome:
        """`cancel_job` `{"job_id": N}`: drop job N from the queue, or kill its process while it runs; job N
        then reports `cancelled`."""
        payload = actions._only_keys(job.payload, ("job_id",))
        target = payload.get("job_id")
        if isinstance(target, bool) or not isinstance(target, int) or target < 1:
            raise actions.PayloadError("job_id must be the id of a job (a whole number from 1)")
        what, victim = self.jobs.cancel(str(target))
        if what == "dropped" and victim is not None:
            outcome = actions.Outcome("cancelled", None, "", f"cancelled by job {job.wire_id} before it started")
            self.spool.put("job_result", job_result(victim.wire_id, outcome, 0))
            self.spool.job_record(victim.key, victim.kind, "cancelled")
            log.info("job %s (%s) cancelled before it started", victim.key, victim.kind)
            return actions.Outcome("succeeded", 0, f"job {target} was waiting: removed, it will not run", "")
        if what == "running":
            ended = self.jobs.wait_finished(str(target), CANCEL_WAIT_S)
            log.info("job %s cancelled while it ran", target)
            return actions.Outcome("succeeded", 0, f"job {target} was running: its process was stopped"
                                   + ("" if ended else " (it has not reported yet)"), "")
        return actions.Outcome("failed", None, "", f"job {target} is not running on this device")

    def execute_job(self, job: QueuedJob, token: CancelToken) -> actions.Outcome:
        """Run one job on the job runner's thread (its kind is one of `JOB_KINDS`)."""
        return JOB_KINDS[job.kind].handler(self, job, token)

    def host(self, token: CancelToken) -> actions.Host:
        """This device for the built-in actions: its OS family, and commands that `token` can stop."""
        family = os_wire(self.collector.os_info())["family"]
        run = self.commands or cancellable_runner(token)
        return actions.Host(family=family, run=run, which=self.which, clock=self.clock, exists=self.exists,
                            token=token, trust=self.trust, restarts=self.restarts)

    def report_interrupted_jobs(self) -> None:
        """A job recorded as running when the agent starts was interrupted (a crash, a restart): report it
        failed, so that the server does not wait for it forever."""
        for key, job_type in self.spool.jobs_with_status("running"):
            if key.isdigit() and int(key) >= 1:
                self.spool.put("job_result", job_result(int(key), actions.Outcome("failed", None, "", INTERRUPTED), 0))
            self.spool.job_record(key, job_type, "failed")
            log.warning("job %s (%s) was interrupted by the agent stopping: reported failed", key, job_type)

    # --- the loop ---------------------------------------------------------------------------------
    def interval_with_jitter(self) -> float:
        """The server's check-in interval plus or minus its jitter (never under 5 s)."""
        jitter = self.config.checkin_jitter
        return max(5.0, self.config.checkin_interval + (self.rand() * 2 - 1) * jitter)

    def run(self, once: bool = False) -> int:
        """Collect and deliver until stopped; returns the process exit code (3: the credential is rejected)."""
        if self.state.get("credential_rejected"):
            log.error("credential %s: this agent stays stopped until it is enrolled again",
                      self.state["credential_rejected"])
            return EXIT_CREDENTIAL
        log.info("tenfold-agent %s running for device %s, server %s", __version__, self.config.device_id,
                 self.config.server_url)
        failures = 0
        healthy = True  # False while waiting out a backoff or a Retry-After
        next_collect = next_sync = last_collect = self.clock()
        while True:
            self._guard("pending restart", self.restarts.tick)
            now = self.clock()
            if now >= next_collect:
                self.collect()
                last_collect = now
                next_collect = now + self.interval_with_jitter()
                if healthy:
                    next_sync = min(next_sync, now)
            else:
                check_time = self.next_check_due()
                if check_time is not None and now >= check_time:
                    self.run_due_checks(now)
            if now >= next_sync:
                outcome = self.sync()
                if outcome.stop:
                    return EXIT_CREDENTIAL
                healthy = outcome.ok
                if self.interval_changed:
                    # The server set a new interval: count it from the last collection, not the next.
                    self.interval_changed = False
                    next_collect = last_collect + self.interval_with_jitter()
                if outcome.ok:
                    failures = 0
                    next_sync = next_collect
                elif outcome.retry_after is not None:
                    next_sync = self.clock() + retry_after_delay(outcome.retry_after, self.rand)
                else:
                    next_sync = self.clock() + backoff_delay(failures, self.rand)
                    failures += 1
                if once:
                    if outcome.ok and self.jobs.busy():
                        # One run: the jobs of the answer run to the end, and their results go out now.
                        self.jobs.wait_idle()
                        outcome = self.sync()
                    return EXIT_OK if outcome.ok else EXIT_ERROR
            if self.restart_requested:
                log.info("agent updated: exiting with %d so that the new version starts", RESTART_EXIT_CODE)
                return RESTART_EXIT_CODE
            wake = min(t for t in (next_collect, next_sync, self.next_check_due()) if t is not None)
            if self.jobs.busy():
                # A job runs on its own thread: look now and then whether it asked for a restart.
                wake = min(wake, self.clock() + JOB_POLL_S)
            if self.restarts.current() is not None:
                wake = min(wake, self.clock() + RESTART_POLL_S)
            if self.wait(max(0.0, wake - self.clock())):
                log.info("stop requested")
                return EXIT_OK

    def save_state(self) -> None:
        """Persist the loop's bookkeeping (last inventory, posture, check-in, errors)."""
        with self.lock:
            write_json_atomic(self.state_dir / STATE_NAME, dict(self.state))

    def close(self, job_wait_s: float = STOP_WAIT_S) -> None:
        """Stop the job runner (a running job gets `job_wait_s` seconds, then its process is killed) and close
        the spool."""
        self.jobs.stop(job_wait_s)
        self.spool.close()


# --- the job kinds --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobKind:
    """How the job runner runs one kind of job; a long one reports `running` when it starts."""

    handler: Callable[[Agent, QueuedJob, CancelToken], actions.Outcome]
    long: bool = False


def _run_script(agent: Agent, job: QueuedJob, token: CancelToken) -> actions.Outcome:
    payload = job.payload if isinstance(job.payload, Mapping) else {}
    os_family = os_wire(agent.collector.os_info())["family"]
    result = run_script(payload, agent.trust, os_family, token)
    return actions.Outcome(result.status, result.exit_code, result.stdout, result.stderr)


def _collect_inventory_now(agent: Agent, job: QueuedJob, token: CancelToken) -> actions.Outcome:
    with agent.lock:
        seq = agent.maybe_inventory(agent.clock(), force=True)
    return actions.Outcome("succeeded", 0, f"inventory collected (seq {seq})", "")


def _run_checks_now(agent: Agent, job: QueuedJob, token: CancelToken) -> actions.Outcome:
    count = agent.run_due_checks(agent.clock(), everything=True)
    return actions.Outcome("succeeded", 0, f"{count} check(s) evaluated", "")


def _restart_service(agent: Agent, job: QueuedJob, token: CancelToken) -> actions.Outcome:
    return actions.restart_service(job.payload, agent.host(token))


def _reboot(agent: Agent, job: QueuedJob, token: CancelToken) -> actions.Outcome:
    return actions.reboot(job.payload, agent.host(token))


def _install_updates(agent: Agent, job: QueuedJob, token: CancelToken) -> actions.Outcome:
    outcome = actions.install_updates(job.payload, agent.host(token), job.wire_id)
    # A fresh list of updates, so the server sees what is installed now (even after a failure). Not under the
    # agent's lock: a Windows Update search takes minutes, and the check-in loop must go on meanwhile.
    agent._guard("updates", lambda: agent.updates.maybe_spool(agent, agent.clock(), force=True))
    return outcome


def _uninstall_software(agent: Agent, job: QueuedJob, token: CancelToken) -> actions.Outcome:
    outcome = actions.uninstall_software(job.payload, agent.host(token))
    if outcome.exit_code is not None:  # the command ran: the software list has changed, or says why not
        with agent.lock:
            seq = agent.maybe_inventory(agent.clock(), force=True)
        outcome.stdout = f"{outcome.stdout.rstrip()}\ninventory collected (seq {seq})".lstrip("\n")
    return outcome


def _agent_update(agent: Agent, job: QueuedJob, token: CancelToken) -> actions.Outcome:
    fetch = agent.release_fetch or make_fetch(agent.config.server_url, agent.config.credential,
                                              verify_tls=agent.config.verify_tls, ca_file=agent.config.ca_file)
    payload = job.payload if isinstance(job.payload, Mapping) else {}
    result = handle_update(payload, trust=agent.trust, fetch=fetch, state_dir=agent.state_dir)
    if result["status"] == "succeeded":
        agent.restart_requested = True
    return actions.Outcome(str(result["status"]), result["exit_code"], str(result["stdout"]), str(result["stderr"]))


# kind -> how it runs. `cancel_job` is not here: it is answered at once by `Agent.cancel_job`.
JOB_KINDS: dict[str, JobKind] = {
    "run_script": JobKind(_run_script, long=True),
    "collect_inventory_now": JobKind(_collect_inventory_now),
    "run_checks_now": JobKind(_run_checks_now),
    "restart_service": JobKind(_restart_service, long=True),
    "reboot": JobKind(_reboot),
    "install_updates": JobKind(_install_updates, long=True),
    "uninstall_software": JobKind(_uninstall_software, long=True),
    "agent_update": JobKind(_agent_update, long=True),
}


def _sleep(seconds: float) -> bool:
    time.sleep(seconds)
    return False


def status(state_dir: Path) -> dict[str, Any]:
    """What the agent knows about itself, for `tenfold-agent status` (no secret in it)."""
    config = AgentConfig.load(state_dir)
    spool = Spool(state_dir / SPOOL_NAME)
    try:
        oldest = spool.oldest_created()
        facts = {
            "state_dir": str(state_dir), "server_url": config.server_url, "device_id": config.device_id,
            "credential": config.credential_prefix, "verify_tls": config.verify_tls,
            "checkin_interval": config.checkin_interval, "checkin_jitter": config.checkin_jitter,
            "spool_items": spool.count(), "spool_bytes": spool.total_bytes(), "last_seq": spool.last_seq(),
            "oldest_item_age_s": None if oldest is None else round(time.time() - oldest),
            "dropped": spool.dropped(),
        }
    finally:
        spool.close()
    state = read_json(state_dir / STATE_NAME, {})
    policy = read_json(state_dir / POLICY_NAME, {})
    facts.update(policy_version=policy.get("version"), checks=len(policy.get("checks") or []),
                 last_checkin=state.get("last_checkin"), last_error=state.get("last_error"),
                 credential_rejected=state.get("credential_rejected"))
    return facts
