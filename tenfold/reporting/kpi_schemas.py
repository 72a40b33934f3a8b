"""Schemas of the KPI, forecast and inventory report API (with OpenAPI examples)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from ninja import Field, Schema

from tenfold.core.api import InputSchema


class PeriodQuery(Schema):
    period: Literal["month", "quarter", "year", "custom"] = "month"
    start: date | None = Field(None, description="A day of the period (today by default); a custom period's "
                               "first day.", examples=["2026-03-01"])
    end: date | None = Field(None, description="A custom period's last day.", examples=["2026-03-31"])


class PeriodOut(Schema):
    kind: str = Field(examples=["month"])
    start: date = Field(examples=["2026-03-01"])
    end: date = Field(description="The last day of the period.", examples=["2026-03-31"])
    label: str = Field(examples=["2026-03"])


class FigureOut(Schema):
    key: str = Field(examples=["mrr"])
    title: str = Field(examples=["Monthly recurring revenue (MRR)"])
    unit: str = Field(description="money, count, hours, percent, score or decimal", examples=["money"])
    value: Decimal | None = Field(description="The period's figure; null when there is nothing to measure.",
                                  examples=["900.00"])
    previous: Decimal | None = Field(description="The previous period's figure.", examples=["600.00"])
    change: Decimal | None = Field(examples=["300.00"])
    note: str = Field(examples=[""])


class PointOut(Schema):
    label: str = Field(examples=["2026-03"])
    value: Decimal | None = Field(examples=["900.00"])


class TableOut(Schema):
    title: str = Field(examples=["MRR movements per month"])
    columns: list[str] = Field(examples=[["month", "mrr", "new", "expansion", "contraction", "churn", "clients"]])
    rows: list[dict[str, str | None]] = Field(examples=[[{"month": "2026-03", "mrr": "900.00", "new": "400.00",
                                                           "expansion": "50.00", "contraction": "50.00",
                                                           "churn": "100.00", "clients": "3"}]])


class DashboardOut(Schema):
    period: PeriodOut
    previous: PeriodOut
    figures: list[FigureOut]


class FigureDetailOut(Schema):
    period: PeriodOut
    previous: PeriodOut
    figure: FigureOut
    series: list[PointOut] = Field(description="The 12 months ending with the period (or the bars of a ranking).")
    tables: list[TableOut]
    records: TableOut
    records_total: int = Field(examples=[42])


class ForecastOut(Schema):
    client_id: int | None = Field(description="null for the total of all clients.", examples=[7])
    client: str = Field(examples=["Alpha Bakery"])
    metric: str = Field(examples=["tickets"])
    value: Decimal | None = Field(description="The next three months together (the last month for clients).",
                                  examples=["13.80"])
    months: list[Decimal | None] = Field(examples=[["3.60", "4.60", "5.60"]])
    method: str = Field(description="holt_winters, holt, mean or none", examples=["holt"])
    mae: Decimal | None = Field(description="Mean absolute error of the backtest on past quarters.",
                                examples=["6.00"])
    mape: Decimal | None = Field(description="Mean absolute percentage error of the backtest.", examples=["11.1"])
    quarters: int = Field(description="Past quarters backtested.", examples=[4])
    history: int = Field(description="Months of history used.", examples=[24])


class ForecastReportOut(Schema):
    starts: date = Field(description="First month forecast.", examples=["2026-04-01"])
    forecasts: list[ForecastOut]


class DeviceRowOut(Schema):
    id: int = Field(examples=[12])
    name: str = Field(examples=["A-WS1"])
    kind: str = Field(examples=["workstation"])
    state: str = Field(examples=["active"])
    managed: bool = Field(examples=[True])
    vendor: str = Field(examples=["Dell"])
    model: str = Field(examples=["OptiPlex 7010"])
    serial_number: str = Field(examples=["8XK2M3"])
    os_name: str = Field(examples=["Windows 11 Pro"])
    warranty_end: date | None = Field(examples=["2027-05-31"])


class SoftwareRowOut(Schema):
    name: str = Field(examples=["Microsoft 365 Apps"])
    publisher: str = Field(examples=["Microsoft"])
    versions: str = Field(examples=["16.0.1 – 16.0.4"])
    devices: int = Field(examples=[9])


class LicenceRowOut(Schema):
    product: str = Field(examples=["Microsoft 365 Business Standard"])
    publisher: str = Field(examples=["Microsoft"])
    owned: int = Field(examples=[8])
    installed: int = Field(examples=[9])
    difference: int = Field(description="Seats owned − installed; negative when under-licensed.", examples=[-1])
    expires_on: date | None = Field(examples=["2026-12-31"])


class InventoryOut(Schema):
    client_id: int = Field(examples=[7])
    client: str = Field(examples=["Alpha Bakery"])
    devices: list[DeviceRowOut]
    software: list[SoftwareRowOut]
    licences: list[LicenceRowOut]


# --- Report subscriptions -------------------------------------------------------------------------------------

ReportName = Literal["inventory", "patch"]
CadenceName = Literal["weekly", "monthly", "quarterly"]
FormatName = Literal["pdf", "csv"]
RECIPIENTS_DOC = ("E-mail addresses (at most 20): staff members who see the report's clients, or contacts of the "
                  "subscription's client. Any other address, such as another client's contact, is refused (422).")


class ReportSubscriptionIn(InputSchema):
    report: ReportName = Field("inventory", examples=["inventory"])
    client_id: int | None = Field(None, ge=1, le=2**63 - 1, description="null for a report of every client (staff "
                                  "who see every client only).", examples=[7])
    recipients: list[str] = Field(min_length=1, max_length=20, description=RECIPIENTS_DOC,
                                  examples=[["claire.martin@boulangerie-martin.example"]])
    cadence: CadenceName = Field("monthly", examples=["monthly"])
    format: FormatName = Field("pdf", examples=["pdf"])
    next_send_on: date = Field(description="The first delivery (today or later).", examples=["2026-12-01"])
    enabled: bool = Field(True, description="A disabled report is kept but not sent.")


class ReportSubscriptionPatch(InputSchema):
    report: ReportName | None = Field(None, examples=["patch"])
    recipients: list[str] | None = Field(None, min_length=1, max_length=20, description=RECIPIENTS_DOC)
    cadence: CadenceName | None = Field(None, examples=["weekly"])
    format: FormatName | None = Field(None, examples=["csv"])
    next_send_on: date | None = Field(None, description="The next delivery (today or later when changed).")
    enabled: bool | None = Field(None, examples=[False])


class ReportSubscriptionOut(Schema):
    id: int = Field(examples=[3])
    report: str = Field(examples=["inventory"])
    client_id: int | None = Field(examples=[7])
    client: str | None = Field(description="null for every client.", examples=["Alpha Bakery"])
    recipients: list[str] = Field(examples=[["claire.martin@boulangerie-martin.example"]])
    cadence: str = Field(examples=["monthly"])
    format: str = Field(examples=["pdf"])
    enabled: bool = Field(examples=[True])
    next_send_on: date = Field(examples=["2026-12-01"])
    last_sent_at: datetime | None = Field(examples=["2026-11-01T07:00:12Z"])
    created_at: datetime


class ReportSubscriptionFilters(Schema):
    client_id: int | None = Field(None, ge=1, le=2**63 - 1)
    report: ReportName | None = None
    enabled: bool | None = None
    page: int = 1
    page_size: int | None = None
