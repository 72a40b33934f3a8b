"""The dependency audit gate's allowlist (scripts/audit_deps.py, security/audit-allowlist.toml): every entry has
an advisory id, a reason and an expiry date, and an expired one fails the gate; a pip-audit report that audited
no dependency is "no vulnerability data", never a pass."""

from __future__ import annotations

import importlib.util
import sys
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[3]
TODAY = date(2026, 11, 27)


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_deps", ROOT / "scripts" / "audit_deps.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["audit_deps"] = module
    spec.loader.exec_module(module)
    return module


audit_deps = _load()

GOOD = '''
[[ignore]]
id = "GHSA-aaaa-bbbb-cccc"
package = "example"
reason = "Tenfold never calls example.parse_untrusted; the fix needs Python 3.12."
expires = 2026-12-31
'''


def test_a_complete_entry_is_read() -> None:
    assert audit_deps.read_allowlist(GOOD, TODAY) == [audit_deps.Allowed(
        "GHSA-aaaa-bbbb-cccc", "example", "Tenfold never calls example.parse_untrusted; the fix needs Python 3.12.",
        date(2026, 12, 31))]


def test_the_projects_allowlist_is_acceptable_today() -> None:
    audit_deps.read_allowlist((ROOT / "security" / "audit-allowlist.toml").read_text(), date.today())


def test_an_entry_expiring_today_still_holds_and_the_day_after_fails() -> None:
    assert len(audit_deps.read_allowlist(GOOD, date(2026, 12, 31))) == 1
    with pytest.raises(audit_deps.AllowlistError) as caught:
        audit_deps.read_allowlist(GOOD, date(2027, 1, 1))
    assert caught.value.problems == [
        "entry 1 (GHSA-aaaa-bbbb-cccc): expired on 2026-12-31: look at it again, then upgrade or renew it"]


@pytest.mark.parametrize(("entry", "problems"), [
    ('id = "PYSEC-1"\nexpires = 2027-01-01', ["entry 1 (PYSEC-1): no reason given"]),
    ('id = "PYSEC-1"\nreason = "   "\nexpires = 2027-01-01', ["entry 1 (PYSEC-1): no reason given"]),
    ('id = "PYSEC-1"\nreason = "r"', ["entry 1 (PYSEC-1): no expiry date (expires = YYYY-MM-DD)"]),
    ('id = "PYSEC-1"\nreason = "r"\nexpires = "2027-01-01"',
     ["entry 1 (PYSEC-1): no expiry date (expires = YYYY-MM-DD)"]),
    ('id = "PYSEC-1"\nreason = "r"\nexpires = 2027-01-01T00:00:00',
     ["entry 1 (PYSEC-1): no expiry date (expires = YYYY-MM-DD)"]),
    ('reason = "r"\nexpires = 2027-01-01', ["entry 1: no advisory id"]),
    ('id = "PYSEC-1"\nreason = "r"\nexpires = 2027-01-01\nowner = "x"', ["entry 1 (PYSEC-1): unknown key 'owner'"]),
])
def test_an_entry_without_a_reason_an_expiry_or_an_id_fails(entry: str, problems: list[str]) -> None:
    with pytest.raises(audit_deps.AllowlistError) as caught:
        audit_deps.read_allowlist(f"[[ignore]]\n{entry}\n", TODAY)
    assert caught.value.problems == problems


def test_every_wrong_entry_is_named_and_a_twice_listed_id_fails() -> None:
    text = GOOD + GOOD + '[[ignore]]\nid = "CVE-2026-1"\nexpires = 2020-01-01\n'
    with pytest.raises(audit_deps.AllowlistError) as caught:
        audit_deps.read_allowlist(text, TODAY)
    assert caught.value.problems == [
        "entry 2 (GHSA-aaaa-bbbb-cccc): listed twice", "entry 3 (CVE-2026-1): no reason given",
        "entry 3 (CVE-2026-1): expired on 2020-01-01: look at it again, then upgrade or renew it"]


def test_a_report_that_audited_nothing_is_no_data_not_a_pass() -> None:
    skipped = {"dependencies": [
        {"name": "django", "version": "5.2.19", "skip_reason": "Dependency not found on PyPI and could not be audited"},
        {"name": "nh3", "version": "0.3", "skip_reason": "Dependency not found on PyPI and could not be audited"}]}
    assert audit_deps.no_data_reason(skipped) == (
        "the vulnerability service answered for none of the 2 dependencies "
        "(e.g. Dependency not found on PyPI and could not be audited)")
    assert audit_deps.no_data_reason({"dependencies": []}) == "pip-audit found no dependency to audit"
    assert audit_deps.no_data_reason({"dependencies": [{"name": "nh3", "version": "0.3", "vulns": []}]}) == ""


def test_findings_name_the_package_the_advisory_and_the_fix() -> None:
    report = {"dependencies": [
        {"name": "django", "version": "5.2.1", "vulns": [{"id": "GHSA-x", "fix_versions": ["5.2.2", "5.1.10"]}]},
        {"name": "nh3", "version": "0.3", "vulns": [{"id": "PYSEC-9", "fix_versions": []}]},
        {"name": "idna", "version": "3.10", "vulns": []}]}
    assert audit_deps.findings(report) == ["django 5.2.1: GHSA-x (fixed in 5.2.2, 5.1.10)",
                                           "nh3 0.3: PYSEC-9 (fixed in no release)"]
