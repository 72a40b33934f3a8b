"""Requests Django refuses before any view (here an invalid Host header) get an answer in the shape the
caller reads: JSON on the API and agent paths, a plain page elsewhere."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

pytestmark = pytest.mark.django_db

BAD_HOST = "+E7v l"  # not a domain name (RFC 1034/1035): Django raises DisallowedHost


@pytest.mark.parametrize("path", ["/api/v1/clients", "/agent/v1/checkin"])
def test_an_invalid_host_on_the_api_or_agent_paths_is_a_json_400(path: str) -> None:
    response = HttpClient().post(path, data="{}", content_type="application/json", HTTP_HOST=BAD_HOST)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": "bad_request", "message": "The server could not understand this request."}


def test_an_invalid_host_on_a_page_is_a_plain_400_page() -> None:
    response = HttpClient().get("/clients/", HTTP_HOST=BAD_HOST)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "<h1>Bad request</h1>" in response.content.decode()
