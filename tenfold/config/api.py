"""The REST API: /api/v1/, OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from tenfold.accounts.api import router as accounts_router
from tenfold.accounts.auth import ApiKeyAuth, SessionAuth
from tenfold.assets.api import discovered_router, import_router, licences_router, tags_router
from tenfold.assets.api import router as devices_router
from tenfold.automation import api as automation_api
from tenfold.automation import patch_script_api as automation_patch_script_api
from tenfold.automation import release_api as automation_release_api
from tenfold.billing import api as billing_api
from tenfold.billing import money_api as billing_money_api
from tenfold.catalog.api import router as catalog_router
from tenfold.clients.api import contacts_router, sites_router
from tenfold.clients.api import router as clients_router
from tenfold.contracts import api as contracts_api
from tenfold.core.errors import TenfoldError
from tenfold.knowledge import api as knowledge_api
from tenfold.monitoring import api as monitoring_api
from tenfold.patching import api as patching_api
from tenfold.people import api as people_api
from tenfold.reporting import api as reporting_api
from tenfold.reporting import kpi_api as reporting_kpi_api
from tenfold.sales import api as sales_api
from tenfold.servicedesk import api as servicedesk_api
from tenfold.servicedesk import email_api as servicedesk_email_api

api = NinjaAPI(
    title="Tenfold API",
    version="1",
    description=(
        "The REST API of Tenfold. Authenticate with `Authorization: Bearer <token>` (create a personal "
        "token under *Your account → API tokens*). Read-only tokens may only use GET. Lists are paginated "
        "with `page` and `page_size`. Errors are `{\"code\": ..., \"message\": ...}` with a 4xx status; "
        "records of clients you may not see answer 404, exactly as records that do not exist."
    ),
    auth=[ApiKeyAuth(), SessionAuth()],
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


@api.exception_handler(TenfoldError)
def on_domain_error(request: HttpRequest, exc: TenfoldError) -> HttpResponse:
    response = api.create_response(request, exc.as_body(), status=exc.status)
    for header, value in getattr(exc, "headers", {}).items():  # e.g. Retry-After on 429
        response[header] = value
    return response


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        loc = [str(p) for p in error.get("loc", []) if p not in ("body", "payload", "query", "path")]
        errors.setdefault(".".join(loc) or "__all__", []).append(str(error.get("msg", "invalid")))
    body = {"code": "validation_error", "message": _("Some fields are not valid."), "errors": errors}
    return api.create_response(request, body, status=422)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    body = {"code": "not_authenticated", "message": _("Authentication required: send a valid Bearer token.")}
    return api.create_response(request, body, status=401)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"code": "not_found", "message": _("Not found.")}, status=404)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = {400: "bad_request", 403: "permission_denied", 405: "method_not_allowed",
            413: "request_too_large"}.get(exc.status_code, "error")
    return api.create_response(request, {"code": code, "message": str(exc)}, status=exc.status_code)


@api.exception_handler(OverflowError)
def on_number_too_large(request: HttpRequest, exc: OverflowError) -> HttpResponse:
    # An id or number beyond what the database stores (e.g. ?client_id=2**64 on SQLite's 64-bit integers): the
    # request is wrong, not the server; the service's transaction was rolled back when the error crossed it.
    body = {"code": "validation_error", "message": _("A number in the request is too large.")}
    return api.create_response(request, body, status=422)


@api.exception_handler(RequestDataTooBig)
def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return api.create_response(request, {"code": "request_too_large", "message": str(exc)}, status=413)


api.add_router("/clients", clients_router)
api.add_router("/sites", sites_router)
api.add_router("/contacts", contacts_router)
api.add_router("/devices", devices_router)
api.add_router("/discovered-devices", discovered_router)
api.add_router("/licences", licences_router)
api.add_router("/tags", tags_router)
api.add_router("/clients", import_router)
api.add_router("/policies", monitoring_api.policies_router)
api.add_router("/checks", monitoring_api.checks_router)
api.add_router("/alerts", monitoring_api.alerts_router)
api.add_router("/maintenance-windows", monitoring_api.windows_router)
api.add_router("/devices", monitoring_api.devices_router)
api.add_router("/clients", monitoring_api.clients_router)
api.add_router("/updates", patching_api.updates_router)
api.add_router("/device-updates", patching_api.device_updates_router)
api.add_router("/update-decisions", patching_api.decisions_router)
api.add_router("/approval-policies", patching_api.policies_router)
api.add_router("/patch-report", patching_api.report_router)
api.add_router("/catalog", catalog_router)
api.add_router("/contracts", contracts_api.router)
api.add_router("/contract-addons", contracts_api.addons_router)
api.add_router("/contract-coverage", contracts_api.coverage_router)
api.add_router("/contract-addenda", contracts_api.addenda_router)
api.add_router("/sla-policies", contracts_api.sla_router)
api.add_router("/business-calendars", contracts_api.calendars_router)
api.add_router("/rounding-rules", contracts_api.rounding_router)
api.add_router("/projects", contracts_api.projects_router)
api.add_router("/project-tasks", contracts_api.tasks_router)
api.add_router("/milestones", contracts_api.milestones_router)
api.add_router("/runbooks", knowledge_api.router)
api.add_router("/client-docs", knowledge_api.docs_router)
api.add_router("/vault", knowledge_api.vault_router)
api.add_router("/search", knowledge_api.search_router)
api.add_router("/tickets", servicedesk_api.router)
api.add_router("/ticket-checklist", servicedesk_api.checklist_router)
api.add_router("/time-entries", servicedesk_api.time_router)
api.add_router("/queues", servicedesk_api.queues_router)
api.add_router("/ticket-templates", servicedesk_api.templates_router)
api.add_router("/recurring-tickets", servicedesk_api.recurring_router)
api.add_router("/email", servicedesk_email_api.email_router)
api.add_router("/surveys", servicedesk_email_api.surveys_router)
api.add_router("/deals", sales_api.deals_router)
api.add_router("/leads", sales_api.leads_router)
api.add_router("/quotes", sales_api.quotes_router)
api.add_router("/billing-runs", billing_api.runs_router)
api.add_router("/invoices", billing_api.invoices_router)
api.add_router("/invoice-lines", billing_api.lines_router)
api.add_router("/payments", billing_money_api.payments_router)
api.add_router("/billing-reports", billing_money_api.reports_router)
api.add_router("/billing-exports", billing_money_api.exports_router)
api.add_router("/signing-keys", automation_api.keys_router)
api.add_router("/scripts", automation_api.scripts_router)
api.add_router("/script-versions", automation_api.versions_router)
api.add_router("/script-runs", automation_api.runs_router)
api.add_router("/runs", automation_api.batches_router)
api.add_router("/device-groups", automation_api.groups_router)
api.add_router("/scheduled-runs", automation_api.scheduled_router)
api.add_router("/agent-releases", automation_release_api.router)
api.add_router("/workflows", automation_api.workflows_router)
api.add_router("/workflow-runs", automation_api.workflow_runs_router)
api.add_router("/webhooks", automation_api.webhooks_router)
api.add_router("/patch-policies", automation_patch_script_api.router)
api.add_router("/people", people_api.router)
api.add_router("/kpis", reporting_kpi_api.kpis_router)
api.add_router("/forecasts", reporting_kpi_api.forecasts_router)
api.add_router("/inventory-reports", reporting_kpi_api.inventory_router)
api.add_router("/report-subscriptions", reporting_kpi_api.subscriptions_router)
api.add_router("/scorecards", reporting_api.scorecards_router)
api.add_router("/qbr-meetings", reporting_api.meetings_router)
api.add_router("/qbr-action-items", reporting_api.items_router)
api.add_router("/qbr-decks", reporting_api.decks_router)
api.add_router("/", accounts_router)
