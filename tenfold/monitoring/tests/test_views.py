"""Monitoring screens: alert console, policy and check forms, windows, the device and client fragments."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from tenfold.accounts.testing import make_staff
from tenfold.core.models import AuditEntry
from tenfold.monitoring.models import Alert, CheckDefinition, MaintenanceWindow, Policy, PolicyScope
from tenfold.monitoring.tests.factories import make_check, make_client, make_device, make_policy

pytestmark = pytest.mark.django_db


def logged_in(role: str = "admin", **kwargs) -> tuple[HttpClient, object]:
    http = HttpClient()
    user = make_staff(role, **kwargs)
    http.force_login(user)
    return http, user


def _alerts() -> tuple:
    client = make_client("Boulangerie Martin")
    other = make_client("Garage Perrin")
    a = Alert.objects.create(client=client, device=make_device(client, name="SRV-AD-01"),
                             title="Disk full on SRV-AD-01", severity="critical")
    b = Alert.objects.create(client=other, device=make_device(other, name="PC-COMPTA-01"), title="CPU high on PC",
                             severity="warning", status="acknowledged")
    c = Alert.objects.create(client=client, device=make_device(client, name="PC-ACCUEIL-01"),
                             title="Offline PC-ACCUEIL-01", kind="offline", severity="info", status="resolved")
    return client, other, a, b, c


def test_alert_console_filters_searches_and_sorts(django_assert_max_num_queries) -> None:
    # given three alerts of two clients
    client, _other, *_ = _alerts()
    http, _user = logged_in("technician")
    # when filtering by severity, status, kind, client, and searching
    critical = http.get("/monitoring/alerts/?severity=critical").content.decode()
    acknowledged = http.get("/monitoring/alerts/?status=acknowledged").content.decode()
    offline = http.get("/monitoring/alerts/?kind=offline").content.decode()
    of_client = http.get(f"/monitoring/alerts/?client={client.pk}&sort=title").content.decode()
    searched = http.get("/monitoring/alerts/?q=compta").content.decode()
    # then each shows exactly the matching alerts
    assert "Disk full on SRV-AD-01" in critical and "CPU high" not in critical
    assert "CPU high on PC" in acknowledged and "Disk full" not in acknowledged
    assert "Offline PC-ACCUEIL-01" in offline and "Disk full" not in offline
    assert of_client.index("Disk full") < of_client.index("Offline PC-ACCUEIL-01") and "CPU high" not in of_client
    assert "CPU high on PC" in searched and "Disk full" not in searched
    with django_assert_max_num_queries(12):
        http.get("/monitoring/alerts/")


def test_alert_console_htmx_answers_only_the_table() -> None:
    _alerts()
    http, _user = logged_in()
    response = http.get("/monitoring/alerts/?severity=warning", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="list-results")
    body = response.content.decode()
    assert '<div id="list-results">' in body and "<html" not in body


def test_acknowledge_resolve_and_bulk_from_the_console() -> None:
    # given two open alerts
    client = make_client()
    first = Alert.objects.create(client=client, device=make_device(client), title="First")
    second = Alert.objects.create(client=client, device=make_device(client), title="Second")
    third = Alert.objects.create(client=client, device=make_device(client), title="Third")
    http, user = logged_in("technician")
    # when one is acknowledged on its page and then resolved, and two are acknowledged in bulk
    http.post(f"/monitoring/alerts/{first.pk}/acknowledge/")
    http.post(f"/monitoring/alerts/{first.pk}/resolve/")
    response = http.post("/monitoring/alerts/acknowledge/", {"alert": [second.pk, third.pk, "x"]})
    # then
    assert response.status_code == 302
    assert dict(Alert.objects.values_list("title", "status")) == {
        "First": "resolved", "Second": "acknowledged", "Third": "acknowledged"}
    assert Alert.objects.get(pk=second.pk).acknowledged_by == user


def test_alert_detail_shows_the_alert_and_a_conflict_is_a_message() -> None:
    client = make_client()
    alert = Alert.objects.create(client=client, device=make_device(client, name="SRV-X"), title="Down",
                                 status="resolved", message="No check-in since 09:00")
    http, _user = logged_in()
    page = http.get(f"/monitoring/alerts/{alert.pk}/").content.decode()
    response = http.post(f"/monitoring/alerts/{alert.pk}/resolve/", follow=True)
    assert "No check-in since 09:00" in page and 'data-testid="resolve"' not in page
    assert "This alert is already resolved." in response.content.decode()


def test_policy_create_form_shows_errors_beside_fields_and_writes_nothing() -> None:
    http, _user = logged_in("service_manager")
    response = http.post("/monitoring/policies/new/", {"name": "Servers", "scope": "client"})
    assert response.status_code == 200
    assert "Choose one of the clients you may see." in response.content.decode()
    assert not Policy.objects.filter(name="Servers").exists()


def test_policy_create_then_add_edit_and_remove_a_check() -> None:
    # given a service manager and a client
    client = make_client()
    http, _user = logged_in("service_manager")
    # when creating a client policy, adding a TCP check with a bad port, then a good one, editing, removing
    response = http.post("/monitoring/policies/new/", {"name": "Servers", "scope": "client", "client": client.pk,
                                                       "enabled": "on", "inventory_hours": "6", "antivirus": "true"})
    policy = Policy.objects.get(name="Servers")
    form = {"check_type": "tcp_port", "name": "RDP", "interval_s": "300", "severity": "critical",
            "failures_before_alert": "2", "enabled": "on", "p_host": "srv-ad-01", "p_port": "99999"}
    bad = http.post(f"/monitoring/policies/{policy.pk}/checks/new/", form).content.decode()
    http.post(f"/monitoring/policies/{policy.pk}/checks/new/", {**form, "p_port": "3389"})
    check = CheckDefinition.objects.get(policy=policy)
    http.post(f"/monitoring/checks/{check.pk}/edit/", {**form, "p_port": "3390", "name": "RDP alt"})
    check.refresh_from_db()
    edited = (check.name, check.params)
    http.post(f"/monitoring/checks/{check.pk}/delete/")
    # then
    assert response.status_code == 302
    assert (policy.scope, policy.client, policy.collectors) == ("client", client, {"inventory_hours": 6,
                                                                                   "antivirus": True})
    assert "Enter a value between 1 and 65535." in bad
    assert edited == ("RDP alt", {"host": "srv-ad-01", "port": 3390, "timeout_s": 5})
    assert not CheckDefinition.objects.filter(policy=policy).exists()
    assert list(AuditEntry.objects.filter(action__startswith="check.").order_by("pk")
                .values_list("action", flat=True)) == ["check.created", "check.updated", "check.deleted"]


def test_check_form_shows_the_parameters_of_the_chosen_type() -> None:
    policy = make_policy(PolicyScope.GLOBAL)
    http, _user = logged_in()
    page = http.get(f"/monitoring/policies/{policy.pk}/checks/new/?check_type=http",
                    HTTP_HX_REQUEST="true").content.decode()
    assert 'name="p_url"' in page and 'name="p_expect_status"' in page and 'name="p_mount"' not in page


def test_technician_reads_policies_but_may_not_edit() -> None:
    policy = make_policy(PolicyScope.GLOBAL, name="Everywhere")
    http, _user = logged_in("technician")
    page = http.get(f"/monitoring/policies/{policy.pk}/").content.decode()
    response = http.post(f"/monitoring/policies/{policy.pk}/edit/", {"name": "Mine"})
    assert "Everywhere" in page and 'data-testid="edit-policy"' not in page
    assert response.status_code == 403
    policy.refresh_from_db()
    assert policy.name == "Everywhere"


def test_window_create_refuses_a_client_the_user_cannot_see() -> None:
    mine, other = make_client(), make_client()
    http, _user = logged_in("technician", clients=[mine], restricted=True)
    now = timezone.localtime()
    form = {"client": other.pk, "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"), "reason": "Works"}
    refused = http.post("/monitoring/maintenance/new/", form)
    accepted = http.post("/monitoring/maintenance/new/", {**form, "client": mine.pk})
    assert refused.status_code == 200
    assert accepted.status_code == 302
    assert list(MaintenanceWindow.objects.values_list("client_id", flat=True)) == [mine.pk]
    listing = http.get("/monitoring/maintenance/").content.decode()
    assert "Works" in listing


def test_device_fragment_shows_where_each_check_comes_from() -> None:
    client = make_client()
    device = make_device(client)
    make_check(make_policy(PolicyScope.GLOBAL, name="Everywhere"), "cpu", name="CPU global")
    make_check(make_policy(PolicyScope.DEVICE, device=device, name="This PC"), "cpu", name="CPU here")
    http, _user = logged_in("technician")
    page = http.get(f"/monitoring/devices/{device.pk}/policy/").content.decode()
    assert 'data-testid="effective-policy"' in page
    assert "CPU here" in page and "This PC" in page and "CPU global" in page  # the override names what it replaces


def test_client_fragment_shows_compliance_and_applies_a_baseline() -> None:
    client = make_client()
    make_device(client)
    http, _user = logged_in("admin")
    before = http.get(f"/monitoring/clients/{client.pk}/baseline/").content.decode()
    http.post(f"/monitoring/clients/{client.pk}/baseline/apply/", {"tier": "good"})
    after = http.get(f"/monitoring/clients/{client.pk}/baseline/").content.decode()
    assert "No baseline applied" in before
    assert "100 % (1 of 1 managed devices)" in after


def test_navigation_shows_alerts_and_policies_by_capability() -> None:
    tech_http, _ = logged_in("technician")
    finance_http, _ = logged_in("finance")
    tech_home = tech_http.get("/").content.decode()
    finance_home = finance_http.get("/").content.decode()
    assert 'href="/monitoring/alerts/"' in tech_home and 'href="/monitoring/policies/"' in tech_home
    assert 'href="/monitoring/alerts/"' in finance_home and 'href="/monitoring/policies/"' not in finance_home


def test_client_page_loads_the_baseline_fragment() -> None:
    client = make_client()
    http, _user = logged_in()
    page = http.get(f"/clients/{client.pk}/").content.decode()
    assert f'hx-get="/monitoring/clients/{client.pk}/baseline/"' in page


def test_policy_form_sets_the_updates_interval_and_shows_the_bounds_beside_the_field() -> None:
    # given a service manager and a client
    client = make_client()
    http, _user = logged_in("service_manager")
    form = {"name": "Patching", "scope": "client", "client": client.pk, "enabled": "on"}
    # when the interval is below 15 minutes, then within the bounds
    refused = http.post("/monitoring/policies/new/", {**form, "updates_interval": "600"})
    written_before = Policy.objects.filter(name="Patching").exists()
    accepted = http.post("/monitoring/policies/new/", {**form, "updates_interval": "7200"})
    # then the first shows the service's message beside the field and writes nothing, the second is kept
    assert refused.status_code == 200
    assert "Enter a whole number of seconds between 900 (15 minutes) and 604800 (7 days)." in refused.content.decode()
    assert written_before is False
    assert accepted.status_code == 302
    assert Policy.objects.get(name="Patching").collectors == {"updates_interval": 7200}
