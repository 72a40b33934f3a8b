"""Search: the database's full-text index (FTS5 on SQLite, tsvector + GIN on PostgreSQL), visibility, and
the providers other apps register."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.db import connection
from django.test import Client as HttpClient

from tenfold.accounts.testing import bearer, make_api_token, make_portal_user, make_staff
from tenfold.clients.models import Client
from tenfold.knowledge import selectors, services
from tenfold.knowledge.search import SearchHit, register_search_provider, unregister_search_provider
from tenfold.knowledge.services import StepInput

pytestmark = pytest.mark.django_db


def _runbook(actor, title, body, client=None):
    return services.runbook_create(actor=actor, data={"title": title, "kind": "task", "body_markdown": body,
                                                      "client_id": client.pk if client else None},
                                   steps=[StepInput("Verify the zyxquorum backup", True)])


def test_full_text_index_exists_for_this_database() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE name = 'knowledge_searchdocument_fts'")
            assert cursor.fetchone() == ("knowledge_searchdocument_fts",)
        else:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'knowledge_searchdoc_vector_gin'")
            assert "gin (search_vector)" in cursor.fetchone()[0]


def test_finds_by_words_in_body_steps_and_prefix_title_first() -> None:
    admin = make_staff("admin")
    in_title = _runbook(admin, "Palisade replacement", "Swap the appliance.")
    in_body = _runbook(admin, "Router swap", "Check the palisade rules after the swap.")
    _runbook(admin, "Unrelated", "Nothing here.")
    hits = selectors.search_knowledge(admin, "palisade")
    assert [h.title for h in hits] == [in_title.title, in_body.title]
    assert [h.title for h in selectors.search_knowledge(admin, "palis")][:2] == [in_title.title, in_body.title]
    assert {h.title for h in selectors.search_knowledge(admin, "zyxquorum")} == {
        "Palisade replacement", "Router swap", "Unrelated"}
    assert selectors.search_knowledge(admin, "palisade rules")[0].title == "Router swap"
    assert "palisade rules" in selectors.search_knowledge(admin, "rules")[0].snippet


def test_index_follows_edits_and_archive() -> None:
    admin = make_staff("admin")
    runbook = _runbook(admin, "Printer", "Old toner procedure")
    services.runbook_update(actor=admin, runbook=runbook, data={"body_markdown": "New cartridge procedure"},
                            steps=[])
    assert selectors.search_knowledge(admin, "toner") == []
    assert [h.title for h in selectors.search_knowledge(admin, "cartridge")] == ["Printer"]
    services.runbook_set_archived(actor=admin, runbook=runbook, archived=True)
    assert selectors.search_knowledge(admin, "cartridge") == []


def test_results_are_filtered_to_what_the_actor_sees() -> None:
    client_a, client_b = Client.objects.create(name="A"), Client.objects.create(name="B")
    admin = make_staff("admin")
    _runbook(admin, "Quokka procedure for A", "quokka", client_a)
    _runbook(admin, "Quokka procedure for all", "quokka")
    services.client_doc_update(actor=admin, client=client_a, overview_markdown="The quokka server room")
    tech_b = make_staff("technician", clients=[client_b], restricted=True)
    assert [h.title for h in selectors.search_knowledge(tech_b, "quokka")] == ["Quokka procedure for all"]
    assert {h.kind for h in selectors.search_knowledge(admin, "quokka")} == {"runbook", "client_doc"}
    assert selectors.search_knowledge(make_staff("finance"), "quokka") == []
    assert selectors.search_knowledge(make_portal_user(client_a, "portal_admin"), "quokka") == []


def test_operators_in_the_query_are_plain_words() -> None:
    admin = make_staff("admin")
    _runbook(admin, "Quotes", 'Say "hello" OR NOT')
    for query in ['"', "hello OR", "NEAR(", "*", "a:b & c | !d", "'); DROP TABLE x; --"]:
        selectors.search_knowledge(admin, query)  # no database error
    assert [h.title for h in selectors.search_knowledge(admin, '"hello"')] == ["Quotes"]


def test_registered_providers_are_searched_and_page_and_api_show_them() -> None:
    admin = make_staff("admin")
    when = datetime(2026, 1, 2, 3, 4, 5)

    def tickets(actor, query, limit):
        return [SearchHit("ticket", f"T-1 {query}", "/tickets/1/", "printer jam solved", when)]

    register_search_provider("test_tickets", tickets)
    try:
        http = HttpClient()
        http.force_login(admin)
        page = http.get("/search/", {"q": "jam"}).content.decode()
        assert "T-1 jam" in page and "printer jam solved" in page
        api = HttpClient().get("/api/v1/search", {"q": "jam"}, **bearer(make_api_token(admin))).json()
        assert [(h["kind"], h["title"], h["url"]) for h in api] == [("ticket", "T-1 jam", "/tickets/1/")]
    finally:
        unregister_search_provider("test_tickets")


def test_portal_users_cannot_search() -> None:
    user = make_portal_user(Client.objects.create(name="A"), "portal_admin")
    http = HttpClient()
    http.force_login(user)
    assert http.get("/search/", {"q": "x"}).status_code == 403
