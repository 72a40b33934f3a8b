"""Teams (create, rename, delete refused while they have members unless the owner takes them out, members shown
only as far as the viewer sees people data) and training targets per plan role, through services, pages and the
API, with bad input refused and nothing changed."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from tenfold.accounts.testing import bearer, make_api_token, make_staff
from tenfold.core.errors import Conflict, PermissionDenied, ValidationError
from tenfold.core.models import AuditEntry
from tenfold.people import services
from tenfold.people.models import Employee, RoleTarget, Team, Training
from tenfold.people.tests.factories import make_employee

pytestmark = pytest.mark.django_db


def _http(user) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def _api(user) -> dict[str, str]:
    return bearer(make_api_token(user))


# --- Teams: services ----------------------------------------------------------------------------------------------


def test_team_rename_refuses_a_taken_or_blank_name_and_changes_nothing() -> None:
    # given two teams
    owner = make_staff("owner", mfa=False)
    desk = services.team_create(actor=owner, name="Service desk")
    services.team_create(actor=owner, name="Sales")
    audits = AuditEntry.objects.count()
    # when renaming one to the other's name, or to nothing
    with pytest.raises(ValidationError) as taken:
        services.team_rename(actor=owner, team=Team.objects.get(pk=desk.pk), name="Sales")
    with pytest.raises(ValidationError) as blank:
        services.team_rename(actor=owner, team=Team.objects.get(pk=desk.pk), name="   ")
    # then both are refused on the name field and nothing changed
    assert taken.value.errors == {"name": ["A team with this name already exists."]}
    assert list(blank.value.errors) == ["name"]
    assert sorted(Team.objects.values_list("name", flat=True)) == ["Sales", "Service desk"]
    assert AuditEntry.objects.count() == audits
    # and a real rename is audited with the old and new name
    services.team_rename(actor=owner, team=Team.objects.get(pk=desk.pk), name="Helpdesk")
    entry = AuditEntry.objects.filter(action="team.renamed").get()
    assert entry.changes == {"name": ["Service desk", "Helpdesk"]}


def test_a_team_with_members_is_not_deleted_unless_the_owner_takes_them_out() -> None:
    # given a team of two employees
    owner = make_staff("owner", mfa=False)
    desk = services.team_create(actor=owner, name="Service desk")
    karim = make_employee(first_name="Karim", team=desk)
    lucie = make_employee(first_name="Lucie", team=desk)
    audits = AuditEntry.objects.count()
    # when the owner deletes it without choosing to take them out
    with pytest.raises(Conflict) as refused:
        services.team_delete(actor=owner, team=desk)
    # then it is refused with a message saying why and what to do; nothing changed
    assert refused.value.code == "team_has_members"
    assert str(refused.value.message) == ("2 employees belong to “Service desk”: move them to another team first, "
                                          "or choose to take them out of the team.")
    assert Team.objects.filter(pk=desk.pk).exists()
    assert set(Employee.objects.filter(team=desk).values_list("pk", flat=True)) == {karim.pk, lucie.pk}
    assert AuditEntry.objects.count() == audits
    # when the owner chooses to take them out
    moved = services.team_delete(actor=owner, team=desk, unassign_members=True)
    # then the team is gone, both stay employees without a team, and the audit names them
    assert moved == 2
    assert not Team.objects.filter(pk=desk.pk).exists()
    assert list(Employee.objects.filter(pk__in=[karim.pk, lucie.pk]).values_list("team_id", flat=True)) == [None,
                                                                                                          None]
    entry = AuditEntry.objects.filter(action="team.deleted").get()
    assert entry.changes == {"name": "Service desk", "members_unassigned": sorted([karim.pk, lucie.pk])}


def test_only_the_owner_manages_teams() -> None:
    owner = make_staff("owner", mfa=False)
    desk = services.team_create(actor=owner, name="Service desk")
    for role in ("admin", "finance", "service_manager", "technician"):
        user = make_staff(role, mfa=False)
        with pytest.raises(PermissionDenied):
            services.team_create(actor=user, name="Mine")
        with pytest.raises(PermissionDenied):
            services.team_rename(actor=user, team=desk, name="Mine")
        with pytest.raises(PermissionDenied):
            services.team_delete(actor=user, team=desk)
    assert list(Team.objects.values_list("name", flat=True)) == ["Service desk"]


# --- Teams: pages -------------------------------------------------------------------------------------------------


def test_team_pages_create_rename_and_delete_with_members_offered_to_take_out() -> None:
    owner = make_staff("owner")
    http = _http(owner)
    # when the owner adds a team, then adds it again
    response = http.post("/people/teams/", {"name": "Projects"})
    team = Team.objects.get(name="Projects")
    assert response.status_code == 302 and response["Location"] == f"/people/teams/{team.pk}/"
    page = http.post("/people/teams/", {"name": "Projects"}).content.decode()
    # then the second is refused beside the field
    assert "A team with this name already exists." in page
    assert Team.objects.count() == 1
    # when renaming it
    assert http.post(f"/people/teams/{team.pk}/edit/", {"name": "Projects and moves"}).status_code == 302
    team.refresh_from_db()
    assert team.name == "Projects and moves"
    # and a member joins: the delete page says so and refuses without the choice
    member = make_employee(first_name="Nadia", team=team)
    page = http.get(f"/people/teams/{team.pk}/delete/").content.decode()
    assert "1 employee belongs to this team." in page and 'name="unassign_members"' in page
    response = http.post(f"/people/teams/{team.pk}/delete/", {})
    assert response.status_code == 409
    assert ("1 employee belongs to “Projects and moves”: move them to another team first, or choose to take them "
            "out of the team.") in response.content.decode()
    assert Team.objects.filter(pk=team.pk).exists()
    # and with the choice the team goes and Nadia stays, without a team
    response = http.post(f"/people/teams/{team.pk}/delete/", {"unassign_members": "on"})
    assert response.status_code == 302 and response["Location"] == "/people/teams/"
    member.refresh_from_db()
    assert member.team_id is None and not Team.objects.exists()


def test_team_members_and_counts_show_only_the_people_data_one_sees() -> None:
    # given a team of a manager, their report and a colleague outside their line
    desk = Team.objects.create(name="Service desk")
    manager = make_employee("service_manager", first_name="Manon", last_name="Lead", team=desk)
    make_employee(first_name="Theo", last_name="Report", manager=manager, team=desk)
    make_employee(first_name="Paul", last_name="Outside", team=desk)
    url = f"/people/teams/{desk.pk}/"
    # then the manager sees themselves and their report, not the colleague
    page = _http(manager.user).get(url).content.decode()
    assert "Manon Lead" in page and "Theo Report" in page and "Paul Outside" not in page
    body = HttpClient().get(f"/api/v1/people/teams/{desk.pk}", **_api(manager.user)).json()
    assert body["member_count"] == 2
    assert [m["name"] for m in body["members"]] == ["Manon Lead", "Theo Report"]
    # and the list counts the same way: 2 for the manager, 3 for finance (sees everyone)
    listed = HttpClient().get("/api/v1/people/teams", **_api(manager.user)).json()
    assert [(t["name"], t["member_count"]) for t in listed["items"]] == [("Service desk", 2)]
    listed = HttpClient().get("/api/v1/people/teams", **_api(make_staff("finance"))).json()
    assert [(t["name"], t["member_count"]) for t in listed["items"]] == [("Service desk", 3)]
    # and a portal user has no team page at all
    from tenfold.accounts.testing import make_portal_user
    from tenfold.clients.models import Client

    portal = make_portal_user(Client.objects.create(name="Acme", status="active"))
    assert _http(portal).get(url).status_code == 403


# --- Teams: API ---------------------------------------------------------------------------------------------------


def test_team_api_create_rename_delete_and_bad_input() -> None:
    owner = make_staff("owner")
    headers = _api(owner)
    http = HttpClient()
    # create
    response = http.post("/api/v1/people/teams", {"name": "Sales"}, content_type="application/json", **headers)
    assert response.status_code == 201
    team = Team.objects.get()
    assert response.json() == {"id": team.pk, "name": "Sales", "member_count": 0}
    # bad input: duplicate, empty, unknown field — each a 422, nothing created
    for body in ({"name": "Sales"}, {"name": ""}, {"name": "Other", "colour": "red"}):
        response = http.post("/api/v1/people/teams", body, content_type="application/json", **headers)
        assert response.status_code == 422, body
    assert http.post("/api/v1/people/teams", {"name": "Sales"}, content_type="application/json",
                     **headers).json()["errors"] == {"name": ["A team with this name already exists."]}
    assert Team.objects.count() == 1
    # rename
    response = http.patch(f"/api/v1/people/teams/{team.pk}", {"name": "Sales and renewals"},
                          content_type="application/json", **headers)
    assert response.status_code == 200 and response.json()["name"] == "Sales and renewals"
    # delete with a member: 409 with a stable code; with unassign_members=true: 204
    seller = make_employee("account_manager", team=team)
    response = http.delete(f"/api/v1/people/teams/{team.pk}", **headers)
    assert response.status_code == 409
    assert response.json()["code"] == "team_has_members"
    assert Team.objects.filter(pk=team.pk).exists()
    response = http.delete(f"/api/v1/people/teams/{team.pk}?unassign_members=true", **headers)
    assert response.status_code == 204
    seller.refresh_from_db()
    assert seller.team_id is None and not Team.objects.exists()
    # a missing team is a 404
    assert http.delete(f"/api/v1/people/teams/{team.pk}", **headers).status_code == 404


def test_administrators_and_finance_read_teams_but_cannot_change_them() -> None:
    team = Team.objects.create(name="Service desk")
    for role in ("admin", "finance"):
        headers = _api(make_staff(role))
        assert HttpClient().get(f"/api/v1/people/teams/{team.pk}", **headers).status_code == 200
        response = HttpClient().patch(f"/api/v1/people/teams/{team.pk}", {"name": "Mine"},
                                      content_type="application/json", **headers)
        assert response.status_code == 403
        assert HttpClient().delete(f"/api/v1/people/teams/{team.pk}", **headers).status_code == 403
    team.refresh_from_db()
    assert team.name == "Service desk"


# --- Training targets ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("hours", "certifications", "field", "message"), [
    ("-1", 0, "training_hours_per_year", "Hours cannot be negative."),
    ("2000.01", 0, "training_hours_per_year", "At most 2000 hours a year."),
    ("10.125", 0, "training_hours_per_year", "Hours have at most two decimals."),
    ("ten", 0, "training_hours_per_year", "Enter a number."),
    ("", 0, "training_hours_per_year", "Enter a number."),
    ("10", 51, "certifications_required", "Between 0 and 50 certifications."),
    ("10", -1, "certifications_required", "Between 0 and 50 certifications."),
    ("10", "two", "certifications_required", "Enter a whole number."),
])
def test_bad_targets_are_refused_with_a_field_message_and_change_nothing(hours, certifications, field,
                                                                         message) -> None:
    owner = make_staff("owner", mfa=False)
    services.role_target_set(actor=owner, plan_role="technician", hours=Decimal("40"), certifications=1)
    audits = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.role_target_set(actor=owner, plan_role="technician", hours=hours, certifications=certifications)
    assert refused.value.errors == {field: [message]}
    assert list(RoleTarget.objects.values_list("plan_role", "training_hours_per_year", "certifications_required")) \
        == [("technician", Decimal("40.00"), 1)]
    assert AuditEntry.objects.count() == audits


def test_a_target_of_an_unknown_role_is_refused() -> None:
    owner = make_staff("owner", mfa=False)
    with pytest.raises(ValidationError) as refused:
        services.role_target_set(actor=owner, plan_role="astronaut", hours=Decimal("4"))
    assert refused.value.errors == {"plan_role": ["Choose a plan role."]}
    assert not RoleTarget.objects.exists()


def test_target_pages_list_every_role_and_the_owner_edits_one() -> None:
    owner = make_staff("owner")
    services.role_target_set(actor=owner, plan_role="salesperson", hours=Decimal("16"), certifications=0)
    http = _http(owner)
    # when the owner sets the technicians' target, first with a negative number of hours
    page = http.post("/people/targets/technician/edit/", {"training_hours_per_year": "-4",
                                                          "certifications_required": "2"}).content.decode()
    assert "Ensure this value is greater than or equal to 0." in page
    assert not RoleTarget.objects.filter(plan_role="technician").exists()
    response = http.post("/people/targets/technician/edit/", {"training_hours_per_year": "40",
                                                              "certifications_required": "2"})
    assert response.status_code == 302 and response["Location"] == "/people/targets/"
    # then a technician sees every role's target, and may not edit
    tech = make_employee()
    page = _http(tech.user).get("/people/targets/").content.decode()
    assert 'data-testid="target-technician"><td>Technician</td>\n  <td>40.00</td>\n  <td>2</td>' in page
    assert 'data-testid="target-salesperson"><td>Salesperson</td>\n  <td>16.00</td>\n  <td>0</td>' in page
    assert 'data-testid="target-other"><td>Other</td>' in page and "No target" in page
    assert "edit-target-technician" not in page
    assert _http(tech.user).post("/people/targets/technician/edit/", {
        "training_hours_per_year": "1", "certifications_required": "0"}).status_code == 403
    assert RoleTarget.objects.get(plan_role="technician").training_hours_per_year == Decimal("40.00")
    # and an unknown role is a 404
    assert http.get("/people/targets/astronaut/edit/").status_code == 404


def test_target_api_lists_every_role_sets_one_and_refuses_bad_input() -> None:
    owner = make_staff("owner")
    headers = _api(owner)
    http = HttpClient()
    response = http.put("/api/v1/people/training-targets/technician",
                        {"training_hours_per_year": "40", "certifications_required": 2},
                        content_type="application/json", **headers)
    assert response.status_code == 200
    assert response.json() == {"plan_role": "technician", "training_hours_per_year": "40.00",
                               "certifications_required": 2}
    for body in ({"training_hours_per_year": "-1"}, {"training_hours_per_year": "2001"},
                 {"training_hours_per_year": "4", "certifications_required": 51}, {"certifications_required": 1},
                 {"training_hours_per_year": "4", "extra": True}):
        answer = http.put("/api/v1/people/training-targets/technician", body, content_type="application/json",
                          **headers)
        assert answer.status_code == 422, body
    assert http.put("/api/v1/people/training-targets/astronaut", {"training_hours_per_year": "4"},
                    content_type="application/json", **headers).status_code == 404
    listed = http.get("/api/v1/people/training-targets", **_api(make_employee().user)).json()
    assert listed == [
        {"plan_role": "technician", "training_hours_per_year": "40.00", "certifications_required": 2},
        {"plan_role": "salesperson", "training_hours_per_year": None, "certifications_required": None},
        {"plan_role": "service_manager", "training_hours_per_year": None, "certifications_required": None},
        {"plan_role": "other", "training_hours_per_year": None, "certifications_required": None}]


def test_employee_page_counts_valid_certifications_against_the_role_target() -> None:
    # given a technicians' target of two valid certifications, and a technician with one valid and one expired
    owner = make_staff("owner", mfa=False)
    services.role_target_set(actor=owner, plan_role="technician", hours=Decimal("40"), certifications=2)
    tech = make_employee()
    today = timezone.localdate()
    Training.objects.create(employee=tech, kind="certification", title="Endpoint Administrator", hours=Decimal("20"),
                            date=today - timedelta(days=400), expires_on=today + timedelta(days=300))
    Training.objects.create(employee=tech, kind="certification", title="Old firewall", hours=Decimal("10"),
                            date=date(2019, 5, 1), expires_on=date(2022, 5, 1))
    # then their page says 1 valid certification of 2 and flags it
    page = _http(tech.user).get(f"/people/employees/{tech.pk}/").content.decode()
    assert "1 valid certification — target 2 to hold" in page
    assert 'data-testid="certifications-missing"' in page
