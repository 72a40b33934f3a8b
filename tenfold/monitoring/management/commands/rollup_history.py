"""`tenfold manage rollup_history [--day YYYY-MM-DD ...] [--prune]`: roll days up into the daily tables now,
and optionally run the retention.

The worker rolls today and yesterday up every hour (`monitoring.rollup`) and prunes daily
(`monitoring.retention`); this runs them once, e.g. to roll up an older day after a long outage.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenfold.monitoring.history import prune_raw, rollup_day, rollup_recent


class Command(BaseCommand):
    help = "Roll raw metrics and check results up into the daily tables (today and yesterday by default)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--day", action="append", default=[], help="A UTC day (YYYY-MM-DD); repeatable.")
        parser.add_argument("--prune", action="store_true", help="Then delete raw rows past the retention.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            days = [date.fromisoformat(d) for d in options["day"]]
        except ValueError as exc:
            raise CommandError(f"--day must be YYYY-MM-DD: {exc}") from exc
        reports = [rollup_day(d) for d in days] if days else rollup_recent()
        out: dict[str, Any] = {"rolled_up": [{"day": r.day.isoformat(), "skipped": r.skipped,
                                              "metric_rows": r.metric_rows, "check_rows": r.check_rows}
                                             for r in reports]}
        if options["prune"]:
            pruned = prune_raw()
            out["pruned"] = {"samples": pruned.samples, "results": pruned.results,
                             "days": [d.isoformat() for d in pruned.days],
                             "waiting": [d.isoformat() for d in pruned.waiting]}
        self.stdout.write(json.dumps(out, sort_keys=True))
