from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    name = "tenfold.reporting"
    label = "reporting"
    verbose_name = _("Reporting")

    def ready(self) -> None:
        from tenfold.core import navigation, scheduler

        navigation.register(navigation.NavItem("scorecards", _("Scorecards"), "reporting:portfolio", "scorecards",
                                               order=60))
        navigation.register(navigation.NavItem("portal-scorecard", _("Our scorecard"), "portal:scorecard",
                                               "scorecards", order=40, portal=True))
        # Snapshots of the closed quarter and month, taken just after each period ends (and again daily as a
        # safety net: a kept snapshot is never rewritten).
        scheduler.register_builtin(scheduler.BuiltinSchedule(
            "reporting.snapshot_closed_periods", "tenfold.reporting.tasks.snapshot_closed_periods", "17 2 * * *"))
        from tenfold.reporting import kpi_apps  # KPIs, forecasts, inventory reports

        kpi_apps.register()
