"""Tasks that the worker tests schedule or enqueue in a separate `tenfold` process.

They write what they saw to a file the test names, since the test cannot look inside that process.
"""

from __future__ import annotations

import json
from pathlib import Path

from django_tasks import task

from tenfold.core.models import WorkerHeartbeat


@task()
def record_heartbeats(path: str) -> int:
    """Write the heartbeats present while this task runs, as JSON."""
    rows = [
        {"worker_id": hb.worker_id, "hostname": hb.hostname, "pid": hb.pid, "backend": hb.backend,
         "fresh": hb.last_seen_at >= hb.started_at}
        for hb in WorkerHeartbeat.objects.order_by("worker_id")
    ]
    Path(path).write_text(json.dumps(rows))
    return len(rows)


@task()
def append_line(path: str, line: str) -> None:
    """Append one line to a file (several workers may run these at once)."""
    with Path(path).open("a") as handle:
        handle.write(line + "\n")


@task()
def write_text(path: str, text: str) -> None:
    """Write a text file."""
    Path(path).write_text(text)
