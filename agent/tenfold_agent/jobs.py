"""The job runner: jobs run one at a time, in the order received, on a thread of their own, so that the
check-in loop (heartbeats, metrics, checks, check-ins) carries on while a long job runs.

A job is recorded in the spool as `running` before it starts, so a job resent after a crash never runs
twice; a job still waiting in the queue is not recorded yet, so if the agent stops before it starts, the
server's resend delivers it again. A long job first spools a `job_result` with status `running`, then the
final one. A job can be cancelled: dropped while queued, or its process killed while it runs.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .actions import Outcome, PayloadError
from .process import SHUTDOWN, CancelToken
from .spool import Spool
from .util import log

STOPPED_BY_SHUTDOWN = "[stopped: the agent shut down while the job ran]"


@dataclass(frozen=True)
class QueuedJob:
    """A job received from the server: its id (as the server wrote it), kind and payload."""

    wire_id: Any
    kind: str
    payload: Any

    @property
    def key(self) -> str:
        """The id as the spool keeps it."""
        return str(self.wire_id)


def job_result(job_id: Any, outcome: Outcome, duration_ms: int) -> dict[str, Any]:
    """A `job_result` item's data."""
    return {"job_id": job_id, "status": outcome.status, "exit_code": outcome.exit_code, "stdout": outcome.stdout,
            "stderr": outcome.stderr, "duration_ms": duration_ms}


Execute = Callable[[QueuedJob, CancelToken], Outcome]


class JobRunner:
    """One worker thread and a FIFO queue; `execute(job, token)` does the work of one job."""

    def __init__(self, spool: Spool, execute: Execute, is_long: Callable[[str], bool],
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.spool = spool
        self.execute = execute
        self.is_long = is_long
        self.monotonic = monotonic
        self._cond = threading.Condition()
        self._queue: deque[QueuedJob] = deque()
        self._current: QueuedJob | None = None
        self._token: CancelToken | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None

    # --- from the check-in loop ---------------------------------------------------------------------
    def submit(self, job: QueuedJob) -> bool:
        """Queue a job; False when it is already queued or running (a resend) or the runner is stopping."""
        with self._cond:
            if self._stopping or self._knows(job.key):
                return False
            self._queue.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="tenfold-jobs", daemon=True)
                self._thread.start()
            self._cond.notify_all()
            return True

    def knows(self, key: str) -> bool:
        """True when this job id is queued or running."""
        with self._cond:
            return self._knows(key)

    def _knows(self, key: str) -> bool:
        return (self._current is not None and self._current.key == key) or any(j.key == key for j in self._queue)

    def cancel(self, key: str) -> tuple[str, QueuedJob | None]:
        """Cancel a job: `("dropped", job)` when it was queued (it will not run), `("running", job)` when it
        runs (its process is killed), `("", None)` when this runner does not have it."""
        with self._cond:
            for job in self._queue:
                if job.key == key:
                    self._queue.remove(job)
                    self._cond.notify_all()
                    return "dropped", job
            current, token = self._current, self._token
            if current is None or token is None or current.key != key:
                return "", None
        token.cancel()
        return "running", current

    def wait_finished(self, key: str, timeout: float) -> bool:
        """Wait until the job `key` is no longer running; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._current is None or self._current.key != key, timeout)

    def busy(self) -> bool:
        """True while a job runs or waits."""
        with self._cond:
            return self._current is not None or bool(self._queue)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no job runs or waits; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._current is None and not self._queue, timeout)

    def stop(self, timeout: float, grace: float = 10.0) -> None:
        """Take no more jobs; give the running one `timeout` seconds, then kill its process and give it
        `grace` seconds to report. Queued jobs are left to the server's resend."""
        with self._cond:
            self._stopping = True
            left = len(self._queue)
            self._queue.clear()
            self._cond.notify_all()
            thread, token = self._thread, self._token
        if left:
            log.info("stopping: %d queued job(s) not started (the server sends them again)", left)
        if thread is None:
            return
        thread.join(timeout)
        if thread.is_alive() and token is not None:
            log.warning("stopping: the running job did not end within %.0f s, its process is killed", timeout)
            token.cancel(SHUTDOWN)
            thread.join(grace)
        if thread.is_alive():
            log.error("stopping: the running job still has not ended")

    # --- the worker thread ----------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stopping or bool(self._queue))
                if self._stopping and not self._queue:
                    return
                job = self._queue.popleft()
                token = CancelToken()
                self._current, self._token = job, token
            try:
                self._run(job, token)
            except Exception:  # noqa: BLE001 - logged; one job's failure must not end the worker
                # The result could not be spooled (the spool closed under a stuck job): logged, the loop goes on.
                log.exception("job %s (%s) could not be reported", job.key, job.kind)
            finally:
                with self._cond:
                    self._current, self._token = None, None
                    self._cond.notify_all()

    def _run(self, job: QueuedJob, token: CancelToken) -> None:
        # Recorded before it runs: a crash in the middle must not run it a second time.
        self.spool.job_record(job.key, job.kind, "running")
        started = self.monotonic()
        if self.is_long(job.kind):
            self.spool.put("job_result", job_result(job.wire_id, Outcome("running", None, "", ""), 0))
        try:
            outcome = self.execute(job, token)
        except PayloadError as exc:
            outcome = Outcome("failed", None, "", f"refused, nothing was run: {exc}")
        except Exception as exc:  # noqa: BLE001 - any failure of a job is its result, never a crash
            log.exception("job %s (%s) failed in the agent", job.key, job.kind)
            outcome = Outcome("failed", None, "", f"the agent failed while running the job: {exc}")
        if token.cancelled and outcome.status != "succeeded":
            if token.reason == SHUTDOWN:
                outcome = Outcome("failed", outcome.exit_code, outcome.stdout,
                                  f"{outcome.stderr}\n{STOPPED_BY_SHUTDOWN}".lstrip("\n"))
            else:
                outcome = Outcome("cancelled", outcome.exit_code, outcome.stdout, outcome.stderr)
        elapsed = int((self.monotonic() - started) * 1000)
        if outcome.status == "failed" and outcome.exit_code is None:
            log.warning("job %s (%s) failed: %s", job.key, job.kind, outcome.stderr.strip()[:300])
        else:
            log.info("job %s (%s) %s, exit code %s", job.key, job.kind, outcome.status, outcome.exit_code)
        self.spool.put("job_result", job_result(job.wire_id, outcome, elapsed))
        self.spool.job_record(job.key, job.kind, outcome.status)
