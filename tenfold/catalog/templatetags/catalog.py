"""Money and percentages in the catalog screens, in the reader's language."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import number_format

register = template.Library()

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF", "CAD": "$"}


def _number(value: Decimal, places: int) -> str:
    return number_format(value, places, use_l10n=True, force_grouping=True)


@register.filter
def money(value: Any, currency: str = "EUR") -> str:
    """`{{ amount|money:currency }}` → "1,234.50 €" (the reader's separators)."""
    if value is None or value == "":
        return "—"
    return f"{_number(Decimal(value), 2)}\u00a0{SYMBOLS.get(currency, currency)}"


@register.filter
def signed_money(value: Any, currency: str = "EUR") -> str:
    """Money with its sign always shown: "+12.00 €", "−3.50 €"."""
    if value is None or value == "":
        return "—"
    amount = Decimal(value)
    sign = "+" if amount >= 0 else "−"
    return f"{sign}{money(abs(amount), currency)}"


@register.filter
def pct(value: Any, signed: bool = False) -> str:
    """A percentage to one decimal: "12.5 %" (or "+12.5 %" when signed); "—" for None."""
    if value is None or value == "":
        return "—"
    amount = Decimal(value)
    text = f"{_number(abs(amount) if signed else amount, 1)}\u00a0%"
    if signed:
        return ("+" if amount >= 0 else "−") + text
    return text


@register.filter
def quantity(value: Any) -> str:
    """A quantity without trailing zeros: 20, 1.5."""
    amount = Decimal(value)
    places = 0 if amount == amount.to_integral_value() else 2
    return _number(amount, places)


@register.filter
def symbol(currency: str) -> str:
    """The currency's symbol (€ for EUR), or its code."""
    return SYMBOLS.get(currency, currency)


@register.filter
def previous_tier(rungs: list[Any], index: int) -> str:
    """The tier label of the rung before `index` in a ladder."""
    if index < 1 or index > len(rungs):
        return ""
    return str(rungs[index - 1].plan.get_tier_display())
