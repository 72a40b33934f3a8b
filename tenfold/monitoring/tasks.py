"""Monitoring's background work: idempotent, safe to run twice."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from tenfold.monitoring.evaluation import detect_offline, evaluate_new_results

BATCHES_PER_RUN = 20
BATCH = 5000


@task()
def evaluate_monitoring() -> dict[str, Any]:
    """Evaluate new check results (in batches) and detect offline devices; runs every minute."""
    results = raised = resolved = 0
    for _ in range(BATCHES_PER_RUN):
        report = evaluate_new_results(limit=BATCH)
        results, raised, resolved = results + report.results, raised + len(report.raised), \
            resolved + len(report.resolved)
        if report.read < BATCH:
            break
    offline = detect_offline()
    return {"results": results, "raised": raised + len(offline.raised),
            "resolved": resolved + len(offline.resolved)}
