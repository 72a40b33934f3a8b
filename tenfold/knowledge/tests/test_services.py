"""Runbooks, versions, checklists, check links and client documentation: the services and selectors."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tenfold.accounts.testing import make_staff
from tenfold.clients.models import Client, Site
from tenfold.core.errors import NotFound, PermissionDenied, ValidationError
from tenfold.core.models import AuditEntry
from tenfold.knowledge import selectors, services
from tenfold.knowledge.checklists import StepSpec, runbook_steps
from tenfold.knowledge.markdown import MAX_MARKDOWN_LENGTH, render_markdown
from tenfold.knowledge.models import (
    CheckRunbookLink,
    ClientDoc,
    NetworkItem,
    Runbook,
    RunbookCategory,
    RunbookStep,
    RunbookVersion,
)
from tenfold.knowledge.services import StepInput
from tenfold.monitoring.models import CheckDefinition, Policy

pytestmark = pytest.mark.django_db

XSS_ATTEMPTS = [
    '<script>alert("x")</script>',
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">a</a>',
    "<style>body{display:none}</style>",
    '<iframe src="https://evil.example"></iframe>',
    "![x](javascript:alert(1))",
    '<svg onload="alert(1)"></svg>',
    "[x](JaVaScRiPt:alert(1))",
    '<div onclick="alert(1)">hi</div>',
]


class _Elements(HTMLParser):
    """The elements and attributes a browser would build from the HTML (escaped text builds none)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend((name, value or "") for name, value in attrs)


@pytest.mark.parametrize("attempt", XSS_ATTEMPTS)
def test_markdown_renders_stored_xss_attempts_inert(attempt: str) -> None:
    # when hostile Markdown is rendered
    parser = _Elements()
    parser.feed(str(render_markdown(f"Intro\n\n{attempt}\n\nend")))
    # then no element can run script: no such tag, no event handler, no javascript: URL
    assert not {"script", "style", "iframe", "svg", "object", "embed"} & set(parser.tags)
    assert [name for name, _v in parser.attrs if name.startswith("on")] == []
    assert [v for name, v in parser.attrs if name in ("href", "src") and "javascript" in v.lower()] == []
    assert [name for name, _v in parser.attrs if name == "style"] == []


def test_markdown_keeps_ordinary_formatting_exactly() -> None:
    html = str(render_markdown("# Title\n\n**bold** [docs](https://example.com/a)\n\n| a | b |\n|---|---|\n| 1 | 2 |"))
    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html
    assert '<a href="https://example.com/a" rel="noopener noreferrer nofollow">docs</a>' in html
    assert "<td>1</td>" in html


def _runbook(actor, **data) -> Runbook:
    base = {"title": "Printer deployment", "kind": "task", "body_markdown": "Line one\nLine two"}
    base.update(data)
    return services.runbook_create(actor=actor, data=base,
                                   steps=[StepInput("Check the IP", True), StepInput("Print a test page", False)])


def test_create_writes_version_one_steps_and_audit() -> None:
    # given a service manager
    actor = make_staff("service_manager")
    # when they create a runbook with two steps (and a blank one that is dropped)
    runbook = services.runbook_create(actor=actor, data={"title": "Printer deployment", "kind": "task",
                                                         "body_markdown": "Body"},
                                      steps=[StepInput("Check the IP", True), StepInput("  ", True),
                                             StepInput("Print a test page", False)])
    # then version 1 holds the text and the steps, and the checklist is exact
    runbook.refresh_from_db()
    assert (runbook.current_version, runbook.slug) == (1, "printer-deployment")
    version = RunbookVersion.objects.get(runbook=runbook)
    assert (version.number, version.body_markdown, version.author_id) == (1, "Body", actor.pk)
    assert version.steps == [{"position": 1, "text": "Check the IP", "required": True},
                             {"position": 2, "text": "Print a test page", "required": False}]
    assert runbook_steps(runbook.pk) == [StepSpec(1, "Check the IP", True), StepSpec(2, "Print a test page", False)]
    assert AuditEntry.objects.filter(action="runbook.created", object_id=str(runbook.pk)).count() == 1


def test_each_save_is_a_new_version_and_diff_shows_the_change() -> None:
    actor = make_staff("technician")
    runbook = _runbook(actor)
    # when the body and the steps change
    services.runbook_update(actor=actor, runbook=runbook, data={"body_markdown": "Line one\nLine 2"},
                            steps=[StepInput("Check the IP", True)], summary="Shorter")
    # then version 2 exists and the diff names exactly the changed lines
    runbook.refresh_from_db()
    assert runbook.current_version == 2
    old, new = selectors.access_version(runbook, 1), selectors.access_version(runbook, 2)
    changed = [(line.kind, line.text) for line in selectors.version_diff(old, new) if line.kind in ("add", "del")]
    assert changed == [("del", "-Line two"), ("add", "+Line 2"), ("del", "-[optional] Print a test page")]
    assert new.summary == "Shorter"
    assert runbook_steps(runbook.pk) == [StepSpec(1, "Check the IP", True)]


def test_saving_without_change_writes_no_version() -> None:
    actor = make_staff("technician")
    runbook = _runbook(actor)
    services.runbook_update(actor=actor, runbook=runbook, data={"body_markdown": "Line one\nLine two"},
                            steps=[StepInput("Check the IP", True), StepInput("Print a test page", False)])
    assert RunbookVersion.objects.filter(runbook=runbook).count() == 1


def test_oversize_markdown_is_refused_and_nothing_written() -> None:
    actor = make_staff("technician")
    with pytest.raises(ValidationError) as exc:
        _runbook(actor, body_markdown="x" * (MAX_MARKDOWN_LENGTH + 1))
    assert "body_markdown" in exc.value.errors
    assert Runbook.objects.count() == 5  # the shipped runbooks only
    assert not Runbook.objects.filter(title="Printer deployment").exists()


def test_too_many_steps_are_refused() -> None:
    actor = make_staff("technician")
    with pytest.raises(ValidationError):
        services.runbook_create(actor=actor, data={"title": "Big", "kind": "task", "body_markdown": ""},
                                steps=[StepInput(f"step {n}", True) for n in range(101)])
    assert not Runbook.objects.filter(title="Big").exists()


def test_forged_client_id_is_404_and_nothing_created() -> None:
    # given a technician restricted to client B
    client_a = Client.objects.create(name="A")
    client_b = Client.objects.create(name="B")
    actor = make_staff("technician", clients=[client_b], restricted=True)
    audit_before = AuditEntry.objects.count()
    # when they name client A
    with pytest.raises(NotFound):
        _runbook(actor, client_id=client_a.pk)
    with pytest.raises(NotFound):
        _runbook(actor, client_id=999_999)
    # then nothing was written
    assert not Runbook.objects.filter(title="Printer deployment").exists()
    assert AuditEntry.objects.count() == audit_before


def test_restricted_technician_cannot_write_msp_runbooks_but_can_for_their_client() -> None:
    client_b = Client.objects.create(name="B")
    actor = make_staff("technician", clients=[client_b], restricted=True)
    with pytest.raises(ValidationError):
        _runbook(actor)
    runbook = _runbook(actor, client_id=client_b.pk)
    assert runbook.client_id == client_b.pk


def test_visibility_msp_runbooks_for_all_staff_client_runbooks_by_scope() -> None:
    client_a = Client.objects.create(name="A")
    client_b = Client.objects.create(name="B")
    admin = make_staff("admin")
    msp = _runbook(admin, title="MSP wide")
    own_a = _runbook(admin, title="Only A", client_id=client_a.pk)
    tech_b = make_staff("technician", clients=[client_b], restricted=True)
    visible = set(selectors.runbooks_visible(tech_b).values_list("pk", flat=True))
    assert msp.pk in visible and own_a.pk not in visible
    with pytest.raises(NotFound):
        selectors.access_runbook(tech_b, own_a.pk)
    with pytest.raises(PermissionDenied):
        selectors.runbooks_visible(make_staff("finance"))


def test_account_manager_reads_but_cannot_write() -> None:
    runbook = _runbook(make_staff("admin"))
    manager = make_staff("account_manager")
    assert selectors.access_runbook(manager, runbook.pk) == runbook
    with pytest.raises(PermissionDenied):
        services.runbook_update(actor=manager, runbook=runbook, data={"title": "x"}, steps=[])
    runbook.refresh_from_db()
    assert (runbook.title, runbook.current_version) == ("Printer deployment", 1)


def test_archive_hides_from_check_link_and_technician_cannot_archive() -> None:
    admin = make_staff("admin")
    runbook = _runbook(admin)
    policy = Policy.objects.create(name="Global", scope="global")
    check = CheckDefinition.objects.create(policy=policy, check_type="cpu", name="CPU high")
    services.check_link_set(actor=admin, runbook=runbook, check_type="cpu")
    assert selectors.runbook_for_check(check.pk) == runbook
    with pytest.raises(PermissionDenied):
        services.runbook_set_archived(actor=make_staff("technician"), runbook=runbook, archived=True)
    services.runbook_set_archived(actor=admin, runbook=runbook, archived=True)
    assert selectors.runbook_for_check(check.pk) is None


def test_runbook_for_check_prefers_the_check_over_its_type() -> None:
    admin = make_staff("admin")
    by_type, by_check = _runbook(admin, title="Disk in general"), _runbook(admin, title="Disk on the SQL server")
    policy = Policy.objects.create(name="Global", scope="global")
    sql_disk = CheckDefinition.objects.create(policy=policy, check_type="disk_free", name="SQL disk")
    other_disk = CheckDefinition.objects.create(policy=policy, check_type="disk_free", name="Other disk")
    ping = CheckDefinition.objects.create(policy=policy, check_type="ping", name="Ping")
    services.check_link_set(actor=admin, runbook=by_type, check_type="disk_free")
    services.check_link_set(actor=admin, runbook=by_check, check_definition_id=sql_disk.pk)
    assert selectors.runbook_for_check(sql_disk.pk) == by_check
    assert selectors.runbook_for_check(other_disk.pk) == by_type
    assert selectors.runbook_for_check(ping.pk) is None
    assert selectors.runbook_for_check(987_654) is None
    # relinking a type replaces the link
    services.check_link_set(actor=admin, runbook=by_check, check_type="disk_free")
    assert CheckRunbookLink.objects.filter(check_type="disk_free").count() == 1
    assert selectors.runbook_for_check(other_disk.pk) == by_check


def test_client_runbook_cannot_be_linked_to_a_check_type() -> None:
    admin = make_staff("admin")
    runbook = _runbook(admin, client_id=Client.objects.create(name="A").pk)
    with pytest.raises(ValidationError):
        services.check_link_set(actor=admin, runbook=runbook, check_type="cpu")
    assert not CheckRunbookLink.objects.exists()


def test_shipped_runbooks_and_categories_exist() -> None:
    titles = set(Runbook.objects.filter(client=None).values_list("title", flat=True))
    assert titles == {"How we work", "Workstation setup", "Security baseline", "Application deployment",
                      "New user onboarding"}
    assert Runbook.objects.get(slug="how-we-work").kind == "how_we_work"
    assert RunbookStep.objects.filter(runbook__slug="workstation-setup").count() == 9
    assert RunbookCategory.objects.count() == 5


def test_client_doc_network_validation_and_review() -> None:
    client = Client.objects.create(name="A")
    other_site = Site.objects.create(client=Client.objects.create(name="B"), name="Elsewhere")
    actor = make_staff("technician")
    item = services.network_item_save(actor=actor, client=client, data={
        "kind": "subnet", "name": "LAN", "address": "10.0.10.7/24", "vlan_id": None, "provider": "", "notes": "",
        "site_id": None})
    assert item.address == "10.0.10.0/24"
    for bad in ({"kind": "subnet", "name": "x", "address": "10.0.0.300/24"},
                {"kind": "vlan", "name": "x", "vlan_id": None},
                {"kind": "vlan", "name": "x", "vlan_id": 5000},
                {"kind": "firewall", "name": "x", "address": "not-an-ip"},
                {"kind": "subnet", "name": "x", "address": "10.1.0.0/16", "site_id": other_site.pk}):
        with pytest.raises(ValidationError):
            services.network_item_save(actor=actor, client=client, data=bad)
    assert NetworkItem.objects.filter(client=client).count() == 1
    doc = services.client_doc_mark_reviewed(actor=actor, client=client)
    assert (doc.reviewed_by_id, doc.last_reviewed_at is not None) == (actor.pk, True)
    assert ClientDoc.objects.get(client=client).reviewed_by_id == actor.pk
