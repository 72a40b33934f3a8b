"""Print the current TOTP code of a demo account (demo accounts only; nothing bypasses MFA)."""

from __future__ import annotations

import time
from typing import Any

from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenfold.accounts.models import User


class Command(BaseCommand):
    help = "Print the current two-factor code of a demo account (created by `tenfold demo`)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")

    def handle(self, *args: Any, **options: Any) -> None:
        email = options["email"].strip().lower()
        user = User.objects.filter(email__iexact=email).first()
        if user is None or not user.is_demo:
            raise CommandError(f"{email} is not a demo account: codes are only printed for demo accounts "
                               "created by `tenfold demo`. Use your authenticator app.", returncode=2)
        authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
        if authenticator is None:
            raise CommandError(f"{email} has no authenticator app set up.", returncode=2)
        secret = decrypt(authenticator.data["secret"])
        now = time.time()
        counter = int(now) // mfa_settings.TOTP_PERIOD
        remaining = mfa_settings.TOTP_PERIOD - int(now) % mfa_settings.TOTP_PERIOD
        self.stdout.write(format_hotp_value(hotp_value(secret, counter)))
        self.stderr.write(f"(valid for {remaining} more seconds)")
