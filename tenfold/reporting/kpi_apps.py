"""Start-up registrations of the KPI, forecast and inventory side of reporting (called from ReportingConfig.ready())."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    """Navigation entries, the daily delivery of scheduled reports and its outbox handler."""
    from tenfold.core import events, navigation, scheduler
    from tenfold.reporting import inventory

    navigation.register(navigation.NavItem("kpis", _("KPIs"), "reporting:kpi_dashboard", "kpis", order=70))
    navigation.register(navigation.NavItem(
        "inventory-reports", _("Inventory reports"), "reporting:inventory_index", "devices", order=72,
        visible=lambda user: not getattr(user, "is_portal", True)))
    # The client portal's inventory report: portal administrators (devices: R own); portal users have no entry.
    navigation.register(navigation.NavItem("portal-inventory", _("Our inventory"), "portal:inventory_report",
                                           "devices", order=45, portal=True))
    events.register("report.send_requested", "reporting.send_report", inventory.on_report_send_requested)
    # Every day at 07:00: the subscriptions due that day are claimed and sent.
    scheduler.register_builtin(scheduler.BuiltinSchedule(
        "reporting.send_due_reports", "tenfold.reporting.inventory.send_due_reports", "0 7 * * *"))
