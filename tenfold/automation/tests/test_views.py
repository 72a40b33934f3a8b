"""The script pages: library list, detail with versions and signatures, the run form, runs, keys."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from tenfold.accounts.testing import make_staff
from tenfold.agents.models import Job
from tenfold.automation.models import ScriptRun
from tenfold.automation.tests.factories import Key, make_script, managed_device, register, sign
from tenfold.clients.models import Client
from tenfold.core.roles import Role

pytestmark = pytest.mark.django_db


def test_list_detail_run_form_and_runs() -> None:
    admin = make_staff(Role.ADMIN)
    key = Key()
    register(admin, key, admin)
    script = make_script(admin, name="Restart cups")
    http = HttpClient()
    http.force_login(admin)
    # the list shows the starter library and the new script; search and category filter narrow it
    page = http.get(reverse("automation:script_list")).content.decode()
    assert "Restart cups" in page and "Clear temporary files (Linux, macOS)" in page
    found = http.get(reverse("automation:script_list"), {"q": "cups", "category": "services"}).content.decode()
    assert "Restart cups" in found and "Clear temporary files" not in found
    # unsigned: the detail says it cannot run, and the run page says why
    detail = http.get(reverse("automation:script_detail", args=[script.pk])).content.decode()
    assert "No version is signed" in detail and "Awaiting signature" in detail
    assert "has no signed version" in http.get(reverse("automation:script_run", args=[script.pk])).content.decode()
    sign(script.versions.get(), key, admin)
    device = managed_device(Client.objects.create(name="Fournil", status="active"), "SRV-CUPS")
    form = http.get(reverse("automation:script_run", args=[script.pk])).content.decode()
    assert "SRV-CUPS" in form and 'name="param_password"' in form and 'type="password"' in form
    # a wrong choice is shown beside its field, nothing queued
    bad = http.post(reverse("automation:script_run", args=[script.pk]),
                    {"devices": [str(device.pk)], "param_service": "cups", "param_level": "max"})
    assert bad.status_code == 200 and not Job.objects.exists()
    done = http.post(reverse("automation:script_run", args=[script.pk]),
                     {"devices": [str(device.pk)], "param_service": "cups", "param_password": "hunter2-x"})
    assert done.status_code == 302
    run = ScriptRun.objects.get()
    assert run.parameters == {"service": "cups", "level": "low", "force": False, "password": "[secret]"}
    runs = http.get(reverse("automation:run_list"), {"script": script.pk}).content.decode()
    assert "SRV-CUPS" in runs and "Restart cups v1" in runs
    shown = http.get(reverse("automation:run_detail", args=[run.run_id])).content.decode()
    assert "[secret]" in shown and "hunter2-x" not in shown and "Queued" in shown
    device_page = http.get(reverse("automation:run_item_detail", args=[run.pk])).content.decode()
    assert "TF_PASSWORD" in device_page and "hunter2-x" not in device_page
    keys = http.get(reverse("automation:key_list")).content.decode()
    assert key.key_id in keys and "first key (trusted at enrollment)" in keys
