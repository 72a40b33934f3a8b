"""Changing a scheduled run, through the service, the API (PATCH) and the edit page: the same checks as a new
one (nothing changed on bad input, the message beside its field), the next run worked out again, the change
audited, and another client's scheduled run (or device) out of reach as a missing one."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.forms.models import model_to_dict
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from tenfold.accounts.testing import bearer, make_api_token, make_staff
from tenfold.agents.models import Job
from tenfold.automation import services
from tenfold.automation.models import ScheduledRun
from tenfold.automation.tests.factories import Key, make_script, managed_device, register, sign
from tenfold.clients.models import Client
from tenfold.core.errors import NotFound, ValidationError
from tenfold.core.models import AuditEntry
from tenfold.core.roles import Role

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")  # the organization's default time zone
CRON_MESSAGE = "Enter a cron expression of five fields, e.g. '0 6 * * 1' for Mondays at 06:00."


def _next_daily(hour: int, minute: int, now: datetime) -> datetime:
    """The next hour:minute in Paris after `now`, in UTC (worked out by hand, not by the code under test)."""
    local = now.astimezone(PARIS)
    day = local.date() if (local.hour, local.minute) < (hour, minute) else local.date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS).astimezone(UTC)


def _next_monthly(day_of_month: int, hour: int, minute: int, now: datetime) -> datetime:
    local = now.astimezone(PARIS)
    this_month = datetime(local.year, local.month, day_of_month, hour, minute, tzinfo=PARIS)
    if this_month > local:
        return this_month.astimezone(UTC)
    following = date(local.year + (local.month == 12), local.month % 12 + 1, day_of_month)
    return datetime(following.year, following.month, following.day, hour, minute, tzinfo=PARIS).astimezone(UTC)


def _row(scheduled: ScheduledRun) -> dict[str, Any]:
    return model_to_dict(ScheduledRun.objects.get(pk=scheduled.pk))


@pytest.fixture
def admin() -> Any:
    return make_staff(Role.ADMIN)


@pytest.fixture
def fournil() -> Client:
    return Client.objects.create(name="Fournil", status="active")


@pytest.fixture
def weekly(admin: Any, fournil: Client) -> ScheduledRun:
    """Client Fournil's weekly inventory, Mondays at 03:00, on one server."""
    device = managed_device(fournil, "SRV-1")
    return services.scheduled_run_create(actor=admin, data={
        "name": "Monday inventory", "action": "collect_inventory_now", "device_ids": [device.pk],
        "schedule_kind": "weekly", "time": "03:00", "weekday": 0})


# --- The service ------------------------------------------------------------------------------------------


def test_a_weekly_run_made_daily_gets_its_next_run_again_and_is_audited(admin: Any, weekly: ScheduledRun) -> None:
    # given a weekly run due next Monday at 03:00
    before_next = weekly.next_run_at
    assert before_next is not None
    # when it is changed to every day at 02:30
    changed = services.scheduled_run_update(actor=admin, scheduled=weekly, data={
        "name": "Nightly inventory", "schedule_kind": "daily", "time": "02:30"})
    now = timezone.now()
    # then its cron, its next run (the next 02:30 in Paris) and its name are the new ones
    row = ScheduledRun.objects.get(pk=weekly.pk)
    assert (row.name, row.schedule_kind, row.cron, row.time_zone) == (
        "Nightly inventory", "daily", "30 2 * * *", "Europe/Paris")
    assert row.next_run_at == changed.next_run_at == _next_daily(2, 30, now)
    # and what and where it runs are kept
    assert (row.action, row.device_ids, row.parameters, row.enabled) == (
        "collect_inventory_now", weekly.device_ids, {}, True)
    entry = AuditEntry.objects.get(action="scheduled_run.updated")
    assert entry.changes == {
        "name": ["Monday inventory", "Nightly inventory"], "schedule_kind": ["weekly", "daily"],
        "cron": ["0 3 * * 1", "30 2 * * *"],
        "next_run_at": [before_next.isoformat(), _next_daily(2, 30, now).isoformat()]}


def test_a_partial_change_keeps_the_rest_of_the_schedule(admin: Any, weekly: ScheduledRun) -> None:
    # when only the time of a weekly run is given
    services.scheduled_run_update(actor=admin, scheduled=weekly, data={"time": "05:15"})
    # then its day stays Monday
    assert ScheduledRun.objects.get(pk=weekly.pk).cron == "15 5 * * 1"
    # and a new kind of schedule needs its own fields: a monthly run without its day is refused
    with pytest.raises(ValidationError) as refused:
        services.scheduled_run_update(actor=admin, scheduled=weekly, data={"schedule_kind": "monthly",
                                                                           "time": "04:00"})
    assert (refused.value.field, str(refused.value.message)) == (
        "day_of_month", "Choose a day of the month between 1 and 28.")


def test_a_bad_cron_expression_is_refused_and_nothing_changes(admin: Any, weekly: ScheduledRun) -> None:
    before = _row(weekly)
    # when the run is given a cron expression of four fields
    with pytest.raises(ValidationError) as refused:
        services.scheduled_run_update(actor=admin, scheduled=weekly, data={
            "name": "Renamed", "schedule_kind": "cron", "cron": "0 6 * *"})
    # then the message names the field, and neither the run nor the audit log changed
    assert (refused.value.field, str(refused.value.message)) == ("cron", CRON_MESSAGE)
    assert _row(weekly) == before
    assert not AuditEntry.objects.filter(action="scheduled_run.updated").exists()


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"name": " "}, "name", "Name the scheduled run (at most 200 characters)."),
    ({"schedule_kind": "daily", "time": "25:00"}, "time", "Give the time as HH:MM."),
    ({"schedule_kind": "weekly", "time": "03:00", "weekday": 7}, "weekday", "Choose a day of the week."),
    ({"schedule_kind": "yearly"}, "schedule_kind", "Choose once, daily, weekly, monthly or cron."),
    ({"schedule_kind": "once", "run_at": datetime(2020, 1, 1, tzinfo=UTC)}, "run_at",
     "Choose a date and time in the future."),
    ({"action": "restart_service", "parameters": {"service": "two words"}}, "service",
     "Name the service: 1 to 128 letters, digits or @ . _ : - (no spaces)."),
    ({}, None, "Give at least one field to change."),
])
def test_bad_changes_are_refused_as_on_creation(admin: Any, weekly: ScheduledRun, data: dict[str, Any],
                                                field: str | None, message: str) -> None:
    before = _row(weekly)
    with pytest.raises(ValidationError) as refused:
        services.scheduled_run_update(actor=admin, scheduled=weekly, data=data)
    assert (refused.value.field, str(refused.value.message)) == (field, message)
    assert _row(weekly) == before


def test_a_one_off_moved_later_is_due_at_its_new_time(admin: Any, weekly: ScheduledRun) -> None:
    at = (timezone.now() + timedelta(days=3)).replace(second=0, microsecond=0)
    services.scheduled_run_update(actor=admin, scheduled=weekly, data={"schedule_kind": "once", "run_at": at})
    row = ScheduledRun.objects.get(pk=weekly.pk)
    assert (row.schedule_kind, row.run_at, row.cron, row.next_run_at) == ("once", at, "", at)


def test_a_script_run_changes_its_parameters_and_target(admin: Any, fournil: Client) -> None:
    key = Key()
    register(admin, key, admin)
    script = make_script(admin, parameters=[{"name": "days", "label": "Days", "type": "number"}])
    sign(script.versions.get(), key, admin)
    first, second = managed_device(fournil, "SRV-1"), managed_device(fournil, "SRV-2")
    scheduled = services.scheduled_run_create(actor=admin, data={
        "name": "Disk clean-up", "script_id": script.pk, "parameters": {"days": 7}, "device_ids": [first.pk],
        "schedule_kind": "monthly", "time": "04:00", "day_of_month": 1})
    services.scheduled_run_update(actor=admin, scheduled=scheduled, data={
        "parameters": {"days": 30}, "client_id": fournil.pk, "day_of_month": 15})
    now = timezone.now()
    row = ScheduledRun.objects.get(pk=scheduled.pk)
    assert (row.version_id, row.parameters, row.device_ids, row.target_client_id, row.client_id, row.cron) == (
        script.versions.get().pk, {"days": 30}, [], fournil.pk, fournil.pk, "0 4 15 * *")
    assert row.next_run_at == _next_monthly(15, 4, 0, now)
    # and when it is due, both of Fournil's servers get the job, with the new value
    assert services.run_due_schedules(row.next_run_at) == 1
    assert sorted(Job.objects.values_list("device_id", "payload__parameters")) == [
        (first.pk, {"days": 30}), (second.pk, {"days": 30})]


def test_another_clients_device_as_the_new_target_is_a_404(admin: Any, weekly: ScheduledRun) -> None:
    other = managed_device(Client.objects.create(name="Garage Petit", status="active"), "PC-OTHER")
    technician = make_staff(Role.TECHNICIAN, clients=[Client.objects.get(name="Fournil")], restricted=True)
    before = _row(weekly)
    with pytest.raises(NotFound):
        services.scheduled_run_update(actor=technician, scheduled=weekly, data={"device_ids": [other.pk]})
    assert _row(weekly) == before


# --- The API ----------------------------------------------------------------------------------------------


def _patch(token: str, scheduled_id: int, body: dict[str, Any]) -> Any:
    return HttpClient().patch(f"/api/v1/scheduled-runs/{scheduled_id}", data=json.dumps(body),
                              content_type="application/json", **bearer(token))


def test_api_patch_changes_the_schedule_and_answers_the_next_run(admin: Any, weekly: ScheduledRun) -> None:
    token = make_api_token(admin)
    response = _patch(token, weekly.pk, {"schedule_kind": "daily", "time": "02:30"})
    now = timezone.now()
    assert response.status_code == 200
    body = response.json()
    assert (body["schedule_kind"], body["cron"], body["name"]) == ("daily", "30 2 * * *", "Monday inventory")
    assert datetime.fromisoformat(body["next_run_at"]) == _next_daily(2, 30, now)
    assert ScheduledRun.objects.get(pk=weekly.pk).next_run_at == _next_daily(2, 30, now)


def test_api_patch_refuses_a_bad_cron_expression_and_changes_nothing(admin: Any, weekly: ScheduledRun) -> None:
    before = _row(weekly)
    response = _patch(make_api_token(admin), weekly.pk, {"schedule_kind": "cron", "cron": "61 * * * *"})
    assert (response.status_code, response.json()["errors"]) == (422, {"cron": [CRON_MESSAGE]})
    assert _row(weekly) == before


def test_api_patch_with_enabled_alone_still_pauses(admin: Any, weekly: ScheduledRun) -> None:
    response = _patch(make_api_token(admin), weekly.pk, {"enabled": False})
    assert (response.status_code, response.json()["enabled"]) == (200, False)
    row = ScheduledRun.objects.get(pk=weekly.pk)
    assert (row.enabled, row.cron, row.next_run_at) == (False, "0 3 * * 1", weekly.next_run_at)


def test_api_patch_of_another_clients_scheduled_run_is_a_404_and_changes_nothing(weekly: ScheduledRun) -> None:
    # given a technician who sees only another client
    other = Client.objects.create(name="Garage Petit", status="active")
    technician = make_staff(Role.TECHNICIAN, clients=[other], restricted=True)
    before = _row(weekly)
    # when they send Fournil's scheduled run's id (forged), then it is not found, as a missing one
    forged = _patch(make_api_token(technician), weekly.pk, {"schedule_kind": "cron", "cron": "* * * * *"})
    missing = _patch(make_api_token(technician), weekly.pk + 1000, {"schedule_kind": "cron", "cron": "* * * * *"})
    assert (forged.status_code, forged.json()) == (missing.status_code, missing.json())
    assert forged.status_code == 404
    assert _row(weekly) == before
    assert not AuditEntry.objects.filter(action="scheduled_run.updated").exists()


# --- The edit page ------------------------------------------------------------------------------------------


def _http(user: Any) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def _form(weekly: ScheduledRun, **fields: Any) -> dict[str, Any]:
    return {"schedule_name": "Monday inventory", "target": "devices", "devices": [str(weekly.device_ids[0])],
            "when": "weekly", "time": "03:00", "weekday": "0", **fields}


def test_the_edit_page_shows_the_run_and_saves_a_change(admin: Any, weekly: ScheduledRun) -> None:
    http = _http(admin)
    url = reverse("automation:scheduled_edit", args=[weekly.pk])
    detail = http.get(reverse("automation:scheduled_detail", args=[weekly.pk])).content.decode()
    assert f'href="{url}"' in detail
    page = http.get(url).content.decode()
    assert 'value="Monday inventory"' in page and 'value="03:00"' in page
    assert '<option value="weekly" selected>' in page and '<option value="now"' not in page
    # when it is made monthly, on the 15th at 04:00
    saved = http.post(url, _form(weekly, when="monthly", time="04:00", day_of_month="15", weekday=""))
    now = timezone.now()
    # then it is saved, its next run worked out again, and the page says when
    assert (saved.status_code, saved["Location"]) == (302, reverse("automation:scheduled_detail", args=[weekly.pk]))
    row = ScheduledRun.objects.get(pk=weekly.pk)
    assert (row.cron, row.next_run_at) == ("0 4 15 * *", _next_monthly(15, 4, 0, now))
    shown = http.get(saved["Location"]).content.decode()
    assert f"Saved: the next run is due {row.next_run_at:%Y-%m-%d %H:%M} UTC." in shown


def test_the_edit_page_shows_a_bad_cron_beside_its_field_and_changes_nothing(admin: Any,
                                                                            weekly: ScheduledRun) -> None:
    before = _row(weekly)
    refused = _http(admin).post(reverse("automation:scheduled_edit", args=[weekly.pk]),
                                _form(weekly, when="cron", cron="every monday"))
    assert refused.status_code == 200
    assert refused.context["form"].errors == {"cron": [CRON_MESSAGE]}
    assert _row(weekly) == before


def test_the_edit_page_needs_a_schedule_and_a_name(admin: Any, weekly: ScheduledRun) -> None:
    before = _row(weekly)
    refused = _http(admin).post(reverse("automation:scheduled_edit", args=[weekly.pk]),
                                _form(weekly, when="now", schedule_name=""))
    assert refused.status_code == 200
    assert refused.context["form"].errors == {
        "when": ["Select a valid choice. now is not one of the available choices."],
        "schedule_name": ["This field is required."]}
    assert _row(weekly) == before


def test_the_edit_page_of_another_clients_run_or_device_is_a_404(weekly: ScheduledRun) -> None:
    other = Client.objects.create(name="Garage Petit", status="active")
    other_device = managed_device(other, "PC-OTHER")
    technician = make_staff(Role.TECHNICIAN, clients=[other], restricted=True)
    fournil_tech = make_staff(Role.TECHNICIAN, clients=[Client.objects.get(name="Fournil")], restricted=True)
    before = _row(weekly)
    url = reverse("automation:scheduled_edit", args=[weekly.pk])
    # another client's technician: the page and the post are not found
    assert _http(technician).get(url).status_code == 404
    assert _http(technician).post(url, _form(weekly, when="daily")).status_code == 404
    # Fournil's technician naming Garage Petit's device as the target: not found either
    assert _http(fournil_tech).post(url, _form(weekly, devices=[str(other_device.pk)])).status_code == 404
    assert _row(weekly) == before
    assert not AuditEntry.objects.filter(action="scheduled_run.updated").exists()
