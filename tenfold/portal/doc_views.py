"""The portal's documentation pages: what staff shared with the company (its environment overview, its own
runbooks marked shared), rendered from Markdown. Portal administrators read them; portal users may not
(roles.md: "R shared docs" for portal administrators only). Anything not shared, or another company's, is a
404; the rest of knowledge (MSP-wide runbooks, the vault) has no portal page at all."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tenfold.knowledge.markdown import render_markdown
from tenfold.knowledge.portal_scope import (
    access_portal_doc,
    access_portal_runbook,
    portal_shared_doc,
    portal_shared_runbooks,
)
from tenfold.portal.views import _portal_client


@login_required
@require_GET
def documentation(request: HttpRequest) -> HttpResponse:
    """What is shared with the company: the environment overview (if shared) and the shared runbooks."""
    client = _portal_client(request)
    return render(request, "portal/documentation.html", {
        "client": client, "doc": portal_shared_doc(request.user),
        "runbooks": portal_shared_runbooks(request.user)})


@login_required
@require_GET
def shared_overview(request: HttpRequest, doc_id: int) -> HttpResponse:
    """The company's environment overview, when it is shared."""
    doc = access_portal_doc(request.user, doc_id)
    return render(request, "portal/shared_doc.html", {
        "title": doc.client.name, "updated_at": doc.updated_at,
        "body_html": render_markdown(doc.overview_markdown)})


@login_required
@require_GET
def shared_runbook(request: HttpRequest, runbook_id: int) -> HttpResponse:
    """A runbook shared with the company: its text and its checklist."""
    runbook = access_portal_runbook(request.user, runbook_id)
    return render(request, "portal/shared_doc.html", {
        "title": runbook.title, "updated_at": runbook.updated_at,
        "body_html": render_markdown(runbook.body_markdown), "steps": runbook.steps.order_by("position")})
