"""`tenfold agent-token`: create an enrollment token from the command line (a system action).

Prints only the token on stdout, so a script can capture it; the human line goes to stderr.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenfold.agents.services import DEFAULT_TOKEN_DAYS, enrollment_token_create_system
from tenfold.clients.models import Client, ClientStatus, Site
from tenfold.core.errors import TenfoldError


def find_client(name_or_id: str, *, or_first_active: bool = False) -> Client:
    """The client with this id or (case-insensitive) name; else the first active client by name when asked."""
    value = name_or_id.strip()
    client = None
    if value.isdigit():
        client = Client.objects.filter(pk=int(value)).first()
    if client is None and value:
        client = Client.objects.filter(name__iexact=value).first()
    if client is None and or_first_active:
        client = Client.objects.filter(status=ClientStatus.ACTIVE).order_by("name", "pk").first()
    if client is None:
        raise CommandError(f"no client named or numbered {value!r}"
                           + (" and no active client" if or_first_active else ""), returncode=2)
    return client


class Command(BaseCommand):
    help = ("Create an enrollment token for a client (optionally one site) and print it on stdout; "
            "the agent enrolls with `tenfold-agent enroll --server URL --token TOKEN`.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--client", required=True, metavar="NAME_OR_ID", help="the client, by name or id")
        parser.add_argument("--site", default=None, metavar="NAME", help="one of the client's sites, by name")
        parser.add_argument("--days", type=int, default=DEFAULT_TOKEN_DAYS,
                            help="days until the token expires (default: %(default)s)")
        parser.add_argument("--max-uses", type=int, default=None, metavar="N",
                            help="how many enrollments the token allows (default: unlimited until it expires)")
        parser.add_argument("--name", default="", help="the token's name (default: 'Command line')")
        parser.add_argument("--checkin-interval", type=int, default=None, metavar="SECONDS",
                            help="check-in interval of the agents enrolled with it (default: the server's)")
        parser.add_argument("--or-first-active", action="store_true",
                            help="when no such client exists, use the first active client by name")

    def handle(self, *args: Any, **options: Any) -> None:
        client = find_client(options["client"], or_first_active=options["or_first_active"])
        site = None
        if options["site"]:
            site = Site.objects.filter(client=client, name__iexact=options["site"].strip()).first()
            if site is None:
                raise CommandError(f"{client.name} has no site named {options['site']!r}", returncode=2)
        try:
            token, plain = enrollment_token_create_system(
                client=client, site=site, name=options["name"] or "Command line", expires_in_days=options["days"],
                max_uses=options["max_uses"], checkin_interval=options["checkin_interval"])
        except TenfoldError as exc:
            details = "; ".join(f"{field}: {'; '.join(messages)}" for field, messages in exc.errors.items())
            raise CommandError(details or str(exc.message), returncode=2) from None
        self.stdout.write(plain)
        where = f"{client.name}" + (f", site {site.name}" if site else "")
        uses = f"{token.max_uses} use(s)" if token.max_uses else "unlimited uses"
        self.stderr.write(f"Enrollment token tfe_{token.prefix}_… for {where} (client {client.pk}): expires "
                          f"{token.expires_at:%Y-%m-%d %H:%M} UTC, {uses}.")
