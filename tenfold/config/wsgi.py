"""WSGI entry point for granian: `granian --interface wsgi tenfold.config.wsgi:application`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tenfold.config.settings")
application = get_wsgi_application()
