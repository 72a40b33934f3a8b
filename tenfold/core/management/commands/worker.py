"""`tenfold worker`: run background tasks and the scheduler in one process.

The main thread runs the task backend's worker loop (the database backend's `db_worker`, or an RQ
worker when TENFOLD_REDIS_URL is set). A daemon thread ticks the scheduler every
TENFOLD_SCHEDULER_TICK_SECONDS and refreshes this worker's heartbeat, which /healthz reports. Any
number of workers may run at once: schedules, outbox events and tasks are each claimed by one.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import threading
import time
from argparse import ArgumentParser
from datetime import timedelta
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections, connection, connections
from django.utils import timezone
from django_tasks import TaskResultStatus, task_backends
from django_tasks.backends.base import BaseTaskBackend

from tenfold.core import scheduler
from tenfold.core.models import WorkerHeartbeat

logger = logging.getLogger("tenfold.worker")

# django-tasks-db refuses worker ids longer than this.
WORKER_ID_MAX = 64
# The task loop restarts after a database error, waiting this long at first and twice as long each time.
RESTART_DELAY_FIRST, RESTART_DELAY_MAX = 1.0, 15.0


def new_worker_id() -> str:
    """A worker id unique across machines and restarts: hostname-pid-random."""
    suffix = f"-{os.getpid()}-{secrets.token_hex(3)}"
    return socket.gethostname()[: WORKER_ID_MAX - len(suffix)] + suffix


def backend_kind(backend: BaseTaskBackend) -> str:
    """'database', 'rq' or 'immediate': which loop runs this backend's tasks."""
    path = f"{type(backend).__module__}.{type(backend).__name__}"
    if path.startswith("django_tasks_db."):
        return "database"
    if path.startswith("django_tasks_rq."):
        return "rq"
    if path.startswith("django_tasks.backends.immediate."):
        return "immediate"
    raise CommandError(f"the task backend {path} has no worker loop in Tenfold")


def beat(worker_id: str, heartbeat: dict[str, Any]) -> list[str]:
    """One scheduler tick and heartbeat; database errors are logged and the next beat retries."""
    try:
        # Drop a connection the database closed while we slept, as Django does between requests.
        close_old_connections()
        won = scheduler.tick(worker_id)
        if heartbeat.get("backend") == "database":
            requeue_orphaned_tasks()
        now = timezone.now()
        touched = WorkerHeartbeat.objects.filter(worker_id=worker_id).update(last_seen_at=now)
        if not touched:
            # Pruned while the database was unreachable for long, or removed by hand: announce again.
            WorkerHeartbeat.objects.update_or_create(worker_id=worker_id,
                                                     defaults={**heartbeat, "last_seen_at": now})
    except DatabaseError:
        logger.warning("worker %s: database unavailable, retrying at the next tick", worker_id, exc_info=True)
        _discard_connection()
        return []
    except Exception:  # the scheduler thread must outlive any one bad schedule
        logger.exception("worker %s: scheduler tick failed, retrying at the next tick", worker_id)
        return []
    if won:
        logger.info("worker %s enqueued: %s", worker_id, ", ".join(won))
    return won


def requeue_orphaned_tasks(now: Any = None) -> list[str]:
    """Put back in the queue the tasks of the database backend left "running" by a worker that died (killed,
    its machine lost): running for longer than the heartbeat's staleness by a worker with no fresh
    heartbeat. Tasks are safe to run twice (docs/development.md), so running one again is the recovery.
    Returns the ids requeued."""
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.TENFOLD_WORKER_STALE_SECONDS)
    alive = set(WorkerHeartbeat.objects.filter(last_seen_at__gte=stale_before).values_list("worker_id", flat=True))
    requeued: list[str] = []
    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=stale_before)
    for result in running.only("id", "worker_ids", "started_at"):
        owner = result.worker_ids[-1] if result.worker_ids else ""
        if owner in alive:
            continue
        # Conditional on the row being as read, so a worker that does come back keeps its task.
        if DBTaskResult.objects.filter(pk=result.pk, status=TaskResultStatus.RUNNING,
                                       started_at=result.started_at).update(
                                           status=TaskResultStatus.READY, started_at=None):
            requeued.append(str(result.pk))
    if requeued:
        logger.warning("requeued %d task(s) left running by a worker that stopped: %s", len(requeued),
                       ", ".join(requeued))
    return requeued


def _discard_connection() -> None:
    try:
        connection.close()
    except DatabaseError:
        logger.debug("closing a broken database connection failed", exc_info=True)


class SchedulerLoop:
    """The daemon thread that ticks the scheduler and refreshes the heartbeat."""

    def __init__(self, worker_id: str, heartbeat: dict[str, Any], interval: float) -> None:
        self.worker_id = worker_id
        self.heartbeat = heartbeat
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tenfold-scheduler", daemon=True)

    def start(self) -> None:
        """Start ticking (the first tick is immediate)."""
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to stop and wait for the tick in progress, if any."""
        self._stop.set()
        self._thread.join(timeout=self.interval + 30)

    def _run(self) -> None:
        try:
            while True:
                beat(self.worker_id, self.heartbeat)
                if self._stop.wait(self.interval):
                    return
        finally:
            # This thread's connections are its own; nobody else will close them.
            connections.close_all()


STOP_SIGNALS = [signal.SIGINT, signal.SIGTERM] + ([signal.SIGQUIT] if hasattr(signal, "SIGQUIT") else [])


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


class Command(BaseCommand):
    help = "Run background tasks and the scheduler (Ctrl-C or SIGTERM stops it cleanly)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--once", action="store_true",
                            help="tick the scheduler once, run the pending tasks, then exit")

    def handle(self, *args: Any, once: bool = False, **options: Any) -> None:
        verbosity = int(options.get("verbosity", 1))
        backend = task_backends["default"]
        kind = backend_kind(backend)
        worker_id = new_worker_id()
        heartbeat = {"hostname": socket.gethostname()[:200], "pid": os.getpid(), "backend": kind}
        # Until the task loop installs its own handlers, SIGTERM must still unwind through `finally`;
        # the caller's handlers come back at the end (the task loops replace them).
        saved = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
        signal.signal(signal.SIGTERM, _stop_on_sigterm)
        now = timezone.now()
        WorkerHeartbeat.objects.create(worker_id=worker_id, started_at=now, last_seen_at=now, **heartbeat)
        loop: SchedulerLoop | None = None
        self.stdout.write(f"worker {worker_id} started ({kind} backend)")
        try:
            scheduler.sync_builtin()
            if once:
                won = beat(worker_id, heartbeat)
                self.stdout.write(f"worker {worker_id} enqueued: {', '.join(won) or 'nothing due'}")
                self.run_tasks(backend, kind, worker_id, batch=True, verbosity=verbosity)
                return
            loop = SchedulerLoop(worker_id, heartbeat, float(settings.TENFOLD_SCHEDULER_TICK_SECONDS))
            loop.start()
            self.run_tasks(backend, kind, worker_id, batch=False, verbosity=verbosity)
        except KeyboardInterrupt:
            self.stdout.write(f"worker {worker_id} interrupted")
        finally:
            if loop is not None:
                loop.stop()
            self.forget(worker_id)
            for sig, handler in saved.items():
                signal.signal(sig, handler)

    def run_tasks(self, backend: BaseTaskBackend, kind: str, worker_id: str, *, batch: bool,
                  verbosity: int = 1) -> None:
        """Run the backend's worker loop in this thread; with `batch`, stop when no task is left."""
        if kind == "database":
            delay = RESTART_DELAY_FIRST
            while True:
                try:
                    call_command("db_worker", queue_name="*", interval=1, batch=batch, reload=False,
                                 startup_delay=not batch, worker_id=worker_id, backend_name=backend.alias,
                                 verbosity=verbosity)
                    return  # stopped by a signal, or (batch) nothing left to run
                except DatabaseError:
                    if batch:
                        raise
                    # The database went away (restarted, failed over): wait and start the loop again
                    # rather than exit and leave the work to a supervisor's restart limits.
                    logger.warning("worker %s: database unavailable, task loop restarting in %.0f s", worker_id,
                                   delay, exc_info=True)
                    _discard_connection()
                    # The loop's own signal handlers went with it: a stop signal must end the wait.
                    signal.signal(signal.SIGTERM, _stop_on_sigterm)
                    signal.signal(signal.SIGINT, signal.default_int_handler)
                    time.sleep(delay)
                    delay = min(delay * 2, RESTART_DELAY_MAX)
        elif kind == "rq":
            run_rq_worker(backend, worker_id, burst=batch, logging_level="DEBUG" if verbosity > 1 else "INFO")
        # The immediate backend ran each task when it was enqueued: nothing is left to run.

    def forget(self, worker_id: str) -> None:
        """Remove this worker's heartbeat, so /healthz stops counting it at once."""
        try:
            close_old_connections()
            WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()
        except DatabaseError:
            logger.warning("worker %s: could not remove its heartbeat; it expires on its own", worker_id,
                           exc_info=True)
        self.stdout.write(f"worker {worker_id} stopped")


def run_rq_worker(backend: BaseTaskBackend, worker_id: str, *, burst: bool,
                  logging_level: str = "INFO") -> None:
    """Run an RQ worker on the backend's queues in this process."""
    from django_rq.queues import get_queues
    from django_rq.workers import get_exception_handlers
    from django_tasks_rq import Job
    from rq import SimpleWorker

    class TenfoldRQWorker(SimpleWorker):
        """Runs jobs in this process: forking beside the scheduler thread could copy a held lock into
        the child; Django's connections are checked around each job as around a request."""

        def execute_job(self, job: Any, queue: Any) -> None:
            close_old_connections()
            try:
                super().execute_job(job, queue)
            finally:
                close_old_connections()

    queue_names = sorted(getattr(backend, "queues", None) or ["default"])
    queues = get_queues(*queue_names, job_class=Job)
    rq_worker = TenfoldRQWorker(queues, connection=queues[0].connection, job_class=Job,
                                queue_class=type(queues[0]), name=worker_id,
                                exception_handlers=get_exception_handlers() or None)
    # The RQ scheduler moves tasks enqueued with run_after onto their queue when due.
    rq_worker.work(burst=burst, with_scheduler=True, logging_level=logging_level)
