"""The business review deck, from its stored content: an editable PPTX with native charts (python-pptx) and a
PDF (WeasyPrint) of the HTML rendering of the same content (`reporting/deck_document.html`, the page's own
template, styled by `reporting/deck.css`).

Slides, in the seed's order: cover; environment overview (devices by type, warranties, contracts and addenda,
maintenance, incidents); state of affairs (scorecard now vs last quarter as a bar chart, support hours by
category, tickets and SLA attainment, uptime, patches, survey scores); client concerns; recommended additional
services."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

STYLESHEET = "reporting/deck.css"
CHART_SCORECARD = "scorecard"


def _number(value: Any) -> float | None:
    return None if value in (None, "") else float(value)


def chart_series(content: dict[str, Any]) -> dict[str, Any]:
    """The figures of the deck's charts: {name: (categories, {series: values})} (values None for N/A)."""
    metrics = [r for r in content["scorecard"] if not r["area"]]
    hours = content["affairs"]["support_hours"]
    tickets = content["affairs"]["tickets"]
    return {
        CHART_SCORECARD: ([r["label"] for r in metrics],
                          {content["period"]["previous"]: [_number(r["previous"]) for r in metrics],
                           content["period"]["current"]: [_number(r["current"]) for r in metrics]}),
        "hours": ([h["category"] for h in hours], {str(_("Hours")): [float(h["hours"]) for h in hours]}),
        "tickets": ([str(_("Opened")), str(_("Resolved")), str(_("With SLA")), str(_("SLA met"))],
                    {str(_("Tickets")): [float(tickets["opened"]), float(tickets["resolved"]),
                                         float(tickets["sla_total"]), float(tickets["sla_met"])]}),
        "devices": ([d["kind"] for d in content["environment"]["devices_by_kind"]],
                    {str(_("Devices")): [float(d["count"]) for d in content["environment"]["devices_by_kind"]]}),
    }


def _value(value: Any, suffix: str = " %") -> str:
    return str(_("N/A")) if value in (None, "") else f"{value}{suffix}"


def render_pptx(content: dict[str, Any]) -> bytes:
    """The deck as an editable PowerPoint file with native charts."""
    from pptx import Presentation
    from pptx.chart.data import CategoryChartData
    from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
    from pptx.util import Inches, Pt

    deck = Presentation()
    deck.slide_width, deck.slide_height = Inches(13.333), Inches(7.5)
    title_slide, title_only = deck.slide_layouts[0], deck.slide_layouts[5]
    series = chart_series(content)

    def slide(title: str) -> Any:
        page = deck.slides.add_slide(title_only)
        page.shapes.title.text = title
        return page

    def text(page: Any, lines: list[str], left: float, top: float, width: float, height: float,
             size: int = 14) -> None:
        box = page.shapes.add_textbox(Inches(left), Inches(top), Inches(width), Inches(height))
        frame = box.text_frame
        frame.word_wrap = True
        for index, line in enumerate(lines or [str(_("Nothing to report."))]):
            paragraph = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
            paragraph.text = line
            paragraph.font.size = Pt(size)

    def chart(page: Any, name: str, left: float, top: float, width: float, height: float,
              kind: Any = XL_CHART_TYPE.COLUMN_CLUSTERED) -> Any:
        categories, values = series[name]
        data = CategoryChartData()
        data.categories = categories or [str(_("None"))]
        for label, points in values.items():
            data.add_series(label, points or [0.0])
        frame = page.shapes.add_chart(kind, Inches(left), Inches(top), Inches(width), Inches(height), data)
        frame.chart.has_legend = len(values) > 1
        if frame.chart.has_legend:
            frame.chart.legend.position = XL_LEGEND_POSITION.BOTTOM
            frame.chart.legend.include_in_layout = False
        return frame.chart

    cover = deck.slides.add_slide(title_slide)
    cover.shapes.title.text = _("Business review: %(client)s") % {"client": content["client"]}
    cover.placeholders[1].text = "\n".join([
        content["meeting"]["date"], content["msp"],
        _("Scorecard %(current)s compared with %(previous)s") % content["period"]])

    env = content["environment"]
    page = slide(_("Environment overview"))
    chart(page, "devices", 0.5, 1.4, 6.0, 5.5)
    text(page, [_("Warranties expiring within 90 days:")]
         + [f"• {w['device']} ({w['kind']}): {w['ends']}" for w in env["warranties"]]
         + [_("Contracts:")] + [f"• {c['title']} — {c['type']} {c['plan']}".strip() for c in env["contracts"]]
         + [_("Addenda:")] + [f"• {a['contract']} {a['effective']}: {a['description']}" for a in env["addenda"]],
         7.0, 1.4, 5.8, 5.5, size=12)

    page = slide(_("Maintenance and incidents since the last review"))
    text(page, [_("Maintenance done:")] + [f"• {m['when']} {m['what']}" for m in env["maintenance"]]
         + [_("Alerts resolved: %(count)s") % {"count": env["alerts_resolved"]}], 0.5, 1.4, 5.8, 5.5, size=12)
    text(page, [_("Incidents and how they were fixed:")]
         + [f"• {i['number']} {i['title']}: {i['fix'] or _('resolved')}" for i in env["incidents"]],
         6.8, 1.4, 6.0, 5.5, size=12)

    page = slide(_("State of affairs: scorecard now vs last quarter"))
    scorecard = chart(page, CHART_SCORECARD, 0.4, 1.3, 8.6, 5.9, kind=XL_CHART_TYPE.BAR_CLUSTERED)
    scorecard.value_axis.maximum_scale = 100
    scorecard.value_axis.minimum_scale = 0
    overall = content["overall"]
    text(page, [_("Overall score"), f"{content['period']['current']}: {_value(overall['current'])}",
                f"{content['period']['previous']}: {_value(overall['previous'])}", ""]
         + [f"{r['label']}: {_value(r['current'])} ({_value(r['previous'])})" for r in content["scorecard"]
            if not r["area"]], 9.2, 1.3, 3.9, 5.9, size=11)

    affairs = content["affairs"]
    page = slide(_("State of affairs: support and service"))
    chart(page, "hours", 0.4, 1.3, 6.2, 3.4)
    chart(page, "tickets", 6.8, 1.3, 6.2, 3.4)
    tickets, survey = affairs["tickets"], affairs["survey"]
    text(page, [
        _("Support hours: %(hours)s h") % {"hours": sum(float(h["hours"]) for h in affairs["support_hours"])},
        _("SLA attainment: %(value)s") % {"value": _value(tickets["sla_pct"])},
        _("Uptime: %(current)s (last quarter: %(previous)s)") % {"current": _value(affairs["uptime"]["current"]),
                                                                "previous": _value(affairs["uptime"]["previous"])},
        _("Patches installed: %(count)s") % {"count": affairs["patches_installed"]
                                             if affairs["patches_installed"] is not None else _("N/A")},
        _("Survey scores (1–5), %(count)s answers: professionalism %(p)s, accuracy %(a)s, speed %(s)s") % {
            "count": survey["answers"], "p": survey["professionalism"] or _("N/A"),
            "a": survey["accuracy"] or _("N/A"), "s": survey["speed"] or _("N/A")},
    ], 0.5, 4.9, 12.3, 2.4, size=13)

    page = slide(_("Client concerns"))
    text(page, [line for line in content["concerns"].splitlines() if line.strip()]
         or [_("To be discussed together.")], 0.6, 1.4, 12.0, 5.6, size=16)

    page = slide(_("Recommended additional services"))
    recommendations = content["recommendations"]
    if recommendations:
        rows = len(recommendations) + 1
        table = page.shapes.add_table(rows, 3, Inches(0.5), Inches(1.4), Inches(12.3), Inches(0.4 * rows)).table
        for col, header in enumerate((_("Service"), _("Why"), _("Price"))):
            table.cell(0, col).text = header
        for row, item in enumerate(recommendations, start=1):
            price = (_("%(amount)s %(currency)s / month") if item["kind"] == "recurring"
                     else _("%(amount)s %(currency)s once")) % {"amount": item["amount"],
                                                                "currency": content["currency"]}
            table.cell(row, 0).text = item["title"]
            table.cell(row, 1).text = item["reason"]
            table.cell(row, 2).text = price
    else:
        text(page, [_("No additional service proposed this time.")], 0.6, 1.4, 12.0, 2.0, size=16)

    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


def stylesheet_text() -> str:
    path = finders.find(STYLESHEET)
    return Path(str(path)).read_text(encoding="utf-8") if path else ""


def bars(content: dict[str, Any]) -> list[dict[str, Any]]:
    """The scorecard rows with bar widths (0–100) for the HTML rendering."""
    return [{**row, "current_width": _number(row["current"]) or 0, "previous_width": _number(row["previous"]) or 0}
            for row in content["scorecard"]]


def document_context(content: dict[str, Any]) -> dict[str, Any]:
    hours = content["affairs"]["support_hours"]
    top = max([float(h["hours"]) for h in hours] + [1.0])
    return {"deck": content, "bars": bars(content),
            "hours": [{**h, "width": round(float(h["hours"]) * 100 / top, 1)} for h in hours]}


def render_html(content: dict[str, Any]) -> str:
    """The standalone page the PDF is printed from."""
    return render_to_string("reporting/deck_pdf.html", {**document_context(content), "stylesheet": stylesheet_text()})


def render_pdf(content: dict[str, Any]) -> bytes:
    """The deck as a PDF (landscape pages, one per section)."""
    from weasyprint import HTML

    pdf: Any = HTML(string=render_html(content), base_url=str(Path(__file__).resolve().parent)).write_pdf()
    return bytes(pdf)
