"""Benchmark-only WSGI module: the real Tenfold application plus the baseline endpoints.

Granian is pointed here (`python -m bench.serve`) with the same options as `tenfold serve`, so the
baselines run on the very same stack:

- `GET /__bench/trivial`: a constant answer from this wrapper, before Django (granian's ceiling);
- `GET /__bench/trivial-django`: a constant answer from a Django view, through the full middleware
  stack of the product (the "trivial Django view" of the architecture's calibration figures);
- `POST /__bench/naive-checkin`: the naive ingestion path (bench/naive.py): the same check-in bodies,
  written one row per message with a commit per row.

Every other path goes to the product unchanged. Nothing here is part of the product.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tenfold.config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402

# The bench routes first, then the product's own urlconf (bench/urls.py includes it).
settings.ROOT_URLCONF = "bench.urls"

from tenfold.config.wsgi import application as tenfold_application  # noqa: E402

TRIVIAL_PATH = "/__bench/trivial"
BODY = b"ok"
HEADERS = [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))]


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ.get("PATH_INFO") == TRIVIAL_PATH:
        start_response("200 OK", HEADERS)
        return [BODY]
    return tenfold_application(environ, start_response)
