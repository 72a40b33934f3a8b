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


@task()
def rollup_history() -> dict[str, Any]:
    """Roll today and yesterday (and a few un-rolled older days) up into the daily tables; hourly."""
    from tenfold.monitoring.history import rollup_recent

    reports = rollup_recent()
    return {"days": [r.day.isoformat() for r in reports if not r.skipped],
            "metric_rows": sum(r.metric_rows for r in reports), "check_rows": sum(r.check_rows for r in reports)}


@task()
def prune_raw_history() -> dict[str, Any]:
    """Delete raw samples and results past the retention that are rolled up and evaluated; daily."""
    from tenfold.monitoring.history import prune_raw

    report = prune_raw()
    return {"samples": report.samples, "results": report.results,
            "days": [d.isoformat() for d in report.days], "waiting": [d.isoformat() for d in report.waiting]}


@task()
def maintain_partitions() -> dict[str, Any]:
    """PostgreSQL: create the raw tables' partitions of yesterday, today and the days ahead (and their
    default partitions); hourly, so a missed run costs nothing. Nothing to do on SQLite."""
    from tenfold.monitoring.partitions import ensure_partitions

    return {"created": ensure_partitions()}
