"""Isolation cases of an approval policy's scripts before and after installing (panel and API)."""

from __future__ import annotations

from tenfold.automation.models import PatchPolicyScripts, Script
from tenfold.core.isolation import Case, register
from tenfold.patching.models import ApprovalPolicy
from tenfold.patching.tests.isolation_cases import policy_params

MODELS = (PatchPolicyScripts, ApprovalPolicy, Script)

register(
    Case("ui:automation:patch_policy_scripts", "object", "policies", "change", method="POST", params=policy_params,
         body=lambda w: {"pre_script": "", "post_script": ""}, models=MODELS, staff_only=True,
         note="GET shows the panel (policies view); POST saves the choice."),
    Case("api:GET /api/v1/patch-policies/{policy_id}/scripts", "object", "policies", params=policy_params),
    Case("api:PUT /api/v1/patch-policies/{policy_id}/scripts", "object", "policies", "change", params=policy_params,
         body=lambda w: {"pre_script_id": None, "post_script_id": None}, models=MODELS),
)
