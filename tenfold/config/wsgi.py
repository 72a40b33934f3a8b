"""WSGI entry point for granian: `granian --interface wsgi tenfold.config.wsgi:application`.

The common agent check-in is answered ahead of Django's request handling (tenfold.agents.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tenfold.config.settings")
django_application = get_wsgi_application()

from tenfold.agents.wsgi import CheckinFastLane  # noqa: E402 - needs the settings configured above

application = CheckinFastLane(django_application)
