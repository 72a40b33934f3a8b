"""Every KPI on the hand-built MSP of kpi_factories, with the arithmetic in the comments. Period: March 2026;
previous period: February 2026."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tenfold.accounts.testing import make_portal_user
from tenfold.core.errors import PermissionDenied, ValidationError
from tenfold.reporting import kpis
from tenfold.reporting.tests.kpi_factories import build_msp

pytestmark = pytest.mark.django_db

MARCH = kpis.make_period("month", date(2026, 3, 17))
FEB = MARCH.previous()
D = Decimal


@pytest.fixture
def msp():  # type: ignore[no-untyped-def]
    return build_msp()


def owner_scope(msp):  # type: ignore[no-untyped-def]
    return kpis.kpi_scope(msp.users["owner"])


def test_periods() -> None:
    assert (MARCH.start, MARCH.end, MARCH.days) == (date(2026, 3, 1), date(2026, 4, 1), 31)
    assert (FEB.start, FEB.end) == (date(2026, 2, 1), date(2026, 3, 1))
    quarter = kpis.make_period("quarter", date(2026, 5, 9))
    assert (quarter.start, quarter.end, quarter.previous().start) == (date(2026, 4, 1), date(2026, 7, 1),
                                                                      date(2026, 1, 1))
    custom = kpis.make_period("custom", date(2026, 3, 10), date(2026, 3, 19))
    # 10 days; the previous custom period is the 10 days before
    assert (custom.days, custom.previous().start, custom.previous().end) == (10, date(2026, 2, 28),
                                                                             date(2026, 3, 10))
    with pytest.raises(ValidationError):
        kpis.make_period("custom", date(2026, 3, 10), date(2026, 3, 1))
    with pytest.raises(ValidationError):
        kpis.make_period("custom", date(2020, 1, 1), date(2026, 3, 1))
    with pytest.raises(ValidationError):
        kpis.make_period("fortnight", date(2026, 3, 1))


def test_average_deal_value(msp) -> None:  # type: ignore[no-untyped-def]
    scope = owner_scope(msp)
    # won in March: 12×100+500 = 1700, 12×50 = 600, 12×200+1000 = 3400 → 5700 / 3 = 1900.00
    # (the lost deal and the open deal do not count)
    march = kpis.average_deal_value(scope, MARCH)
    assert (march.count, march.total, march.average) == (3, D("5700.00"), D("1900.00"))
    # February: one deal of 12×10 = 120
    assert kpis.average_deal_value(scope, FEB).average == D("120.00")


def test_per_salesperson_ranking(msp) -> None:  # type: ignore[no-untyped-def]
    rows = kpis.per_salesperson(owner_scope(msp), MARCH)
    # Bruno: won 3400 (1 deal), lost 1 → win rate 1/2 = 50.0 %; Anne: 1700 + 600 = 2300 (2 deals), 100.0 %
    assert [(r.rank, r.name, r.won, r.lost, r.total, r.average, r.monthly, r.win_rate) for r in rows] == [
        (1, "Bruno Beta", 1, 1, D("3400.00"), D("3400.00"), D("200.00"), D("50.0")),
        (2, "Anne Alpha", 2, 0, D("2300.00"), D("1150.00"), D("150.00"), D("100.0")),
    ]


def test_mrr_and_movements(msp) -> None:  # type: ignore[no-untyped-def]
    scope = owner_scope(msp)
    report = kpis.mrr_report(scope, MARCH)
    # March MRR: A 300 + 50 (the 20.00 proration is not recurring) = 350; B 150 (the void invoice's 1000 and
    # the draft's 999 are not booked); C 400 (server line) → 900
    assert report.mrr == D("900.00")
    month = report.months[0]
    # against February (A 300, B 200, D 100 = 600): new C +400; expansion A +50; contraction B −50; churn D −100
    # 600 + 400 + 50 − 50 − 100 = 900
    assert (month.new, month.expansion, month.contraction, month.churn, month.clients) == (
        D("400.00"), D("50.00"), D("50.00"), D("100.00"), 3)
    assert {(r.client_id, r.before, r.after, r.movement) for r in report.clients} == {
        (msp.clients["A"].pk, D("300.00"), D("350.00"), "expansion"),
        (msp.clients["B"].pk, D("200.00"), D("150.00"), "contraction"),
        (msp.clients["C"].pk, D("0.00"), D("400.00"), "new"),
        (msp.clients["D"].pk, D("100.00"), D("0.00"), "churn"),
    }
    # February against January (A 300, B 200): D is new with 100 → 600
    feb = kpis.mrr_report(scope, FEB)
    assert (feb.mrr, feb.months[0].new, feb.months[0].churn) == (D("600.00"), D("100.00"), D("0.00"))
    # a quarter: MRR is its last month's, movements add up month by month (Jan: A, B new vs December = 500)
    q1 = kpis.mrr_report(scope, kpis.make_period("quarter", date(2026, 2, 1)))
    assert (q1.mrr, q1.total("new"), q1.total("churn")) == (D("900.00"), D("1000.00"), D("100.00"))


def test_upsell_revenue(msp) -> None:  # type: ignore[no-untyped-def]
    scope = owner_scope(msp)
    march = kpis.upsell(scope, MARCH)
    # only A grew (+50); B shrank (−50); C is new and D churned: neither is upsell
    assert (march.expansion, march.contraction, march.net) == (D("50.00"), D("50.00"), D("0.00"))
    assert [(r.client_id, r.expansion) for r in march.clients] == [(msp.clients["A"].pk, D("50.00")),
                                                                   (msp.clients["B"].pk, D("0.00"))]
    assert kpis.upsell(scope, FEB).expansion == D("0.00")


def test_new_contracts(msp) -> None:  # type: ignore[no-untyped-def]
    scope = owner_scope(msp)
    report = kpis.new_contracts(scope, MARCH)
    # C-1 (managed, first billed in March: 400.00) and C-2 (fixed price 2500.00); C-3 is a draft
    # → 2 contracts, 2900.00, average 1450.00
    assert (report.count, report.total, report.average) == (2, D("2900.00"), D("1450.00"))
    assert report.values == {msp.contracts["C1"].pk: D("400.00"), msp.contracts["C2"].pk: D("2500.00")}
    # February: D-1, first billed in February with its 100.00 minimum line
    feb = kpis.new_contracts(scope, FEB)
    assert (feb.count, feb.average) == (1, D("100.00"))


def test_managed_services_growth(msp) -> None:  # type: ignore[no-untyped-def]
    scope = owner_scope(msp)
    end_march, end_feb = kpis.managed_counts(scope, [date(2026, 3, 31), date(2026, 2, 28)])
    # end of March: servers A-SRV1 + C-SRV = 2; workstations A-WS1..8, A-LT1, A-WS9 = 10 (A-LT2 ended 15 March)
    assert (end_march.servers, end_march.workstations, end_march.total) == (2, 10, 12)
    # end of February: A-SRV1 = 1 (C-SRV from 1 March); A-WS1..8 + both laptops = 10
    assert (end_feb.servers, end_feb.workstations, end_feb.total) == (1, 10, 11)


def test_share_of_environment_managed(msp) -> None:  # type: ignore[no-untyped-def]
    scope = owner_scope(msp)
    march = {r.client_id: (r.managed, r.devices, r.unmanaged_discovered, r.pct)
             for r in kpis.environment_managed(scope, date(2026, 3, 31))}
    c = msp.clients
    # A: 11 covered of 12 devices + 1 discovered unmatched (the ignored one does not count) → 11/13 = 84.6 %
    # B: 0 of 3 (the retired workstation left on 10 March) → 0.0 %; C: 1 of 1 → 100.0 %
    assert march == {c["A"].pk: (11, 12, 1, D("84.6")), c["B"].pk: (0, 3, 0, D("0.0")),
                     c["C"].pk: (1, 1, 0, D("100.0"))}
    feb = {r.client_id: (r.managed, r.devices, r.unmanaged_discovered, r.pct)
           for r in kpis.environment_managed(scope, date(2026, 2, 28))}
    # end of February: A 11 covered of 11 devices + 1 discovered → 91.7 %; B 0 of 4 (not yet retired); C 0 of 1
    assert feb == {c["A"].pk: (11, 11, 1, D("91.7")), c["B"].pk: (0, 4, 0, D("0.0")), c["C"].pk: (0, 1, 0, D("0.0"))}


def test_cross_sell(msp) -> None:  # type: ignore[no-untyped-def]
    scope = owner_scope(msp)
    report = kpis.cross_sell(scope, MARCH)
    s = msp.services
    assert report.service == s["backup"]  # the service that includes backup is followed by default
    # revenue per service in March: workstation 300 + 150 (B) = 450 (the 20.00 proration is dated 10 February);
    # backup 50; server 400
    march = date(2026, 3, 1)
    assert report.by_service == {s["ws"].pk: {march: D("450.00")}, s["backup"].pk: {march: D("50.00")},
                                 s["server"].pk: {march: D("400.00")}}
    assert report.value == D("50.00")
    # coverage by backup at the end of March: A billed 5 units of 11 workstations (8 + 2 laptops + WS9) = 45.5 %;
    # B 0 of 3 = 0.0 %
    assert [(r["client_id"], r["billed_units"], r["units"], r["pct"]) for r in report.coverage] == [
        (msp.clients["A"].pk, D("5.00"), 11, D("45.5")), (msp.clients["B"].pk, D(0), 3, D("0.0"))]
    # February: workstation 300 + 200 and the proration 20 (dated 10 February) = 520; no backup
    feb = kpis.cross_sell(scope, FEB)
    assert (feb.value, feb.by_service[s["ws"].pk]) == (D("0.00"), {date(2026, 2, 1): D("520.00")})


def test_ticket_volume(msp) -> None:  # type: ignore[no-untyped-def]
    scope = owner_scope(msp)
    volume = kpis.ticket_volume(scope, MARCH)
    # opened in March: t1 t2 t3 t7 (A) and t4 (B); t5 was merged into t4 → 5
    # per day 5/31 = 0.16; per week 5×7/31 = 1.13; per month 5/1 = 5.00
    assert (volume.count, volume.per_day, volume.per_week, volume.per_month) == (5, D("0.16"), D("1.13"), D("5.00"))
    assert volume.by_client == [(msp.clients["A"].pk, 4), (msp.clients["B"].pk, 1)]
    assert kpis.ticket_volume(scope, FEB).count == 1  # t6
    days = dict(kpis.ticket_series(scope, MARCH, "day"))
    assert (len(days), days[date(2026, 3, 2)], days[date(2026, 3, 3)]) == (31, 1, 0)
    weeks = kpis.ticket_series(scope, MARCH, "week")
    # weeks start on Monday: 23 Feb (t1 on Mon 2 March belongs to the week of 2 March), 2, 9, 16, 23, 30 March
    assert weeks == [(date(2026, 2, 23), 0), (date(2026, 3, 2), 2), (date(2026, 3, 9), 2),
                     (date(2026, 3, 16), 0), (date(2026, 3, 23), 1), (date(2026, 3, 30), 0)]


def test_billed_hours_per_client(msp) -> None:  # type: ignore[no-untyped-def]
    rows = kpis.billed_hours(owner_scope(msp), MARCH)
    # A: 90 min at 80 = 120.00 + 45 min at 75 = 56.25 → 135 min = 2.25 h, 176.25 (covered, pending and
    # non-billable time excluded); B: 50 min at 70 = 58.33 → 0.83 h
    assert [(r.key_id, r.minutes, r.hours, r.amount) for r in rows] == [
        (msp.clients["A"].pk, 135, D("2.25"), D("176.25")), (msp.clients["B"].pk, 50, D("0.83"), D("58.33"))]


def test_revenue_per_technician(msp) -> None:  # type: ignore[no-untyped-def]
    report = kpis.revenue_per_technician(owner_scope(msp), MARCH)
    # invoiced in March: A 370 + B 150 + C 400 = 920 (void and draft left out); 2 technicians logged time
    # (tech1, tech2) → 460.00
    assert (report.revenue, report.technicians, report.average) == (D("920.00"), 2, D("460.00"))
    assert [(r.key_id, r.amount) for r in report.rows] == [(msp.users["tech1"].pk, D("176.25")),
                                                           (msp.users["tech2"].pk, D("58.33"))]
    # February: 300 + 200 + 100 = 600 / 1 technician
    assert kpis.revenue_per_technician(owner_scope(msp), FEB).average == D("600.00")


def test_tasks_per_technician_and_imbalance(msp) -> None:  # type: ignore[no-untyped-def]
    load = kpis.tasks_per_technician(owner_scope(msp), MARCH)
    u = msp.users
    # tech1 3 tickets (t1 t2 t3), tech2 1 (t4; t5 merged), tech3 0; shares of 4: 75 %, 25 %, 0 %
    assert [(r[0], r[2], r[3]) for r in load.rows] == [(u["tech1"].pk, 3, D("75.0")), (u["tech2"].pk, 1, D("25.0")),
                                                       (u["tech3"].pk, 0, D("0.0"))]
    # mean 4/3 = 1.33; variance ((5/3)² + (1/3)² + (4/3)²)/3 = 14/9, sd = √14/3 = 1.25; cv = √14/4 = 0.935 > 0.5
    assert (load.mean, load.stdev, load.cv, load.imbalanced) == (D("1.33"), D("1.25"), D("0.935"), True)


def test_average_handling_time(msp) -> None:  # type: ignore[no-untyped-def]
    report = kpis.handling_time(owner_scope(msp), MARCH)
    # resolved in March: t1 4 h, t2 24 h, t4 2 h, t6 96 h (opened 25 Feb) → 126 / 4 = 31.50 h
    assert (report.count, report.average_hours) == (4, D("31.50"))
    c = msp.clients
    assert report.by_client == [(c["A"].pk, 2, D("14.00")), (c["B"].pk, 1, D("2.00")), (c["C"].pk, 1, D("96.00"))]
    assert kpis.handling_time(owner_scope(msp), FEB).average_hours is None  # nothing resolved: N/A, not 0


def test_sla_attainment(msp) -> None:  # type: ignore[no-untyped-def]
    report = kpis.sla_attainment(owner_scope(msp), MARCH)
    # resolution: t1 met, t2 missed, t4 met, t6 met → 3/4 = 75.0 %; first response: t1 met, t2 missed → 50.0 %
    assert (report.resolution_pct, report.response_pct) == (D("75.0"), D("50.0"))
    c = msp.clients
    assert report.by_client == [(c["A"].pk, 1, 2, D("50.0")), (c["B"].pk, 1, 1, D("100.0")),
                                (c["C"].pk, 1, 1, D("100.0"))]
    assert kpis.sla_attainment(owner_scope(msp), FEB).resolution_pct is None


def test_survey_scores(msp) -> None:  # type: ignore[no-untyped-def]
    report = kpis.survey_scores(owner_scope(msp), MARCH)
    # answered in March: (5,4,5), (3,3,2), (4,4,4): professionalism 12/3 = 4.00, accuracy 11/3 = 3.67,
    # speed 11/3 = 3.67, overall 34/9 = 3.78; 4 surveys sent in March → response rate 3/4 = 75.0 %
    assert (report.answered, report.sent, report.professionalism, report.accuracy, report.speed, report.overall,
            report.response_rate) == (3, 4, D("4.00"), D("3.67"), D("3.67"), D("3.78"), D("75.0"))
    # per technician: tech2 12/3 = 4.00, tech1 (14 + 8)/6 = 3.67
    assert report.by_technician == [(msp.users["tech2"].pk, 1, D("4.00")), (msp.users["tech1"].pk, 2, D("3.67"))]


def test_dashboard_figures_with_previous_period(msp) -> None:  # type: ignore[no-untyped-def]
    figures = {f.key: f for f in kpis.dashboard(owner_scope(msp), MARCH)}
    assert list(figures) == list(kpis.FIGURES)
    pairs = {key: (f.value, f.previous) for key, f in figures.items()}
    assert pairs == {
        "average_deal_value": (D("1900.00"), D("120.00")),
        "new_contracts": (2, 1),
        "mrr": (D("900.00"), D("600.00")),
        "upsell": (D("50.00"), D("0.00")),
        "managed_growth": (12, 11),
        "cross_sell": (D("50.00"), D("0.00")),
        "salespeople": (D("3400.00"), D("120.00")),
        "ticket_volume": (5, 1),
        "billed_hours": (D("3.08"), D("1.00")),  # 185 min = 3.08 h; February: t6's 60 min
        "revenue_per_technician": (D("460.00"), D("600.00")),
        "tasks_per_technician": (D("0.935"), D("1.414")),  # February: t6 is tech2's only ticket
        "handling_time": (D("31.50"), None),
        "sla": (D("75.0"), None),
        "surveys": (D("3.78"), None),
    }
    # 12-month series ending in March 2026: MRR Jan 500, Feb 600, Mar 900
    mrr = dict(figures["mrr"].series)
    assert (len(mrr), mrr["2026-01"], mrr["2026-02"], mrr["2026-03"], mrr["2025-12"]) == (
        12, D("500.00"), D("600.00"), D("900.00"), D("0.00"))
    assert dict(figures["handling_time"].series)["2026-03"] == D("31.50")
    assert dict(figures["sla"].series)["2026-03"] == D("75.0")
    assert dict(figures["ticket_volume"].series)["2026-02"] == 1


def test_tasks_cv_previous_month(msp) -> None:  # type: ignore[no-untyped-def]
    load = kpis.tasks_per_technician(owner_scope(msp), FEB)
    # counts 1, 0, 0: mean 1/3, sd √2/3, cv √2 = 1.414
    assert load.cv == D("1.414")


def test_service_manager_reads_service_kpis_only(msp) -> None:  # type: ignore[no-untyped-def]
    scope = kpis.kpi_scope(msp.users["service"])
    assert kpis.visible_keys(scope) == ["managed_growth", "ticket_volume", "billed_hours", "tasks_per_technician",
                                        "handling_time", "sla", "surveys"]
    for revenue_kpi in (kpis.average_deal_value, kpis.mrr_report, kpis.upsell, kpis.new_contracts,
                        kpis.cross_sell, kpis.per_salesperson, kpis.revenue_per_technician):
        with pytest.raises(PermissionDenied):
            revenue_kpi(scope, MARCH)
    with pytest.raises(PermissionDenied):
        kpis.figure(scope, "mrr", MARCH)
    assert kpis.ticket_volume(scope, MARCH).count == 5


def test_account_manager_reads_own_pipeline_only(msp) -> None:  # type: ignore[no-untyped-def]
    scope = kpis.kpi_scope(msp.users["sales1"])  # Anne: clients A and B, her own deals
    assert kpis.visible_keys(scope) == ["average_deal_value", "new_contracts", "mrr", "upsell", "managed_growth",
                                        "cross_sell", "salespeople", "revenue_per_technician"]
    # her deals won in March: 1700 + 600 → 1150.00
    assert kpis.average_deal_value(scope, MARCH).average == D("1150.00")
    assert [r.name for r in kpis.per_salesperson(scope, MARCH)] == ["Anne Alpha"]
    # MRR of A and B: 350 + 150 = 500; C's new 400 and D's churn are not hers
    report = kpis.mrr_report(scope, MARCH)
    assert (report.mrr, report.months[0].new, report.months[0].churn) == (D("500.00"), D("0.00"), D("0.00"))
    assert kpis.new_contracts(scope, MARCH).count == 0  # C's contracts are Bruno's client's
    # her clients' revenue: A 370 + B 150 = 520 / technicians who logged time on them (tech1, tech2) = 260.00
    assert kpis.revenue_per_technician(scope, MARCH).average == D("260.00")
    for service_kpi in (kpis.ticket_volume, kpis.billed_hours, kpis.sla_attainment, kpis.survey_scores):
        with pytest.raises(PermissionDenied):
            service_kpi(scope, MARCH)


def test_roles_without_kpis_are_refused(msp) -> None:  # type: ignore[no-untyped-def]
    for user in (msp.users["tech1"], make_portal_user(msp.clients["A"], "portal_admin")):
        with pytest.raises(PermissionDenied):
            kpis.kpi_scope(user)
    finance = kpis.kpi_scope(msp.users["finance"])
    assert kpis.visible_keys(finance) == list(kpis.FIGURES)


def test_dashboard_monthly_cache_agrees_with_the_direct_computation(msp) -> None:  # type: ignore[no-untyped-def]
    """The dashboard reads the service figures of whole-month periods from one grouped query per table; a
    quarter must give what the functions give for it directly (first quarter 2026: t6 opened in February)."""
    scope = owner_scope(msp)
    q1 = kpis.make_period("quarter", date(2026, 2, 1))
    figures = {f.key: f.value for f in kpis.dashboard(scope, q1)}
    assert figures["ticket_volume"] == kpis.ticket_volume(scope, q1).count == 6
    assert figures["handling_time"] == kpis.handling_time(scope, q1).average_hours == D("31.50")
    assert figures["sla"] == kpis.sla_attainment(scope, q1).resolution_pct == D("75.0")
    assert figures["surveys"] == kpis.survey_scores(scope, q1).overall == D("3.78")
    # billed: March 185 min + February 60 min = 245 min = 4.08 h
    assert figures["billed_hours"] == D("4.08")
    # tasks in the quarter: tech1 3, tech2 2 (t4, t6), tech3 0 → mean 5/3, variance ((4/3)² + (1/3)² + (5/3)²)/3
    # = 14/9, cv = (√14/3) / (5/3) = √14/5 = 0.748
    assert figures["tasks_per_technician"] == kpis.tasks_per_technician(scope, q1).cv == D("0.748")
