"""Scripts run before and after installing updates, per approval policy.

An approval policy may name a script to run on the device before its updates are installed (stop a service,
take a snapshot) and one to run after (start it again, check it answers). The install job carries each as a
`run_script` payload of the script's newest signed version, built when the job is queued; the agent verifies
it as any script run. When the pre-install script fails, nothing is installed.

Rules for a script to be chosen, checked again when each install job is queued:
- it has a signed version (the newest signed one is used, so signing a new version takes effect at once);
- it takes no secret parameter, and every required parameter has a default (nobody is there to give values:
  the defaults are sent);
- its signed version runs on every operating system of the devices the policy covers (when it covers none
  yet, any script may be chosen; a device whose system the script does not run on is then not installed).
When a queued install cannot carry its script any more (no signed version, no signature by an active key,
parameters changed), that device's install is not queued and the reason is recorded on the install run and
on its updates (patching's payload extension contract).

Scripts are MSP-level; the scripts of a policy belong to the policy's client (none for a global or tag policy),
so a user restricted to some clients sees and changes those of their clients' policies only.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from tenfold.assets.models import Device, DeviceState
from tenfold.automation import parameters as params
from tenfold.automation.models import (
    OS_FAMILIES,
    KeyStatus,
    PatchPolicyScripts,
    Script,
    ScriptVersion,
    VersionStatus,
)
from tenfold.automation.services import run_payload
from tenfold.core import audit
from tenfold.core.errors import Conflict, NotFound, PermissionDenied, TenfoldError, ValidationError
from tenfold.core.roles import require
from tenfold.patching.models import ApprovalPolicy, PatchScope
from tenfold.patching.selectors import access_policy

SLOTS = ("pre_script", "post_script")


def _slot_label(slot: str) -> str:
    return _("The script before installing") if slot == "pre_script" else _("The script after installing")


def newest_signed_version(script: Script) -> ScriptVersion | None:
    """The version an install job carries: the script's newest signed one."""
    return script.versions.filter(status=VersionStatus.SIGNED).order_by("-number").first()


def policy_os_families(policy: ApprovalPolicy) -> list[str]:
    """The operating systems of the managed devices the policy's scope covers (sorted; empty: none yet)."""
    devices = Device.objects.filter(managed=True).exclude(state=DeviceState.RETIRED)
    if policy.scope == PatchScope.DEVICE:
        devices = devices.filter(pk=policy.device_id or 0)
    elif policy.scope == PatchScope.SITE:
        devices = devices.filter(site_id=policy.site_id or 0)
    elif policy.scope == PatchScope.CLIENT:
        devices = devices.filter(client_id=policy.client_id or 0)
    elif policy.scope == PatchScope.TAG:
        devices = devices.filter(tags=policy.tag_id)
    families = set(devices.exclude(os_family="").values_list("os_family", flat=True).distinct())
    return sorted(f for f in families if f in OS_FAMILIES)


def _unattended_problem(version: ScriptVersion) -> str:
    """Why a version cannot run unattended before or after installing, or ""."""
    if any(p.get("type") == "secret" for p in version.parameters or []):
        return _("it takes a secret parameter")
    try:
        params.clean_values(version.parameters or [], {})
    except ValidationError:
        return _("a required parameter has no default")
    return ""


def script_problem(script: Script, families: list[str]) -> str:
    """Why `script` cannot be one of a policy's install scripts ("" when it can)."""
    version = newest_signed_version(script)
    if version is None:
        return _("%(script)s has no signed version.") % {"script": script.name}
    problem = _unattended_problem(version)
    if problem:
        return _("%(script)s cannot run unattended: %(problem)s.") % {"script": script.name, "problem": problem}
    missing = [f for f in families if f not in (version.os_families or [])]
    if missing:
        return _("%(script)s does not run on %(families)s.") % {"script": script.name,
                                                               "families": ", ".join(missing)}
    return ""


def eligible_scripts(policy: ApprovalPolicy) -> list[Script]:
    """Scripts the policy may use: signed, unattended, running on every system of its devices (by name)."""
    families = policy_os_families(policy)
    candidates = Script.objects.filter(versions__status=VersionStatus.SIGNED).distinct().order_by("name", "pk")
    return [s for s in candidates if not script_problem(s, families)]


# --- Reads ---------------------------------------------------------------------------------------------------


def access_policy_scripts(actor: Any, policy_id: Any) -> tuple[ApprovalPolicy, PatchPolicyScripts | None]:
    """A policy the actor may see and its scripts (None when it has none); NotFound otherwise."""
    policy = access_policy(actor, policy_id)
    # The policy decides who sees its scripts (the row's client follows the policy's when they are saved, and a
    # policy moved to another client since keeps them).
    row = PatchPolicyScripts.objects.select_related("pre_script", "post_script").filter(policy=policy).first()
    return policy, row


def scripts_offered(actor: Any) -> QuerySet[Script]:
    """The scripts an actor may name (the library is MSP-level: every signed-in staff user sees it)."""
    return Script.objects.visible_to(actor)


def access_offered_script(actor: Any, script_id: Any) -> Script:
    """One script by id, or NotFound (unknown ids and ids of other kinds are the same answer)."""
    try:
        pk = int(script_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    script = scripts_offered(actor).filter(pk=pk).first()
    if script is None:
        raise NotFound()
    return script


# --- Writes --------------------------------------------------------------------------------------------------


@transaction.atomic
def policy_scripts_set(*, actor: Any, policy: ApprovalPolicy, pre_script: Script | None,
                       post_script: Script | None) -> PatchPolicyScripts:
    """Choose (or clear, with None) the scripts a policy's install jobs run before and after installing."""
    require(actor, "policies", "change")
    if policy.client_id is None and actor.client_scope() is not None:
        raise PermissionDenied(_("Users restricted to assigned clients manage those clients' policies only."))
    families = policy_os_families(policy)
    errors: dict[str, list[str]] = {}
    for slot, script in (("pre_script", pre_script), ("post_script", post_script)):
        if script is not None:
            problem = script_problem(script, families)
            if problem:
                errors[slot] = [problem]
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors=errors)
    row = PatchPolicyScripts.objects.select_for_update().filter(policy=policy).first()
    before = {"pre_script": row.pre_script_id if row else None, "post_script": row.post_script_id if row else None}
    if row is None:
        row = PatchPolicyScripts(policy=policy)
    row.client_id = policy.client_id
    row.pre_script, row.post_script = pre_script, post_script
    row.save()
    after = {"pre_script": row.pre_script_id, "post_script": row.post_script_id}
    changes = {k: [before[k], after[k]] for k in SLOTS if before[k] != after[k]}
    if changes:
        audit.record(actor, "approval_policy.scripts_set", policy, client_id=policy.client_id,
                     changes=changes)
    return row


# --- The install payload extension (registered with patching in AutomationConfig.ready) ---------------------


def _script_payload(slot: str, script: Script, device: Device) -> dict[str, Any]:
    label = _slot_label(slot)
    version = newest_signed_version(script)
    if version is None:
        raise Conflict(_("%(slot)s, %(script)s, has no signed version any more.")
                       % {"slot": label, "script": script.name})
    if not version.signatures.filter(key__status=KeyStatus.ACTIVE).exists():
        raise Conflict(_("%(slot)s, %(script)s, has no signature by an active key any more.")
                       % {"slot": label, "script": script.name})
    problem = _unattended_problem(version)
    if problem:
        raise Conflict(_("%(slot)s, %(script)s, cannot run unattended: %(problem)s.")
                       % {"slot": label, "script": script.name, "problem": problem})
    if device.os_family not in (version.os_families or []):
        raise Conflict(_("%(slot)s, %(script)s, does not run on %(os)s.")
                       % {"slot": label, "script": script.name, "os": device.os_family or _("an unknown system")})
    values, _secrets = params.clean_values(version.parameters or [], {})
    return run_payload(version, values, {})


def install_payload_scripts(device: Device, policy: ApprovalPolicy | None) -> dict[str, Any]:
    """The `pre_script` / `post_script` keys of `device`'s install job under `policy`; Conflict (do not
    install, with the reason) when a chosen script cannot be sent."""
    if policy is None:
        return {}
    row = PatchPolicyScripts.objects.select_related("pre_script", "post_script").filter(policy=policy).first()
    if row is None:
        return {}
    extra: dict[str, Any] = {}
    for slot in SLOTS:
        script = getattr(row, slot)
        if script is not None:
            try:
                extra[slot] = _script_payload(slot, script, device)
            except Conflict:
                raise
            except TenfoldError as exc:  # a parameter schema that no longer validates
                raise Conflict(exc.message) from exc
    return extra
