from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "tenfold.monitoring"
    label = "monitoring"
    verbose_name = _("Monitoring")

    def ready(self) -> None:
        from django.urls import reverse

        from tenfold.agents import hooks
        from tenfold.core import events, navigation, scheduler
        from tenfold.core.roles import has_capability
        from tenfold.monitoring import notifications, policies, services

        navigation.register(navigation.NavItem("alerts", _("Alerts"), "monitoring:alert_list", "devices", order=25))
        navigation.register(navigation.NavItem("policies", _("Policies"), "monitoring:policy_list", "policies",
                                               order=30))
        scheduler.register_builtin(scheduler.BuiltinSchedule(
            "monitoring.evaluate", "tenfold.monitoring.tasks.evaluate_monitoring", "* * * * *"))
        scheduler.register_builtin(scheduler.BuiltinSchedule(
            "monitoring.rollup", "tenfold.monitoring.tasks.rollup_history", "7 * * * *"))
        scheduler.register_builtin(scheduler.BuiltinSchedule(
            "monitoring.retention", "tenfold.monitoring.tasks.prune_raw_history", "37 3 * * *"))
        scheduler.register_builtin(scheduler.BuiltinSchedule(
            "monitoring.partitions", "tenfold.monitoring.tasks.maintain_partitions", "23 * * * *"))
        hooks.register_policy_provider(policies.policy_for_device)
        events.register("alert.raised", "monitoring.notify_critical", notifications.on_alert_raised)
        # A device's tags decide its tag policies: a change of tags invalidates the cached device policies.
        events.register("device.tags_changed", "monitoring.tags_changed", services.on_tags_changed)
        events.register("tag.deleted", "monitoring.tag_deleted", services.on_tags_changed)

        def open_alerts(user: Any) -> dict[str, Any] | None:
            if user.is_portal or not has_capability(user, "devices", "view"):
                return None
            from tenfold.monitoring.selectors import open_alert_count

            return {"label": _("Open alerts"), "value": open_alert_count(user),
                    "url": reverse("monitoring:alert_list") + "?status=open"}

        navigation.register_home_card(open_alerts)
