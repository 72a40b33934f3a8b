from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "tenfold.billing"
    label = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from tenfold.billing import money_apps, services
        from tenfold.core import events, navigation, scheduler

        navigation.register(navigation.NavItem("billing", _("Billing"), "billing:invoice_list", "invoices",
                                               order=50))
        events.register("quote.accepted", "billing.one_off_charges_from_quote", services.on_quote_accepted)
        events.register("invoice.send_requested", "billing.send_invoice", services.on_invoice_send_requested)
        # The 1st of every month at 06:00: the month starting that day is billed in advance.
        scheduler.register_builtin(scheduler.BuiltinSchedule(
            "billing.monthly_run", "tenfold.billing.tasks.monthly_run", "0 6 1 * *"))
        money_apps.register()
