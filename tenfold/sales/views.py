"""Sales screens: deals (list, pipeline, detail, forms), leads, quotes with their PDF. Parse, check access, call a
service, render; a record is fetched before the role is checked, so another client's is a 404."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Value
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from tenfold.catalog.pricing import money as pricing_money
from tenfold.catalog.templatetags.catalog import money
from tenfold.clients.selectors import access_client, clients_visible
from tenfold.core.errors import PermissionDenied, TenfoldError, ValidationError
from tenfold.core.lists import ChoiceFilter, Column, ListSpec, render_list
from tenfold.core.roles import Role, has_capability, require
from tenfold.core.selectors import organization
from tenfold.core.tenancy import get_visible
from tenfold.sales import selectors, services
from tenfold.sales.forms import (
    AddOnForm,
    CloseForm,
    ConvertForm,
    DealForm,
    ItemForm,
    LeadForm,
    QuoteForm,
    ReasonForm,
    add_service_errors,
)
from tenfold.sales.models import Deal, DealSource, DealStage, LeadStatus, QuoteAddOn, QuoteItem, QuoteStatus
from tenfold.sales.pdf import quote_pdf


def _currency() -> str:
    return organization().currency


def _owners(request: HttpRequest) -> list[tuple[str, Any]]:
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(owned_deals__isnull=False).distinct().order_by("first_name", "last_name")
    return [(str(u.pk), str(u)) for u in users]


def _clients(request: HttpRequest) -> list[tuple[str, Any]]:
    return [(str(pk), name) for pk, name in clients_visible(request.user).order_by("name").values_list("pk", "name")]


DEAL_LIST = ListSpec(
    columns=[
        Column("title", gettext_lazy("Deal"), sort="title", link=lambda d: reverse("sales:deal_detail", args=[d.pk])),
        Column("client", gettext_lazy("Client"), sort="client__name"),
        Column("stage", gettext_lazy("Stage"), sort="stage", badge=True),
        Column("owner", gettext_lazy("Owner"), sort="owner__last_name"),
        Column("monthly_value", gettext_lazy("Monthly"), sort="monthly_value",
               accessor=lambda d: money(d.monthly_value, d.currency_code)),
        Column("one_off_value", gettext_lazy("One-off"), sort="one_off_value",
               accessor=lambda d: money(d.one_off_value, d.currency_code)),
        Column("close_date", gettext_lazy("Close date"), sort="close_date"),
        Column("source", gettext_lazy("Source")),
    ],
    search_fields=["title", "client__name", "notes"],
    filters=[ChoiceFilter("stage", gettext_lazy("Stage"), "stage", lambda r: list(DealStage.choices)),
             ChoiceFilter("owner", gettext_lazy("Owner"), "owner_id", _owners),
             ChoiceFilter("client", gettext_lazy("Client"), "client_id", _clients),
             ChoiceFilter("source", gettext_lazy("Source"), "source", lambda r: list(DealSource.choices))],
    default_sort="close_date",
)

LEAD_LIST = ListSpec(
    columns=[
        Column("title", gettext_lazy("Lead"), sort="title", link=lambda x: reverse("sales:lead_detail", args=[x.pk])),
        Column("client", gettext_lazy("Client"), sort="client__name"),
        Column("status", gettext_lazy("Status"), sort="status", badge=True),
        Column("technician", gettext_lazy("Technician"), sort="technician__last_name",
               accessor=lambda x: x.technician or "—"),
        Column("source", gettext_lazy("Source")),
        Column("created_at", gettext_lazy("Created"), sort="created_at", accessor=lambda x: x.created_at.date()),
    ],
    search_fields=["title", "note", "client__name"],
    filters=[ChoiceFilter("status", gettext_lazy("Status"), "status", lambda r: list(LeadStatus.choices)),
             ChoiceFilter("client", gettext_lazy("Client"), "client_id", _clients)],
    default_sort="-created_at",
)

QUOTE_LIST = ListSpec(
    columns=[
        Column("number", gettext_lazy("Number"), sort="number",
               link=lambda q: reverse("sales:quote_detail", args=[q.pk])),
        Column("client", gettext_lazy("Client"), sort="client__name"),
        Column("deal", gettext_lazy("Deal"), sort="deal__title"),
        Column("offering", gettext_lazy("Offering")),
        Column("status", gettext_lazy("Status"), sort="status", badge=True),
        Column("valid_until", gettext_lazy("Valid until"), sort="valid_until"),
    ],
    search_fields=["number", "client__name", "deal__title"],
    filters=[ChoiceFilter("status", gettext_lazy("Status"), "status", lambda r: list(QuoteStatus.choices)),
             ChoiceFilter("client", gettext_lazy("Client"), "client_id", _clients)],
    default_sort="-created_at",
)


def _staff_only(request: HttpRequest) -> None:
    # Portal administrators read their quotes in the portal, not here. Called after the fetch, so another
    # client's record stays a 404.
    if getattr(request.user, "is_portal", True):
        raise PermissionDenied()


def _form_page(request: HttpRequest, form: Any, *, title: str, cancel_url: str, **extra: Any) -> HttpResponse:
    return render(request, "sales/form.html", {"form": form, "title": title, "cancel_url": cancel_url, **extra})


def _error_message(request: HttpRequest, exc: TenfoldError) -> None:
    if exc.status in (403, 404):
        raise exc
    details = [m for messages_ in (exc.errors or {}).values() for m in messages_]
    messages.error(request, " ".join(details) if details else str(exc.message))


# --- Deals ---------------------------------------------------------------------------------------------------


@login_required
def deal_list(request: HttpRequest) -> HttpResponse:
    """Every visible deal: searchable, filterable by stage, owner, client and source, sortable, paginated."""
    _staff_only(request)
    # The currency is read once, not per cell.
    queryset = selectors.deals_visible(request.user).annotate(currency_code=Value(_currency()))
    return render_list(request, queryset, DEAL_LIST, template="sales/deal_list.html",
                       context={"can_add": selectors.can_sell(request.user, "add")})


@login_required
def deal_pipeline(request: HttpRequest) -> HttpResponse:
    """Open deals by stage, with each stage's expected values."""
    _staff_only(request)
    return render(request, "sales/pipeline.html", {"columns": selectors.pipeline(request.user),
                                                   "currency": _currency(),
                                                   "can_add": selectors.can_sell(request.user, "add")})


@login_required
@require_http_methods(["GET", "POST"])
def deal_create(request: HttpRequest) -> HttpResponse:
    """New deal form."""
    _staff_only(request)
    selectors.require_selling(request.user, "add")
    initial = {"client": request.GET.get("client")} if request.GET.get("client", "").isdigit() else {}
    form = DealForm(request.POST or None, clients=clients_visible(request.user), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            client = access_client(request.user, form.cleaned_data["client"].pk)
            deal = services.deal_create(actor=request.user, client=client, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Deal “%(title)s” created.") % {"title": deal.title})
            return redirect("sales:deal_detail", deal_id=deal.pk)
    return _form_page(request, form, title=_("New deal"), cancel_url=reverse("sales:deal_list"))


@login_required
def deal_detail(request: HttpRequest, deal_id: int) -> HttpResponse:
    """A deal: its figures, stage, lead, quotes and contract."""
    deal = selectors.access_deal(request.user, deal_id)
    _staff_only(request)
    return render(request, "sales/deal_detail.html", {
        "deal": deal, "quotes": selectors.quotes_of_deal(deal), "currency": _currency(),
        "can_change": selectors.can_sell(request.user, "change") and deal.is_open,
        "close_form": CloseForm(),
    })


@login_required
@require_http_methods(["GET", "POST"])
def deal_edit(request: HttpRequest, deal_id: int) -> HttpResponse:
    """Edit an open deal."""
    deal = selectors.access_deal(request.user, deal_id)
    _staff_only(request)
    selectors.require_selling(request.user, "change")
    form = DealForm(request.POST or None, instance=deal, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.deal_update(actor=request.user, deal=deal, data=form.service_data())
        except TenfoldError as exc:
            if exc.status in (403, 404):
                raise
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Deal saved."))
            return redirect("sales:deal_detail", deal_id=deal.pk)
    return _form_page(request, form, title=_("Edit %(title)s") % {"title": deal.title},
                      cancel_url=reverse("sales:deal_detail", args=[deal.pk]))


@login_required
@require_POST
def deal_close(request: HttpRequest, deal_id: int) -> HttpResponse:
    """Close a deal as won or lost, with the reason."""
    deal = selectors.access_deal(request.user, deal_id)
    _staff_only(request)
    selectors.require_selling(request.user, "change")
    form = CloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose won or lost."))
    else:
        try:
            services.deal_close(actor=request.user, deal=deal, outcome=form.cleaned_data["outcome"],
                                reason=form.cleaned_data["reason"])
        except TenfoldError as exc:
            _error_message(request, exc)
        else:
            messages.success(request, _("Deal closed."))
    return redirect("sales:deal_detail", deal_id=deal.pk)


# --- Leads ---------------------------------------------------------------------------------------------------


@login_required
def lead_list(request: HttpRequest) -> HttpResponse:
    """Every visible lead; open ones first by default filter."""
    _staff_only(request)
    return render_list(request, selectors.leads_visible(request.user), LEAD_LIST, template="sales/lead_list.html",
                       context={"can_add": has_capability(request.user, "deals", "add")})


@login_required
@require_http_methods(["GET", "POST"])
def lead_create(request: HttpRequest) -> HttpResponse:
    """New lead (technicians included: they are credited with it)."""
    _staff_only(request)
    services.require_leads(request.user, "add")
    form = LeadForm(request.POST or None, clients=clients_visible(request.user))
    if getattr(request.user, "role", "") == Role.TECHNICIAN:
        del form.fields["technician"]
    if request.method == "POST" and form.is_valid():
        try:
            client = access_client(request.user, form.cleaned_data["client"].pk)
            lead = services.lead_create(actor=request.user, client=client, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Lead recorded."))
            return redirect("sales:lead_detail", lead_id=lead.pk)
    return _form_page(request, form, title=_("New lead"), cancel_url=reverse("sales:lead_list"))


@login_required
def lead_detail(request: HttpRequest, lead_id: int) -> HttpResponse:
    """A lead, its ticket and technician; convert or dismiss it."""
    lead = selectors.access_lead(request.user, lead_id)
    _staff_only(request)
    deal = Deal.objects.filter(lead=lead).first()
    return render(request, "sales/lead_detail.html", {
        "lead": lead, "deal": deal, "can_act": selectors.can_sell(request.user, "change")
        and lead.status == LeadStatus.OPEN, "dismiss_form": ReasonForm(),
        "can_see_ticket": has_capability(request.user, "tickets", "view")})


@login_required
@require_http_methods(["GET", "POST"])
def lead_convert(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Turn a lead into a deal."""
    lead = selectors.access_lead(request.user, lead_id)
    _staff_only(request)
    selectors.require_selling(request.user, "add")
    form = ConvertForm(request.POST or None, initial={
        "title": lead.title, "close_date": timezone.localdate() + timedelta(days=30)})
    if request.method == "POST" and form.is_valid():
        try:
            deal = services.lead_convert(actor=request.user, lead=lead, data=dict(form.cleaned_data))
        except TenfoldError as exc:
            if exc.status in (403, 404):
                raise
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Lead converted into a deal."))
            return redirect("sales:deal_detail", deal_id=deal.pk)
    return _form_page(request, form, title=_("Convert lead %(title)s") % {"title": lead.title},
                      cancel_url=reverse("sales:lead_detail", args=[lead.pk]))


@login_required
@require_POST
def lead_dismiss(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Dismiss a lead with its reason."""
    lead = selectors.access_lead(request.user, lead_id)
    _staff_only(request)
    selectors.require_selling(request.user, "change")
    form = ReasonForm(request.POST)
    form.is_valid()
    try:
        services.lead_dismiss(actor=request.user, lead=lead, reason=form.cleaned_data.get("reason", ""))
    except TenfoldError as exc:
        _error_message(request, exc)
    else:
        messages.success(request, _("Lead dismissed."))
    return redirect("sales:lead_detail", lead_id=lead.pk)


# --- Quotes --------------------------------------------------------------------------------------------------


@login_required
def quote_list(request: HttpRequest) -> HttpResponse:
    """Every visible quote."""
    _staff_only(request)
    return render_list(request, selectors.quotes_visible(request.user), QUOTE_LIST, template="sales/quote_list.html")


@login_required
@require_http_methods(["GET", "POST"])
def quote_create(request: HttpRequest, deal_id: int) -> HttpResponse:
    """A new quote for a deal, its unit counts taken from the client's live counts."""
    deal = selectors.access_deal(request.user, deal_id)
    _staff_only(request)
    selectors.require_selling(request.user, "add")
    counts = selectors.live_counts(deal.client)
    initial: dict[str, Any] = {name: getattr(counts, name) for name in ("workstations", "servers",
                                                                         "network_devices", "mobiles", "users",
                                                                         "sites")}
    today = timezone.localdate()
    initial.update(valid_until=today + timedelta(days=services.QUOTE_VALIDITY_DAYS),
                   start_date=(today.replace(day=1) + timedelta(days=32)).replace(day=1))
    form = QuoteForm(request.POST or None, client=deal.client, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            quote = services.quote_create(actor=request.user, deal=deal, data=form.service_data())
        except TenfoldError as exc:
            if exc.status in (403, 404):
                raise
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Quote %(number)s drafted.") % {"number": quote.number})
            return redirect("sales:quote_detail", quote_id=quote.pk)
    return _form_page(request, form, title=_("New quote for %(title)s") % {"title": deal.title},
                      cancel_url=reverse("sales:deal_detail", args=[deal.pk]),
                      live_counts=counts)


def document_context(quote: Any) -> dict[str, Any]:
    """What the quote document shows (the page, the portal page and the PDF share it)."""
    pricing = selectors.quote_pricing(quote)
    return {"quote": quote, "pricing": pricing, "currency": pricing.currency, "organization": organization(),
            "addons": list(quote.addons.select_related("service").order_by("service__name", "pk")),
            # Each amount rounded once to the cent, as pricing does for totals.
            "item_rows": [(item, pricing_money(line.revenue))
                          for item, line in zip(quote.items.order_by("pk"), pricing.one_off_lines, strict=True)],
            "tier_rows": _tier_rows(pricing)}


def _tier_rows(pricing: Any) -> list[dict[str, Any]]:
    """One row per service across the tiers, with each tier's line (or None when the tier lacks it)."""
    order: list[int] = []
    names: dict[int, str] = {}
    addon: dict[int, bool] = {}
    for tier in pricing.tiers:
        for line in tier.lines:
            if line.service_id not in names:
                order.append(line.service_id)
                names[line.service_id] = line.name
                addon[line.service_id] = line.is_addon
    rows = []
    for service_id in order:
        cells = [next((line for line in tier.lines if line.service_id == service_id), None)
                 for tier in pricing.tiers]
        rows.append({"name": names[service_id], "is_addon": addon[service_id], "cells": cells})
    return rows


@login_required
def quote_detail(request: HttpRequest, quote_id: int) -> HttpResponse:
    """A quote as the client will see it, with the staff's tools around it."""
    quote = selectors.access_quote(request.user, quote_id)
    _staff_only(request)
    can_change = selectors.can_sell(request.user, "change")
    return render(request, "sales/quote_detail.html", {
        **document_context(quote), "can_change": can_change and quote.is_draft,
        "can_answer": can_change and quote.status == QuoteStatus.SENT,
        "show_margin": has_capability(request.user, "catalog", "view"),
        "addon_form": AddOnForm(prefix="addon"), "item_form": ItemForm(prefix="item"),
        "decline_form": ReasonForm(prefix="decline")})


@login_required
@require_http_methods(["GET", "POST"])
def quote_edit(request: HttpRequest, quote_id: int) -> HttpResponse:
    """Change a draft quote's recipient, offering, dates and unit counts."""
    quote = selectors.access_quote(request.user, quote_id)
    _staff_only(request)
    selectors.require_selling(request.user, "change")
    form = QuoteForm(request.POST or None, instance=quote, client=quote.client)
    if request.method == "POST" and form.is_valid():
        try:
            services.quote_update(actor=request.user, quote=quote, data=form.service_data())
        except TenfoldError as exc:
            if exc.status in (403, 404):
                raise
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Quote saved."))
            return redirect("sales:quote_detail", quote_id=quote.pk)
    return _form_page(request, form, title=_("Edit quote %(number)s") % {"number": quote.number},
                      cancel_url=reverse("sales:quote_detail", args=[quote.pk]),
                      live_counts=selectors.live_counts(quote.client))


def _quote_action(request: HttpRequest, quote_id: int) -> Any:
    quote = selectors.access_quote(request.user, quote_id)
    _staff_only(request)
    selectors.require_selling(request.user, "change")
    return quote


@login_required
@require_POST
def quote_addon_add(request: HttpRequest, quote_id: int) -> HttpResponse:
    """Offer an add-on on a draft quote."""
    return _quote_add(request, quote_id, AddOnForm(request.POST, prefix="addon"), services.quote_addon_add,
                      _("Add-on added."))


def _quote_add(request: HttpRequest, quote_id: int, form: Any, add: Any, done: Any) -> HttpResponse:
    """Add what the form describes to a draft quote with `add(actor=, quote=, data=)`; back to the quote."""
    quote = _quote_action(request, quote_id)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    else:
        try:
            add(actor=request.user, quote=quote, data=form.service_data())
        except TenfoldError as exc:
            _error_message(request, exc)
        else:
            messages.success(request, done)
    return redirect("sales:quote_detail", quote_id=quote.pk)


@login_required
@require_POST
def quote_addon_remove(request: HttpRequest, addon_id: int) -> HttpResponse:
    """Take an add-on off a draft quote."""
    addon = get_visible(QuoteAddOn.objects.select_related("quote"), request.user, addon_id)
    quote = _quote_action(request, addon.quote_id)
    try:
        services.quote_addon_remove(actor=request.user, addon=addon)
    except TenfoldError as exc:
        _error_message(request, exc)
    return redirect("sales:quote_detail", quote_id=quote.pk)


@login_required
@require_POST
def quote_item_add(request: HttpRequest, quote_id: int) -> HttpResponse:
    """Add a one-off line to a draft quote."""
    return _quote_add(request, quote_id, ItemForm(request.POST, prefix="item"), services.quote_item_add,
                      _("One-off item added."))


@login_required
@require_POST
def quote_item_remove(request: HttpRequest, item_id: int) -> HttpResponse:
    """Take a one-off line off a draft quote."""
    item = get_visible(QuoteItem.objects.select_related("quote"), request.user, item_id)
    quote = _quote_action(request, item.quote_id)
    try:
        services.quote_item_remove(actor=request.user, item=item)
    except TenfoldError as exc:
        _error_message(request, exc)
    return redirect("sales:quote_detail", quote_id=quote.pk)


@login_required
@require_POST
def quote_send(request: HttpRequest, quote_id: int) -> HttpResponse:
    """Send a draft quote to the client's portal."""
    quote = _quote_action(request, quote_id)
    try:
        services.quote_send(actor=request.user, quote=quote)
    except TenfoldError as exc:
        _error_message(request, exc)
    else:
        messages.success(request, _("Quote sent: the client's portal administrators can accept it."))
    return redirect("sales:quote_detail", quote_id=quote.pk)


@login_required
@require_POST
def quote_accept(request: HttpRequest, quote_id: int) -> HttpResponse:
    """Accept a sent quote in one tier on the client's behalf: the deal is won and the contract made."""
    quote = _quote_action(request, quote_id)
    try:
        quote = services.quote_accept(actor=request.user, quote=quote, tier=request.POST.get("tier", ""))
    except TenfoldError as exc:
        _error_message(request, exc)
    else:
        number = quote.contract.number if quote.contract else ""
        messages.success(request, _("Quote accepted: contract %(number)s.") % {"number": number})
    return redirect("sales:quote_detail", quote_id=quote.pk)


@login_required
@require_POST
def quote_decline(request: HttpRequest, quote_id: int) -> HttpResponse:
    """Record that the client declined a sent quote."""
    quote = _quote_action(request, quote_id)
    form = ReasonForm(request.POST, prefix="decline")
    form.is_valid()
    try:
        services.quote_decline(actor=request.user, quote=quote, reason=form.cleaned_data.get("reason", ""))
    except TenfoldError as exc:
        _error_message(request, exc)
    else:
        messages.success(request, _("Quote marked as declined."))
    return redirect("sales:quote_detail", quote_id=quote.pk)


def pdf_response(request: HttpRequest, quote: Any) -> HttpResponse:
    """The quote's PDF as a download."""
    pdf = quote_pdf(document_context(quote), base_url=request.build_absolute_uri("/"))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{quote.number}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def quote_pdf_view(request: HttpRequest, quote_id: int) -> HttpResponse:
    """Download a quote as PDF (staff)."""
    quote = selectors.access_quote(request.user, quote_id)
    _staff_only(request)
    require(request.user, "deals", "view")
    return pdf_response(request, quote)

