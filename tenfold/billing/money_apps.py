"""Start-up registrations of the payments side of billing (called from BillingConfig.ready())."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    """Navigation: the payments screens for staff, the invoices page for portal administrators."""
    from tenfold.core import navigation

    navigation.register(navigation.NavItem("payments", _("Payments"), "billing:payment_list", "invoices", order=51))
    navigation.register(navigation.NavItem("portal-invoices", _("Invoices"), "portal:invoice_list", "invoices",
                                           order=25, portal=True))
