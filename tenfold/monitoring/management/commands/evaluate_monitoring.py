"""`tenfold manage evaluate_monitoring`: evaluate new check results and detect offline devices now.

The worker does the same every minute (the `monitoring.evaluate` schedule); this runs it once, e.g.
after a change, in a script, or in an end-to-end test.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from tenfold.monitoring.tasks import evaluate_monitoring


class Command(BaseCommand):
    help = "Evaluate new check results (open, de-duplicate and resolve alerts) and detect offline devices, once."

    def handle(self, *args: Any, **options: Any) -> None:
        report = evaluate_monitoring.call()
        self.stdout.write(json.dumps(report, sort_keys=True))
