"""CSV import of devices and warranties: the parser (any bytes, never an exception), the preview, the
all-or-nothing import, its audit row, the page and the API."""

from __future__ import annotations

import base64
import json
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient
from hypothesis import given, settings
from hypothesis import strategies as st

from tenfold.accounts.models import User
from tenfold.accounts.testing import bearer, make_api_token, make_staff
from tenfold.assets import services
from tenfold.assets.csv_import import MAX_ROWS, parse_date, parse_devices_csv
from tenfold.assets.models import Device, DeviceStateChange
from tenfold.clients.models import Client, Site
from tenfold.core.errors import PermissionDenied, ValidationError
from tenfold.core.models import AuditEntry, OutboxEvent

HEADER = "name,kind,serial_number,vendor,model,purchase_date,warranty_end,site,notes\n"


# --- The parser (no database) --------------------------------------------------------------------


def test_parser_reads_utf8_bom_semicolons_and_both_date_forms() -> None:
    # given a file saved by a spreadsheet: BOM, semicolons, headers in another case and order
    data = ("\ufeffSerial_Number;Name;Warranty_End;Purchase_Date;Kind\n"
            "SN-1;PC-COMPTA-01;31/03/2028;2025-03-31;Laptop\n"
            "\n"
            ";IMP-ACCUEIL;;;network device\n").encode()
    # when it is parsed
    parsed = parse_devices_csv(data)
    # then the rows are read with their lines, blank cells left out and kinds mapped
    assert parsed.error == ""
    assert [(r.line, r.values, r.errors) for r in parsed.rows] == [
        (2, {"serial_number": "SN-1", "name": "PC-COMPTA-01", "warranty_end": date(2028, 3, 31),
             "purchase_date": date(2025, 3, 31), "kind": "laptop"}, {}),
        (4, {"name": "IMP-ACCUEIL", "kind": "network_device"}, {})]


def test_parser_reports_each_wrong_cell() -> None:
    data = (HEADER + "PC-01,tablet,,,,2025-13-01,31/02/2027,,\n"
            + ",server,SN-2,,,,,,\n"
            + "PC-03,,,,,2026-01-02,2025-01-01,,\n"
            + "PC-04,,,,,,,,,extra\n").encode()
    rows = parse_devices_csv(data).rows
    assert [(r.line, r.errors) for r in rows] == [
        (2, {"kind": ["Unknown kind “tablet”: use one of workstation, laptop, server, network_device, mobile, other."],
             "purchase_date": ["“2025-13-01” is not a date: write 2026-03-31 or 31/03/2026."],
             "warranty_end": ["“31/02/2027” is not a date: write 2026-03-31 or 31/03/2026."]}),
        (3, {"name": ["The name is required."]}),
        (4, {"warranty_end": ["The warranty cannot end before the purchase date."]}),
        (5, {"__all__": ["This row has 10 cells but the header names 9 columns."]})]


@pytest.mark.parametrize(("data", "error"), [
    (b"", "The file is empty."),
    (b"PK\x03\x04\x00\x00binary", "This is not a CSV text file."),
    ("name\nCaf\u00e9\n".encode("latin-1"), "The file is not UTF-8 text: save it as “CSV UTF-8” and try again."),
    (b"PC-01,laptop,SN-1\n", "The first row must be a header naming the columns, with at least “name”: name, kind, "
                             "serial_number, vendor, model, purchase_date, warranty_end, site, notes."),
    (b"name,colour\nPC-01,red\n", "Unknown columns: colour. The columns are: name, kind, serial_number, vendor, "
                                  "model, purchase_date, warranty_end, site, notes."),
    (b"name,name\nA,B\n", "These columns appear twice: name."),
    (b"name,kind\n", "The file has a header but no rows."),
    (b"name\n" + b"x\n" * (MAX_ROWS + 1), "The file has more than 5000 rows: split it into smaller files."),
    (b"name\n" + b"x" * (2 * 1024 * 1024), "The file is larger than 2 MiB: split it into smaller files."),
])
def test_parser_file_level_errors(data: bytes, error: str) -> None:
    parsed = parse_devices_csv(data)
    assert (parsed.error, parsed.rows) == (error, [])


def test_parser_takes_exactly_5000_rows() -> None:
    parsed = parse_devices_csv(b"name\n" + b"".join(b"PC-%d\n" % i for i in range(MAX_ROWS)))
    assert (parsed.error, len(parsed.rows), parsed.rows[-1].line) == ("", 5000, 5001)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-03-31", date(2026, 3, 31)), ("31/03/2026", date(2026, 3, 31)), ("1/3/2026", date(2026, 3, 1)),
    ("2026-02-29", None), ("03/31/2026", None), ("31.03.2026", None), ("", None)])
def test_parse_date(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


@given(st.binary(max_size=4096))
def test_parser_never_raises_on_any_bytes(data: bytes) -> None:
    parsed = parse_devices_csv(data)
    assert parsed.error or parsed.rows


@given(st.lists(st.lists(st.text(max_size=30), min_size=1, max_size=10), max_size=20),
       st.sampled_from([",", ";"]))
def test_parser_never_raises_on_any_csv_text(rows: list[list[str]], separator: str) -> None:
    text = HEADER.replace(",", separator) + "\n".join(separator.join(cells) for cells in rows)
    parsed = parse_devices_csv(text.encode("utf-8", "surrogatepass"))
    for row in parsed.rows:
        assert row.errors or "name" in row.values


# --- Preview and import -------------------------------------------------------------------------


@pytest.fixture
def client_a(db: None) -> Client:
    return Client.objects.create(name="Boulangerie Martin", status="active")


@pytest.mark.django_db
def test_preview_matches_by_serial_then_name_and_writes_nothing(client_a: Client) -> None:
    # given two devices of the client and a site
    by_serial = Device.objects.create(client=client_a, name="OLD-NAME", serial_number="SN-1")
    by_name = Device.objects.create(client=client_a, name="SRV-FICHIERS", purchase_date=date(2024, 1, 1))
    Site.objects.create(client=client_a, name="Fournil")
    data = (HEADER + "PC-COMPTA-01,laptop,sn-1,,,,2028-03-31,,\n"
            + "srv-fichiers,,,,,,2023-12-31,,\n"
            + "IMP-ACCUEIL,other,,Brother,,,,fournil,\n").encode()
    # when it is previewed
    preview = services.device_import_preview(actor=make_staff("technician", mfa=False), client=client_a,
                                             content=data)
    # then: update by serial (case-insensitive), an error (warranty before the existing purchase date), a create
    assert [(r.line, r.action, r.device.pk if r.device else None, r.errors) for r in preview.rows] == [
        (2, "update", by_serial.pk, {}),
        (3, "error", by_name.pk, {"warranty_end": ["The warranty cannot end before the purchase date."]}),
        (4, "create", None, {})]
    assert Device.objects.count() == 2 and AuditEntry.objects.count() == 0


@pytest.mark.django_db
def test_import_is_all_or_nothing_with_per_row_reasons(client_a: Client) -> None:
    # given a file with a good row and a site of another client
    other = Client.objects.create(name="Garage Perrin")
    Site.objects.create(client=other, name="Atelier")
    data = (HEADER + "PC-01,laptop,SN-1,,,,,,\nPC-02,,SN-2,,,,,Atelier,\nPC-03,,SN-1,,,,,,\n").encode()
    # when it is imported
    with pytest.raises(ValidationError) as info:
        services.device_import_apply(actor=make_staff("admin", mfa=False), client=client_a, content=data)
    # then each wrong row is named and nothing is written
    assert info.value.errors == {"row:3": ["site: No site of this client is named “Atelier”."],
                                 "row:4": ["Row 2 already imports this device."]}
    assert Device.objects.count() == 0 and AuditEntry.objects.count() == 0 and OutboxEvent.objects.count() == 0


@pytest.mark.django_db
def test_import_creates_and_updates_in_one_audited_transaction(client_a: Client) -> None:
    # given an existing device and a site
    existing = Device.objects.create(client=client_a, name="SRV-FICHIERS", serial_number="SN-9", notes="keep")
    site = Site.objects.create(client=client_a, name="Fournil")
    admin = make_staff("admin", mfa=False)
    data = (b"name;kind;serial_number;purchase_date;warranty_end;site\n"
            b"SRV-FICHIERS;;SN-9;;31/12/2027;\n"
            b"IMP-ACCUEIL;other;BR-1;2025-06-01;2028-06-01;Fournil\n")
    # when it is imported
    services.device_import_apply(actor=admin, client=client_a, content=data)
    # then the existing device has its warranty (notes untouched), the new one exists, active, unmanaged
    existing.refresh_from_db()
    assert (existing.warranty_end, existing.notes) == (date(2027, 12, 31), "keep")
    new = Device.objects.get(serial_number="BR-1")
    assert (new.name, new.kind, new.state, new.managed, new.site_id, new.purchase_date, new.warranty_end) == (
        "IMP-ACCUEIL", "other", "active", False, site.pk, date(2025, 6, 1), date(2028, 6, 1))
    assert list(DeviceStateChange.objects.values_list("device_id", "to_state", "actor_id")) == [
        (new.pk, "active", admin.pk)]
    # and one audit row with the counts, one event
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.client_id, entry.changes) == ("devices.imported", client_a.pk,
                                                              {"created": 1, "updated": 1, "rows": 2})
    assert OutboxEvent.objects.get().payload == {"client_id": client_a.pk, "created": [new.pk],
                                                 "updated": [existing.pk]}


@pytest.mark.django_db
def test_finance_may_not_import(client_a: Client) -> None:
    with pytest.raises(PermissionDenied):
        services.device_import_preview(actor=make_staff("finance", mfa=False), client=client_a,
                                       content=b"name\nPC-01\n")


# --- Page and API -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_page_previews_then_confirms(client_a: Client) -> None:
    # given a technician on the import page
    http = HttpClient()
    http.force_login(make_staff("technician"))
    url = f"/devices/clients/{client_a.pk}/import/"
    assert http.get(url).status_code == 200
    # when they upload a file
    upload = SimpleUploadedFile("devices.csv", b"name,warranty_end\nPC-01,2028-01-31\n", content_type="text/csv")
    preview = http.post(url, {"file": upload})
    # then they see the plan and nothing is written yet
    body = preview.content.decode()
    assert preview.status_code == 200 and 'data-testid="confirm-import"' in body
    assert Device.objects.count() == 0
    pending = body.split('name="pending" value="', 1)[1].split('"', 1)[0]
    # when they confirm
    done = http.post(url, {"pending": pending})
    # then the device is imported and they land on the client's devices
    assert done.status_code == 302 and done["Location"] == f"/devices/?client={client_a.pk}"
    assert list(Device.objects.values_list("name", "warranty_end")) == [("PC-01", date(2028, 1, 31))]


@pytest.mark.django_db
def test_page_shows_row_errors_and_offers_no_confirmation(client_a: Client) -> None:
    http = HttpClient()
    http.force_login(make_staff("technician"))
    upload = SimpleUploadedFile("devices.csv", b"name,kind\nPC-01,tablet\n", content_type="text/csv")
    response = http.post(f"/devices/clients/{client_a.pk}/import/", {"file": upload})
    body = response.content.decode()
    assert response.status_code == 422
    assert "Unknown kind “tablet”" in body and 'name="pending"' not in body
    wrong = http.post(f"/devices/clients/{client_a.pk}/import/",
                      {"file": SimpleUploadedFile("devices.xlsx", b"PK\x03\x04\x00\x00")})
    assert wrong.status_code == 422 and "This is not a CSV text file." in wrong.content.decode()
    lost = http.post(f"/devices/clients/{client_a.pk}/import/", {"pending": "not base64!"})
    assert lost.status_code == 302 and Device.objects.count() == 0


@pytest.mark.django_db
def test_api_previews_imports_and_refuses_bad_input(client_a: Client) -> None:
    http, headers = HttpClient(), bearer(make_api_token(make_staff("admin")))
    url = f"/api/v1/clients/{client_a.pk}/device-import"

    def call(content: bytes, confirm: bool) -> tuple[int, dict]:
        response = http.post(url, data=json.dumps({"content_base64": base64.b64encode(content).decode(),
                                                   "confirm": confirm}), content_type="application/json", **headers)
        return response.status_code, response.json()

    # a preview writes nothing
    status, body = call(b"name\nPC-01\n", False)
    assert (status, body["confirmed"], body["created"], body["rows"]) == (
        200, False, 1, [{"line": 2, "action": "create", "device_id": None, "errors": {}}])
    assert Device.objects.count() == 0
    # a confirmed import with a wrong row is a 422 naming it, nothing written
    status, body = call(b"name,warranty_end\nPC-01,soon\n", True)
    assert (status, body["errors"]) == (422, {"row:2": [
        "warranty_end: “soon” is not a date: write 2026-03-31 or 31/03/2026."]})
    # a file-level problem is a 422 too
    status, body = call(b"\xff\xfe", True)
    assert (status, body["message"]) == (422, "The file is not UTF-8 text: save it as “CSV UTF-8” and try again.")
    # a confirmed good file is imported
    status, body = call(b"name\nPC-01\n", True)
    assert (status, body["created"], Device.objects.count()) == (200, 1, 1)
    # not base64, unknown fields: 422
    bad = http.post(url, data='{"content_base64": "***"}', content_type="application/json", **headers)
    extra = http.post(url, data='{"content_base64": "", "x": 1}', content_type="application/json", **headers)
    assert (bad.status_code, extra.status_code) == (422, 422)


@pytest.mark.django_db
@settings(max_examples=30)
@given(data=st.binary(max_size=2048), confirm=st.booleans())
def test_api_never_answers_500_on_any_bytes(data: bytes, confirm: bool) -> None:
    # given any bytes, previewed or confirmed through the API
    client = Client.objects.get_or_create(name="Hypothesis Client", defaults={"status": "active"})[0]
    admin = User.objects.filter(email="hypothesis-admin@msp.test").first() or make_staff(
        "admin", email="hypothesis-admin@msp.test")
    headers = bearer(make_api_token(admin))
    response = HttpClient().post(f"/api/v1/clients/{client.pk}/device-import", data=json.dumps({
        "content_base64": base64.b64encode(data).decode(), "confirm": confirm}),
        content_type="application/json", **headers)
    # then the answer is a preview or a 422, never a server error
    assert response.status_code in (200, 422), response.content
