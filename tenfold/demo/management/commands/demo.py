"""`tenfold demo`: create the demo MSP (deterministic with --seed)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenfold.demo import data, seed


class Command(BaseCommand):
    help = "Create a realistic demo MSP: staff of every role (MFA enrolled), clients, sites, contacts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026, help="Random seed (same seed, same data).")
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when users already exist.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not seed.is_empty():
            if options["if_empty"]:
                self.stdout.write("The database already has users: demo data not added.")
                return
            raise CommandError("The database already has users; the demo seeds only an empty deployment "
                               "(use a fresh TENFOLD_DATA_DIR).")
        logins = seed.seed_demo(options["seed"])
        self.stdout.write(self.style.SUCCESS(f"Demo MSP created: {len(logins)} demo logins "
                                             f"(password {data.DEMO_PASSWORD})."))
