"""What a ticket copies when its template binds a runbook: the runbook's checklist of steps."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StepSpec:
    """One step of a runbook's checklist: its order, what to do, and whether it must be done."""

    position: int
    text: str
    required: bool


def runbook_steps(runbook_id: int) -> list[StepSpec]:
    """The current steps of a runbook, in order (empty for an unknown runbook). No access check: the caller
    (a ticket template the actor may use) decides who sees the result."""
    from tenfold.knowledge.models import RunbookStep

    rows = RunbookStep.objects.filter(runbook_id=runbook_id).order_by("position", "pk")
    return [StepSpec(position=row.position, text=row.text, required=row.required) for row in rows]
