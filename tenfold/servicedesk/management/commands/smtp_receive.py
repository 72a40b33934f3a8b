"""`tenfold manage smtp_receive`: an SMTP server receiving the support address's mail into the service desk."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand

from tenfold.servicedesk import mailconfig
from tenfold.servicedesk.mailbox import smtp_controller


class Command(BaseCommand):
    help = "Receive the support mailbox's mail over SMTP (behind the MSP's mail relay) and apply it to tickets."

    def add_arguments(self, parser: Any) -> None:
        host, port = mailconfig.smtp_receive_address()
        parser.add_argument("--host", default=host)
        parser.add_argument("--port", type=int, default=port)

    def handle(self, *args: Any, **options: Any) -> None:
        controller = smtp_controller(options["host"], options["port"])
        controller.start()
        self.stdout.write(f"receiving mail for {', '.join(sorted(mailconfig.own_addresses()))} "
                          f"on {options['host']}:{options['port']}")
        self.stdout.flush()
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_a: stop.set())
        try:
            while not stop.wait(1):
                pass
        finally:
            controller.stop()
