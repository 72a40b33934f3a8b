"""`tenfold manage seal_audit`: link every settled audit entry into the hash chain now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tenfold.core import audit


class Command(BaseCommand):
    help = "Seal the settled audit entries into the hash chain now (the worker does it every minute)."

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        while True:
            sealed = audit.seal()
            total += sealed
            if not sealed:
                break
        self.stdout.write(f"sealed {total} audit entries")
