"""`tenfold manage demo_logins`: print the demo accounts and how to log in."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tenfold.demo import data, seed


class Command(BaseCommand):
    help = "Print each demo login, its password and how to get its current MFA code."

    def handle(self, *args: Any, **options: Any) -> None:
        rows = seed.demo_logins()
        if not rows:
            self.stdout.write("No demo accounts in this database.")
            return
        width = max(len(r["email"]) for r in rows)
        self.stdout.write(f"Demo logins (password: {data.DEMO_PASSWORD}):")
        for row in rows:
            where = f"  [{row['client']}]" if row["client"] else ""
            self.stdout.write(f"  {row['email']:<{width}}  {row['role']}{where}")
        self.stdout.write("Current MFA code of an account: tenfold demo-code EMAIL")
