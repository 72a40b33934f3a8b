"""Runbook categories: list, create, rename, delete when no runbook is filed under them (a clear refusal
otherwise); managed by who may delete runbooks, read by every staff user, out of the portal."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from tenfold.accounts.testing import make_portal_user, make_staff
from tenfold.clients.models import Client
from tenfold.core.errors import Conflict, PermissionDenied, ValidationError
from tenfold.core.models import AuditEntry
from tenfold.knowledge import services
from tenfold.knowledge.models import Runbook, RunbookCategory
from tenfold.knowledge.services import StepInput

pytestmark = pytest.mark.django_db


def _login(user: Any) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def _runbook(admin: Any, title: str, category: RunbookCategory, client: Client | None = None) -> Runbook:
    return services.runbook_create(actor=admin, data={"title": title, "kind": "task", "category_id": category.pk,
                                                      "client_id": client.pk if client else None},
                                   steps=[StepInput("Step")])


def test_manager_creates_renames_and_deletes_an_unused_category_through_the_pages() -> None:
    # given a service manager
    manager = make_staff("service_manager")
    http = _login(manager)

    # when they create a category
    response = http.post(reverse("knowledge:category_create"), {"name": "Printers", "description": "Printing",
                                                                "position": "4"})

    # then it exists with a slug from its name, audited
    assert response.status_code == 302
    category = RunbookCategory.objects.get(name="Printers")
    assert (category.slug, category.description, category.position) == ("printers", "Printing", 4)
    assert AuditEntry.objects.filter(action="runbook_category.created", object_id=str(category.pk),
                                     actor_id=manager.pk).count() == 1
    runbook = _runbook(manager, "Printer deployment", category)

    # when they rename it
    response = http.post(reverse("knowledge:category_edit", args=[category.pk]),
                         {"name": "Printing and scanning", "description": "Printing", "position": "4"})

    # then the name changes, the slug and the runbook filed under it stay, and the change is audited
    assert response.status_code == 302
    category.refresh_from_db()
    assert (category.name, category.slug) == ("Printing and scanning", "printers")
    assert Runbook.objects.get(pk=runbook.pk).category_id == category.pk
    assert AuditEntry.objects.get(action="runbook_category.updated", object_id=str(category.pk)).changes == {
        "name": ["Printers", "Printing and scanning"]}
    page = http.get(reverse("knowledge:category_list")).content.decode()
    assert "Printing and scanning" in page

    # when the runbook moves out of the category (a change of category alone is a new version: regression,
    # it used to be dropped as "nothing changed") and the category is deleted
    moved = services.runbook_update(actor=manager, runbook=runbook, data={"category_id": None},
                                    steps=[StepInput("Step")])
    assert (Runbook.objects.get(pk=runbook.pk).category_id, moved.current_version) == (None, 2)
    response = http.post(reverse("knowledge:category_delete", args=[category.pk]))

    # then it is gone, audited
    assert response.status_code == 302
    assert not RunbookCategory.objects.filter(pk=category.pk).exists()
    assert AuditEntry.objects.filter(action="runbook_category.deleted", object_id=str(category.pk)).count() == 1


def test_a_category_still_filing_runbooks_is_not_deleted_and_says_why() -> None:
    # given a category holding one live and one archived runbook
    admin = make_staff("admin")
    category = RunbookCategory.objects.create(name="Backups", slug="backups-test")
    _runbook(admin, "Restore a file", category)
    archived = _runbook(admin, "Old tape rotation", category)
    services.runbook_set_archived(actor=admin, runbook=archived, archived=True)
    audit_before = AuditEntry.objects.count()
    http = _login(admin)

    # when the administrator deletes it
    response = http.post(reverse("knowledge:category_delete", args=[category.pk]), follow=True)

    # then it is refused with the count (archived runbooks count too), and nothing changed
    assert "2 runbooks are filed under “Backups”: move them to another category first." in response.content.decode()
    assert RunbookCategory.objects.filter(pk=category.pk).exists()
    assert Runbook.objects.filter(category=category).count() == 2
    assert AuditEntry.objects.count() == audit_before
    with pytest.raises(Conflict):
        services.category_delete(actor=admin, category=category)


def test_a_duplicate_or_empty_name_is_refused_beside_the_field() -> None:
    # given an existing category
    admin = make_staff("admin")
    RunbookCategory.objects.create(name="Security", slug="security-test")
    other = RunbookCategory.objects.create(name="Network", slug="network-test")
    http = _login(admin)
    count = RunbookCategory.objects.count()

    # when a new one takes the same name (another case), and the other is renamed to it
    created = http.post(reverse("knowledge:category_create"), {"name": "SECURITY", "position": "0"})
    renamed = http.post(reverse("knowledge:category_edit", args=[other.pk]), {"name": "security", "position": "0"})
    blank = http.post(reverse("knowledge:category_create"), {"name": "   ", "position": "0"})

    # then each form comes back with the error beside the name; nothing changed
    message = '<small class="error" role="alert">A category with this name already exists.</small>'
    assert message in created.content.decode() and message in renamed.content.decode()
    assert '<small class="error" role="alert">This field is required.</small>' in blank.content.decode()
    assert RunbookCategory.objects.count() == count
    other.refresh_from_db()
    assert other.name == "Network"
    with pytest.raises(ValidationError) as refused:
        services.category_create(actor=admin, data={"name": "Security", "description": "", "position": 0})
    assert refused.value.errors == {"name": ["A category with this name already exists."]}


def test_roles_technicians_read_only_portal_users_refused_missing_is_404() -> None:
    # given a category filing a runbook of client A, and one of client B
    client_a = Client.objects.create(name="Client A", status="active")
    client_b = Client.objects.create(name="Client B", status="active")
    admin = make_staff("admin")
    category = RunbookCategory.objects.create(name="Workstations", slug="workstations-test")
    _runbook(admin, "A's laptops", category, client_a)
    _runbook(admin, "B's laptops", category, client_b)
    tech = make_staff("technician", clients=[client_a], restricted=True)
    portal = make_portal_user(client_a, "portal_admin")
    audit_before = AuditEntry.objects.count()

    # when the restricted technician reads the list, then tries to manage
    http = _login(tech)
    page = http.get(reverse("knowledge:category_list"))
    create = http.post(reverse("knowledge:category_create"), {"name": "Mine", "position": "0"})
    rename = http.post(reverse("knowledge:category_edit", args=[category.pk]), {"name": "Mine", "position": "0"})
    delete = http.post(reverse("knowledge:category_delete", args=[category.pk]))

    # then the list counts only the runbook they see, and every change is forbidden
    row = page.content.decode().split(f'data-testid="category-{category.pk}"')[1].split("</tr>")[0]
    assert f'?category={category.pk}">1</a>' in row
    assert "new-category" not in page.content.decode()
    assert (create.status_code, rename.status_code, delete.status_code) == (403, 403, 403)

    # and the portal gets nothing, a missing category is a 404
    portal_http = _login(portal)
    assert portal_http.get(reverse("knowledge:category_list")).status_code == 403
    assert portal_http.post(reverse("knowledge:category_delete", args=[category.pk])).status_code == 403
    assert _login(admin).post(reverse("knowledge:category_delete", args=[category.pk + 1000])).status_code == 404
    assert (RunbookCategory.objects.get(pk=category.pk).name, AuditEntry.objects.count()) == (
        "Workstations", audit_before)
    with pytest.raises(PermissionDenied):
        services.category_create(actor=tech, data={"name": "Mine", "description": "", "position": 0})
