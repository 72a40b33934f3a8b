from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContractsConfig(AppConfig):
    name = "tenfold.contracts"
    label = "contracts"
    verbose_name = _("Contracts")

    def ready(self) -> None:
        from tenfold.contracts import services
        from tenfold.core import events, navigation, scheduler

        navigation.register(navigation.NavItem("contracts", _("Contracts"), "contracts:contract_list", "contracts",
                                               order=45))
        navigation.register(navigation.NavItem("projects", _("Projects"), "contracts:project_list", "contracts",
                                               order=46))
        navigation.register(navigation.NavItem("portal-contracts", _("Our contracts"), "contracts:contract_list",
                                               "contracts", order=20, portal=True))
        # Coverage follows the RMM: a device enrolled, added, moved through its lifecycle or imported.
        for name in ("device.enrolled", "device.created", "device.state_changed", "devices.imported",
                     "site.created"):
            events.register(name, f"contracts.coverage_follows_{name}", services.on_client_inventory_changed)
        scheduler.register_builtin(scheduler.BuiltinSchedule(
            "contracts.apply_addenda", "tenfold.contracts.tasks.apply_due_addenda", "5 * * * *"))
        scheduler.register_builtin(scheduler.BuiltinSchedule(
            "contracts.reconcile_coverage", "tenfold.contracts.tasks.reconcile_coverage", "23 */6 * * *"))
