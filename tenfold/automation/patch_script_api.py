"""REST endpoints of the scripts an approval policy's install jobs run before and after installing updates."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from tenfold.automation import patch_scripts
from tenfold.automation.models import PatchPolicyScripts
from tenfold.core.api import ERRORS, InputSchema, actor_of
from tenfold.patching.models import ApprovalPolicy

router = Router(tags=["patching"])

ID = Field(default=None, ge=1, le=2**63 - 1)


class ScriptRefOut(Schema):
    id: int = Field(examples=[12])
    name: str = Field(examples=["Stop the database service"])
    signed_version: int | None = Field(examples=[3], description="The newest signed version, which install jobs "
                                                                   "carry; null when none is signed any more.")


class PolicyScriptsOut(Schema):
    policy_id: int = Field(examples=[4])
    pre_script: ScriptRefOut | None = Field(description="Run before installing; when it fails nothing is "
                                                        "installed.")
    post_script: ScriptRefOut | None = Field(description="Run after installing (and before any reboot).")


class PolicyScriptsIn(InputSchema):
    pre_script_id: int | None = Field(default=None, ge=1, le=2**63 - 1, examples=[12],
                                      description="A script with a signed version, no secret parameter and "
                                                  "defaults for its required parameters; null: none.")
    post_script_id: int | None = Field(default=None, ge=1, le=2**63 - 1, examples=[15])


def _ref(script: Any) -> dict[str, Any] | None:
    if script is None:
        return None
    version = patch_scripts.newest_signed_version(script)
    return {"id": script.pk, "name": script.name, "signed_version": version.number if version else None}


def _out(policy: ApprovalPolicy, row: PatchPolicyScripts | None) -> dict[str, Any]:
    return {"policy_id": policy.pk, "pre_script": _ref(row.pre_script if row else None),
            "post_script": _ref(row.post_script if row else None)}


@router.get("/{policy_id}/scripts", response={200: PolicyScriptsOut, **ERRORS},
            summary="Get an approval policy's scripts before and after installing")
def get_policy_scripts(request: HttpRequest, policy_id: int) -> Any:
    """The scripts the policy's install jobs run on the device before and after installing updates."""
    policy, row = patch_scripts.access_policy_scripts(actor_of(request), policy_id)
    return _out(policy, row)


@router.put("/{policy_id}/scripts", response={200: PolicyScriptsOut, **ERRORS},
            summary="Set an approval policy's scripts before and after installing",
            openapi_extra={"requestBody": {"content": {"application/json": {"examples": {
                "both": {"summary": "A script before and one after",
                         "value": {"pre_script_id": 12, "post_script_id": 15}},
                "none": {"summary": "No script", "value": {"pre_script_id": None, "post_script_id": None}}}}}}})
def set_policy_scripts(request: HttpRequest, policy_id: int, payload: PolicyScriptsIn) -> Any:
    """Each install job of the policy carries the newest signed version of each script; an unknown script id is
    a 404, a script that cannot run unattended or on the policy's devices a 422."""
    actor = actor_of(request)
    policy, _row = patch_scripts.access_policy_scripts(actor, policy_id)
    pre = patch_scripts.access_offered_script(actor, payload.pre_script_id) if payload.pre_script_id else None
    post = patch_scripts.access_offered_script(actor, payload.post_script_id) if payload.post_script_id else None
    row = patch_scripts.policy_scripts_set(actor=actor, policy=policy, pre_script=pre, post_script=post)
    return _out(policy, row)
