"""Create the first owner of the MSP (interactively, or with --email and --password)."""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenfold.accounts.services import owner_bootstrap
from tenfold.core.errors import TenfoldError


class Command(BaseCommand):
    help = ("Create an owner account. Refuses when an owner already exists unless --force. "
            "The owner sets up two-factor authentication at first login.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", help="The owner's e-mail (the login).")
        parser.add_argument("--password", help="The password; prefer TENFOLD_ADMIN_PASSWORD or the prompt, "
                            "which keep it out of the shell history.")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--force", action="store_true", help="Create another owner even if one exists.")
        parser.add_argument("--no-input", "--noinput", action="store_false", dest="interactive",
                            help="Never prompt: fail when a value is missing.")

    def handle(self, *args: Any, **options: Any) -> None:
        email = options["email"]
        password = options["password"] or os.environ.get("TENFOLD_ADMIN_PASSWORD", "")
        interactive = options["interactive"] and (email is None or not password)
        if interactive:
            email = email or input("E-mail: ").strip()
            if not password:
                password = getpass.getpass("Password: ")
                if password != getpass.getpass("Password (again): "):
                    raise CommandError("The two passwords differ.")
        if not email or not password:
            raise CommandError("Give --email and --password (or TENFOLD_ADMIN_PASSWORD), "
                               "or run interactively.")
        try:
            user = owner_bootstrap(email=email, password=password, first_name=options["first_name"],
                                   last_name=options["last_name"], force=options["force"])
        except TenfoldError as exc:
            details = "; ".join(m for messages in exc.errors.values() for m in messages) or str(exc.message)
            raise CommandError(details) from None
        self.stdout.write(self.style.SUCCESS(f"Owner {user.email} created."))
        self.stdout.write("Two-factor authentication is mandatory for staff: at the first login, "
                          f"{user.email} will be asked to set up an authenticator app before anything else.")
