"""Demo people: the staff as employees with their teams and managers, training targets per plan role (hours and
certifications), a technicians' plan and a sales plan, last
quarter's peer reviews (enough reviewers for scores to show), trainings, and last quarter's statements (one
locked)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from tenfold.people import services
from tenfold.people.measures import previous_quarter
from tenfold.people.models import Employee

# local part of the demo e-mail → (team, manager's local part, plan role, yearly base pay)
EMPLOYEES = {
    "owner": ("Management", None, "other", "72000"),
    "admin": ("Management", "owner", "other", "52000"),
    "finance": ("Management", "owner", "other", "44000"),
    "service": ("Service desk", "owner", "service_manager", "48000"),
    "tech": ("Service desk", "service", "technician", "40000"),
    "tech2": ("Service desk", "service", "technician", "36000"),
    "tech3": ("Service desk", "service", "technician", "33000"),
    "sales": ("Sales", "owner", "salesperson", "38000"),
    "sales2": ("Sales", "owner", "salesperson", "36000"),
}

# plan role → (training hours a year, valid certifications to hold)
TARGETS = [("technician", "40", 1), ("service_manager", "24", 1), ("salesperson", "16", 0)]

TRAININGS = [
    ("tech", "training", "Windows Server 2025 administration", "Microsoft Learn", "14"),
    ("tech", "certification", "Microsoft 365 Endpoint Administrator", "Microsoft", "20"),
    ("tech2", "training", "Backup and disaster recovery", "Veeam University", "8"),
    ("tech2", "training", "Firewall basics", "Fortinet NSE", "6"),
    ("tech3", "training", "Structured cabling", "In-house", "4"),
    ("sales", "training", "Consultative selling of managed services", "MSP Academy", "7"),
]


def seed_people(rng: random.Random, staff: dict[str, Any]) -> int:
    """Write the demo people data; returns how many statements."""
    owner = staff["owner"]
    quarter = previous_quarter()
    teams = {name: services.team_create(actor=owner, name=name) for name in ("Management", "Service desk", "Sales")}
    employees: dict[str, Employee] = {}
    for local, (team, manager, plan_role, pay) in EMPLOYEES.items():
        employees[local] = services.employee_create(actor=owner, data={
            "user_id": staff[local].pk, "team_id": teams[team].pk,
            "manager_id": employees[manager].pk if manager else None, "plan_role": plan_role,
            "base_pay": Decimal(pay), "start_date": date(2021 + len(employees) % 4, 1 + len(employees), 1),
            "active": True})
    for plan_role, hours, certifications in TARGETS:
        services.role_target_set(actor=owner, plan_role=plan_role, hours=Decimal(hours), certifications=certifications)

    year_start = date(quarter.start.year, 1, 1)
    techs = services.plan_create(actor=owner, data={
        "name": f"Technicians {year_start.year}", "plan_role": "technician", "effective_from": year_start,
        "effective_to": None, "notes": "Satisfaction, SLA, backups, upsell, teamwork and development."})
    for rule in (
        {"label": "Customer satisfaction", "kind": "threshold", "measure": "csat",
         "steps": [{"from": "4.0", "amount": "150"}, {"from": "4.5", "amount": "400"}]},
        {"label": "SLA attainment", "kind": "linear", "measure": "sla", "linear_start": "80", "linear_end": "100",
         "linear_amount": "300"},
        {"label": "Clients' environments backed up", "kind": "threshold", "measure": "backed_up",
         "steps": [{"from": "90", "amount": "200"}]},
        {"label": "Upsell leads won", "kind": "linear", "measure": "upsell_leads_won", "linear_start": "0",
         "linear_end": "5", "linear_amount": "500", "cap": "400"},
        {"label": "Teamwork (peer reviews)", "kind": "threshold", "measure": "peer_review",
         "steps": [{"from": "3.5", "amount": "150"}, {"from": "4.2", "amount": "300"}]},
        {"label": "Personal development", "kind": "linear", "measure": "training_hours", "linear_start": "0",
         "linear_end": "10", "linear_amount": "200"},
    ):
        services.rule_create(actor=owner, plan=techs, data=rule)
    sales = services.plan_create(actor=owner, data={
        "name": f"Sales {year_start.year}", "plan_role": "salesperson", "effective_from": year_start,
        "effective_to": None, "notes": "New services pay more than renewals; backup sold is rewarded twice."})
    for rule in (
        {"label": "New services, first year", "kind": "commission", "measure": "recurring_value", "rate_pct": "8",
         "basis": "first_year", "applies_to": "new"},
        {"label": "Renewals and existing services", "kind": "commission", "measure": "recurring_value",
         "rate_pct": "2", "basis": "monthly", "applies_to": "existing"},
        {"label": "Backup sold", "kind": "commission", "measure": "recurring_value", "rate_pct": "10",
         "basis": "monthly", "category": "backup", "floor": "0", "cap": "500"},
        {"label": "Customer satisfaction", "kind": "threshold", "measure": "csat",
         "steps": [{"from": "4.5", "amount": "100"}]},
    ):
        services.rule_create(actor=owner, plan=sales, data=rule)

    for local, kind, title, provider, hours in TRAININGS:
        day = quarter.start + timedelta(days=rng.randint(5, quarter.days - 5))
        expires = day.replace(year=day.year + 3) if kind == "certification" else None
        services.training_create(actor=owner, employee=employees[local], data={
            "kind": kind, "title": title, "provider": provider, "hours": Decimal(hours), "date": day,
            "expires_on": expires})

    cycle = services.cycle_create(actor=owner, data={
        "name": f"{quarter.start.year} Q{(quarter.start.month - 1) // 3 + 1}", "frequency": "quarterly",
        "start_date": quarter.start, "end_date": quarter.end})
    reviewers = list(employees)
    for reviewee in ("tech", "tech2", "tech3", "service", "sales", "sales2"):
        for local in rng.sample([r for r in reviewers if r != reviewee], 4):
            services.review_submit(actor=staff[local], cycle=cycle, data={
                "reviewee_id": employees[reviewee].pk, "sharing": rng.randint(3, 5), "stepping_in": rng.randint(3, 5),
                "communication": rng.randint(3, 5), "reliability": rng.randint(3, 5),
                "comment": rng.choice(["Always shares what they learn.", "Steps in when a colleague is stuck.",
                                       "Could document tickets better.", ""])})
    services.cycle_close(actor=owner, cycle=cycle)

    statements = []
    for local in ("tech", "tech2", "tech3", "sales", "sales2"):
        statements.append(services.statement_draft(actor=owner, employee=employees[local],
                                                   quarter_start=quarter.start))
    locked = services.statement_review(actor=owner, statement=statements[0])
    services.statement_lock(actor=owner, statement=locked)
    services.statement_review(actor=owner, statement=statements[1])
    return len(statements)
