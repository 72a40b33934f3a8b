"""Browser tests of the R2 device flows: a CSV import previewed then confirmed, and a discovered printer
turned into a device."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tenfold.accounts.testing import browser_log_in, make_staff
from tenfold.assets.models import Device, DiscoveredDevice
from tenfold.clients.models import Client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]




def test_csv_import_preview_then_confirm(page: Page, live_server, tmp_path: Path) -> None:
    # given a client with one device and a CSV file updating it and adding another
    client = Client.objects.create(name="Boulangerie Martin", status="active")
    Device.objects.create(client=client, name="SRV-FICHIERS", serial_number="SN-9")
    csv_file = tmp_path / "devices.csv"
    csv_file.write_bytes("\ufeffname;serial_number;warranty_end\nSRV-FICHIERS;SN-9;31/12/2027\n"
                         "IMP-ACCUEIL;BR-1;2028-06-01\n".encode())
    browser_log_in(page, live_server.url, make_staff("technician"))
    # when the technician opens the import from the client's devices and uploads the file
    page.goto(f"{live_server.url}/devices/?client={client.pk}")
    page.click("[data-testid=import-link]")
    page.set_input_files("input[name=file]", str(csv_file))
    page.click("[data-testid=preview]")
    # then the preview shows one update and one creation, nothing written yet
    expect(page.locator("[data-testid=import-row-2]")).to_contain_text("Update")
    expect(page.locator("[data-testid=import-row-3]")).to_contain_text("Add")
    assert Device.objects.count() == 1
    # when they confirm
    page.click("[data-testid=confirm-import]")
    # then both devices carry their warranty dates
    expect(page.locator(".message-success")).to_contain_text("1 devices added, 1 updated")
    assert sorted(Device.objects.values_list("name", "warranty_end")) == [
        ("IMP-ACCUEIL", date(2028, 6, 1)), ("SRV-FICHIERS", date(2027, 12, 31))]


def test_discovered_printer_becomes_a_device(page: Page, live_server) -> None:
    # given a printer an agent saw on the client's network
    client = Client.objects.create(name="Boulangerie Martin", status="active")
    now = timezone.now()
    row = DiscoveredDevice.objects.create(client=client, ip="192.0.2.10", mac="00:80:77:12:34:56",
                                          hostname="brn-imp-accueil", vendor="Brother", source="arp",
                                          first_seen_at=now, last_seen_at=now)
    browser_log_in(page, live_server.url, make_staff("technician"))
    # when the technician finds it in the discovered list and adds it as a device
    page.goto(f"{live_server.url}/devices/discovered/?client={client.pk}")
    page.click("text=192.0.2.10")
    page.click("[data-testid=create-device]")
    expect(page.locator("input[name=name]")).to_have_value("brn-imp-accueil")
    page.click("[data-testid=save]")
    # then the device exists and the discovered row is matched to it
    expect(page.locator("h1")).to_have_text("brn-imp-accueil")
    device = Device.objects.get(name="brn-imp-accueil")
    assert (device.vendor, device.managed) == ("Brother", False)
    assert DiscoveredDevice.objects.get(pk=row.pk).matched_device_id == device.pk


def test_a_tag_is_defined_put_on_a_device_and_filters_the_list(page: Page, live_server) -> None:
    from tenfold.assets.models import Tag

    # given two devices of a client
    client = Client.objects.create(name="Boulangerie Martin", status="active")
    till = Device.objects.create(client=client, name="CAISSE-01")
    Device.objects.create(client=client, name="PC-ACCUEIL")
    browser_log_in(page, live_server.url, make_staff("service_manager"))
    # when the service manager defines a tag from the device list
    page.goto(f"{live_server.url}/devices/")
    page.click("[data-testid=tags-link]")
    page.click("[data-testid=new-tag]")
    page.fill("input[name=name]", "Point of sale")
    page.select_option("select[name=colour]", "teal")
    page.click("[data-testid=save]")
    expect(page.locator(".message-success")).to_contain_text("Point of sale")
    # and ticks it on the till's page
    page.goto(f"{live_server.url}/devices/{till.pk}/")
    page.click("text=Edit tags")
    page.check("[data-testid=tags-form] input[type=checkbox]")
    page.click("text=Save tags")
    # then the till shows the tag, and the tag filters the device list
    expect(page.locator("[data-testid=device-tags] .tag-teal")).to_have_text("Point of sale")
    page.click("[data-testid=device-tags] .tag-teal")
    expect(page.locator("#list-results")).to_contain_text("CAISSE-01")
    expect(page.locator("#list-results")).not_to_contain_text("PC-ACCUEIL")
    assert list(Tag.objects.get(name="Point of sale").devices.values_list("name", flat=True)) == ["CAISSE-01"]
