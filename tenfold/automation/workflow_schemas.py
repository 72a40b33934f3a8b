"""API shapes of workflows, their versions and runs, and webhook subscriptions and deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from tenfold.automation import workflows
from tenfold.core.api import InputSchema

DEFINITION_EXAMPLE = {
    "trigger": {"event": "alert.raised"},
    "conditions": [{"field": "check_type", "op": "in", "value": ["disk_free"]}],
    "steps": [{"id": "cleanup", "action": "run_script", "params": {"script_id": 4, "parameters": {"min_free": 15}},
               "on_success": "end", "on_failure": "ticket"},
              {"id": "ticket", "action": "open_ticket", "params": {"title": "", "priority": "auto",
                                                                   "reuse_open": True}}]}


class WorkflowOut(Schema):
    id: int
    name: str = Field(examples=["Disk alert → clean-up → ticket"])
    description: str
    enabled: bool
    builtin: bool
    trigger: str = Field(examples=["alert.raised"])
    schedule: str
    version: int | None
    definition: dict[str, Any] = Field(examples=[DEFINITION_EXAMPLE],
                                       description="Secret script parameters are shown as [secret].")
    updated_at: datetime

    @staticmethod
    def resolve_builtin(obj: Any) -> bool:
        return bool(obj.builtin_key)

    @staticmethod
    def resolve_trigger(obj: Any) -> str:
        return str(obj.trigger_event)

    @staticmethod
    def resolve_version(obj: Any) -> int | None:
        return obj.current_version.number if obj.current_version_id else None

    @staticmethod
    def resolve_definition(obj: Any) -> dict[str, Any]:
        return workflows.masked(obj.current_version.definition) if obj.current_version_id else {}


class WorkflowIn(InputSchema):
    name: str = Field(min_length=1, max_length=200, examples=["Disk alert → clean-up → ticket"])
    description: str = Field(default="", max_length=2000)
    enabled: bool = True
    definition: dict[str, Any] = Field(examples=[DEFINITION_EXAMPLE])


class WorkflowPatch(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    enabled: bool | None = None
    definition: dict[str, Any] | None = Field(default=None, examples=[DEFINITION_EXAMPLE],
                                              description="A new definition makes a new version.")


class DefinitionIn(InputSchema):
    definition: dict[str, Any] = Field(examples=[DEFINITION_EXAMPLE])


class ValidationOut(Schema):
    valid: bool = Field(examples=[False])
    errors: dict[str, list[str]] = Field(examples=[{"steps.cleanup.params.script_id": [
        "Step “cleanup”: the script #999 does not exist."]}])
    definition: dict[str, Any] | None = None


class EnabledIn(InputSchema):
    enabled: bool = Field(examples=[False])


class WorkflowVersionOut(Schema):
    number: int = Field(examples=[3])
    definition: dict[str, Any]
    saved_by_id: int | None
    created_at: datetime

    @staticmethod
    def resolve_definition(obj: Any) -> dict[str, Any]:
        return workflows.masked(obj.definition)


class RunStepOut(Schema):
    sequence: int
    step_id: str = Field(examples=["cleanup"])
    action: str = Field(examples=["run_script"])
    status: str = Field(examples=["failed"])
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    branch: str = Field(examples=["ticket"])
    reason: str = Field(examples=["The job ended Failed (exit code 1). · the step failed: next is “ticket”."])
    started_at: datetime
    finished_at: datetime | None


class WorkflowRunOut(Schema):
    id: int
    workflow_id: int
    workflow: str
    version: int
    client_id: int
    device_id: int | None
    trigger: str = Field(examples=["alert.raised"])
    status: str = Field(examples=["waiting"])
    current_step: str
    ticket_id: int | None
    error: str
    created_at: datetime
    finished_at: datetime | None

    @staticmethod
    def resolve_workflow(obj: Any) -> str:
        return str(obj.workflow.name)

    @staticmethod
    def resolve_version(obj: Any) -> int:
        return int(obj.version.number)


class WorkflowRunDetailOut(WorkflowRunOut):
    steps: list[RunStepOut]

    @staticmethod
    def resolve_steps(obj: Any) -> list[Any]:
        return list(obj.steps.order_by("sequence"))


class WebhookOut(Schema):
    id: int
    name: str = Field(examples=["NOC chat"])
    url: str = Field(examples=["https://hooks.example.com/tenfold"])
    events: list[str] = Field(examples=[["alert.raised", "ticket.created"]])
    enabled: bool
    consecutive_failures: int
    disabled_reason: str
    created_at: datetime


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="The signing secret, shown this once only.",
                        examples=["b1n7dS0mE-rAnd0m-s3cret-Xq"])


class WebhookIn(InputSchema):
    name: str = Field(min_length=1, max_length=200, examples=["NOC chat"])
    url: str = Field(min_length=8, max_length=500, examples=["https://hooks.example.com/tenfold"])
    events: list[str] = Field(min_length=1, max_length=20, examples=[["alert.raised"]])
    enabled: bool = True


class WebhookPatch(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    url: str | None = Field(default=None, min_length=8, max_length=500)
    events: list[str] | None = Field(default=None, min_length=1, max_length=20)
    enabled: bool | None = None


class AttemptOut(Schema):
    number: int
    at: datetime
    status_code: int | None = Field(examples=[503])
    duration_ms: int
    error: str = Field(examples=["The receiver answered 503."])


class DeliveryOut(Schema):
    id: int
    event: str = Field(examples=["alert.raised"])
    status: str = Field(examples=["pending"])
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    delivered_at: datetime | None
    created_at: datetime
    log: list[AttemptOut]

    @staticmethod
    def resolve_log(obj: Any) -> list[Any]:
        return list(obj.attempt_log.order_by("-number")[:20])
