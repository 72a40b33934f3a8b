"""The API's page slicing: exact pages, and a page far past the last answered empty (the schema run found a
huge page number overflowing SQLite's OFFSET: a 500)."""

from __future__ import annotations

import pytest

from tenfold.clients.models import Client
from tenfold.core.api import paginate
from tenfold.core.errors import ValidationError

pytestmark = pytest.mark.django_db


def test_pages_slice_the_list_and_a_page_past_the_last_is_empty() -> None:
    for n in range(5):
        Client.objects.create(name=f"Client {n}", status="active")
    rows = Client.objects.order_by("name")

    second = paginate(rows, 2, 2)
    far = paginate(rows, 271838235735872640, 2)

    assert [c.name for c in second["items"]] == ["Client 2", "Client 3"]
    assert (second["count"], second["pages"], second["page"]) == (5, 3, 2)
    assert far["items"] == [] and (far["count"], far["pages"], far["page"]) == (5, 3, 271838235735872640)


def test_a_page_below_one_or_a_size_out_of_bounds_is_refused() -> None:
    with pytest.raises(ValidationError):
        paginate(Client.objects.all(), 0, 10)
    with pytest.raises(ValidationError):
        paginate(Client.objects.all(), 1, 501)
