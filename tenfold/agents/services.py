"""Writes of the agents app: enrollment tokens, enrollment, credentials, jobs, and the check-in.

Staff writes are audited like every other service. Enrollment and credential changes are audited
with actor kind "agent" when the agent makes them; check-in telemetry is not audited (rule 3).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import DateTimeField, F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenfold.agents import auth, hooks, secrets
from tenfold.agents.fastpath import (
    JOBS_PER_CHECKIN,
    LAST_USED_PRECISION,
    RESEND_AFTER_INTERVALS,
    STATUS_CODES,
    checkin_jitter,
)
from tenfold.agents.models import (
    OPEN_JOB_STATUSES,
    OUTPUT_LIMIT,
    Agent,
    AgentCredential,
    EnrollmentToken,
    Job,
    JobStatus,
)
from tenfold.agents.protocol import Checkin, EnrollIn
from tenfold.assets import services as asset_services
from tenfold.assets.discovery import discovery_rows
from tenfold.assets.models import Device, DeviceState, checkin_interval_seconds
from tenfold.clients.models import Client, Site
from tenfold.core import audit, events
from tenfold.core.errors import Conflict, TenfoldError, ValidationError
from tenfold.core.models import ActorKind
from tenfold.core.roles import require

logger = logging.getLogger("tenfold.agents")

DEFAULT_TOKEN_DAYS = 7
MAX_TOKEN_DAYS = 365
MIN_CHECKIN_INTERVAL = 5  # the agent never checks in more often than every 5 s
MAX_CHECKIN_INTERVAL = 86_400


class EnrollmentTokenInvalid(TenfoldError):
    """Unknown, expired, revoked or used up: one answer for all."""

    code = "enrollment_token_invalid"
    status = 401
    default_message = _("This enrollment token is not valid: ask for a new one.")


# --- Enrollment tokens (staff) ------------------------------------------------------------------


@transaction.atomic
def enrollment_token_create(*, actor: Any, client: Client, name: str, site: Site | None = None,
                            expires_in_days: int = DEFAULT_TOKEN_DAYS,
                            max_uses: int | None = None) -> tuple[EnrollmentToken, str]:
    """Create an enrollment token for a client; returns it and the plain token (shown once)."""
    require(actor, "devices", "change")
    return _token_create(actor, client=client, name=name, site=site, expires_in_days=expires_in_days,
                         max_uses=max_uses)


@transaction.atomic
def enrollment_token_create_system(*, client: Client, name: str, site: Site | None = None,
                                   expires_in_days: int = DEFAULT_TOKEN_DAYS, max_uses: int | None = None,
                                   checkin_interval: int | None = None) -> tuple[EnrollmentToken, str]:
    """Create an enrollment token as a system action (`tenfold agent-token`, run by whoever runs the
    server, not by a staff user): audited with actor kind "system". `checkin_interval` (seconds) is
    given to the agents enrolled with it instead of the server-wide interval (`make run` uses a short
    one for this machine's agent)."""
    return _token_create(None, client=client, name=name, site=site, expires_in_days=expires_in_days,
                         max_uses=max_uses, checkin_interval=checkin_interval)


def _token_create(actor: Any, *, client: Client, name: str, site: Site | None, expires_in_days: int,
                  max_uses: int | None, checkin_interval: int | None = None) -> tuple[EnrollmentToken, str]:
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name or len(name) > 100:
        errors["name"] = [str(_("Give the token a name of at most 100 characters."))]
    if not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
        errors["expires_in_days"] = [str(_("Choose between 1 and %(max)s days.") % {"max": MAX_TOKEN_DAYS})]
    if max_uses is not None and not 1 <= max_uses <= 100_000:
        errors["max_uses"] = [str(_("Choose between 1 and 100000 uses, or leave it empty."))]
    if checkin_interval is not None and not MIN_CHECKIN_INTERVAL <= checkin_interval <= MAX_CHECKIN_INTERVAL:
        errors["checkin_interval"] = [str(_("Choose between %(min)s and %(max)s seconds.") % {
            "min": MIN_CHECKIN_INTERVAL, "max": MAX_CHECKIN_INTERVAL})]
    if site is not None and site.client_id != client.pk:
        errors["site"] = [str(_("Choose one of this client's sites."))]
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors=errors)
    plain, prefix = secrets.new_secret(secrets.ENROLLMENT)
    token = EnrollmentToken.objects.create(
        client=client, site=site, name=name, prefix=prefix, token_hash=secrets.hash_secret(plain),
        expires_at=timezone.now() + timedelta(days=expires_in_days), max_uses=max_uses,
        checkin_interval=checkin_interval, created_by=actor if getattr(actor, "pk", None) else None)
    changes: dict[str, Any] = {"name": name, "prefix": prefix, "site_id": site.pk if site else None,
                               "expires_at": token.expires_at.isoformat(), "max_uses": max_uses}
    if checkin_interval is not None:
        changes["checkin_interval"] = checkin_interval
    audit.record(actor, "enrollment_token.created", token, changes=changes)
    return token, plain


@transaction.atomic
def enrollment_token_revoke(*, actor: Any, token: EnrollmentToken) -> EnrollmentToken:
    """Revoke an enrollment token: no agent can enroll with it any more."""
    require(actor, "devices", "change")
    if token.revoked_at is not None:
        raise Conflict(_("This token is already revoked."))
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at", "updated_at"])
    audit.record(actor, "enrollment_token.revoked", token, changes={"prefix": token.prefix})
    return token


# --- Enrollment (agent) -------------------------------------------------------------------------


@dataclass(frozen=True)
class Enrollment:
    """What an enrolled agent receives."""

    device: Device
    credential: str
    agent: Agent


def _issue_credential(device: Device) -> tuple[AgentCredential, str]:
    plain, prefix = secrets.new_secret(secrets.CREDENTIAL)
    credential = AgentCredential.objects.create(client_id=device.client_id, device=device, prefix=prefix,
                                                secret_hash=secrets.hash_secret(plain))
    return credential, plain


def _revoke_credentials(device_id: int, *, keep: int | None = None) -> list[str]:
    queryset = AgentCredential.objects.filter(device_id=device_id, revoked_at__isnull=True)
    if keep is not None:
        queryset = queryset.exclude(pk=keep)
    prefixes = list(queryset.values_list("prefix", flat=True))
    if prefixes:
        queryset.update(revoked_at=timezone.now())
        for prefix in prefixes:
            auth.forget(prefix)  # harmless if this transaction rolls back: the next use reloads it
    return prefixes


def agent_enroll(*, token: str, payload: EnrollIn, ip: str = "") -> Enrollment:
    """Enroll an agent with an enrollment token: find or create its device, issue its credential."""
    prefix = secrets.prefix_of(token, secrets.ENROLLMENT)
    if prefix is None:
        raise EnrollmentTokenInvalid()
    with transaction.atomic():
        row = EnrollmentToken.objects.select_for_update(of=("self",)).select_related("client", "site").filter(
            prefix=prefix).first()
        if row is None or not secrets.matches(token, row.token_hash) or not row.is_usable():
            raise EnrollmentTokenInvalid()
        EnrollmentToken.objects.filter(pk=row.pk).update(uses=F("uses") + 1)
        device, created = asset_services.device_register_agent(
            client=row.client, site=row.site, machine_id=payload.machine_id, hostname=payload.hostname,
            os_family=payload.os.family, os_name=payload.os.name, os_version=payload.os.version)
        revoked = _revoke_credentials(device.pk)
        credential, plain = _issue_credential(device)
        now = timezone.now()
        # Re-enrolling is a fresh start: a reinstalled agent numbers its items from 1 again.
        agent, _created = Agent.objects.update_or_create(device=device, defaults={
            "client_id": device.client_id, "agent_version": payload.agent_version, "last_seq": 0,
            "enrolled_at": now, "rotation_requested_at": None,
            "checkin_interval": row.checkin_interval or checkin_interval_seconds()})
        audit.record(None, "device.enrolled", device, actor_kind=ActorKind.AGENT, changes={
            "token_prefix": row.prefix, "credential_prefix": credential.prefix, "revoked_credentials": revoked,
            "hostname": payload.hostname, "machine_id": payload.machine_id, "created": created, "ip": ip})
        events.emit("device.enrolled", client_id=device.client_id, payload={
            "device_id": device.pk, "client_id": device.client_id, "created": created})
    return Enrollment(device=device, credential=plain, agent=agent)


# --- Credentials (staff) ------------------------------------------------------------------------


@transaction.atomic
def credential_rotate(*, actor: Any, device: Device) -> Agent:
    """Ask the device's agent to take a new credential at its next check-in (the old one stays valid
    until the new one has been used once)."""
    require(actor, "devices", "change")
    agent = Agent.objects.select_for_update().filter(device=device).first()
    if agent is None:
        raise Conflict(_("This device has no agent."))
    agent.rotation_requested_at = timezone.now()
    agent.save(update_fields=["rotation_requested_at", "updated_at"])
    audit.record(actor, "agent_credential.rotation_requested", device)
    return agent


@transaction.atomic
def credential_revoke(*, actor: Any, device: Device) -> list[str]:
    """Revoke every credential of the device's agent: it must be enrolled again."""
    require(actor, "devices", "change")
    revoked = _revoke_credentials(device.pk)
    if not revoked:
        raise Conflict(_("This device has no active agent credential."))
    Agent.objects.filter(device=device).update(rotation_requested_at=None)
    audit.record(actor, "agent_credential.revoked", device, changes={"prefixes": revoked})
    return revoked


def on_device_retired(event: Any) -> None:
    """`device.state_changed` (emitted by assets): when a device is retired, its agent's credentials are
    revoked (its next check-in gets 401 `credential_revoked`) and its open jobs cancelled. A device that
    is no longer retired when the event arrives (enrolled again meanwhile) is left alone, so a repeated
    or late delivery changes nothing."""
    if event.payload.get("to") != DeviceState.RETIRED:
        return
    device = Device.objects.filter(pk=event.payload.get("device_id"), state=DeviceState.RETIRED).first()
    if device is None:
        return
    revoked = _revoke_credentials(device.pk)
    Agent.objects.filter(device=device).update(rotation_requested_at=None)
    now = timezone.now()
    for job in Job.objects.filter(device=device, status__in=OPEN_JOB_STATUSES, payload__has_key=SECRET_PARAMETERS):
        Job.objects.filter(pk=job.pk).update(payload=_without_secrets(job.payload))
    cancelled = Job.objects.filter(device=device, status__in=OPEN_JOB_STATUSES).update(
        status=JobStatus.CANCELLED, finished_at=now, updated_at=now)
    if revoked or cancelled:
        audit.record(None, "agent_credential.revoked", device, changes={
            "prefixes": revoked, "reason": "device retired", "cancelled_jobs": cancelled})


# --- Jobs --------------------------------------------------------------------------------------


def actor_kind_of(actor: Any) -> str | None:
    """"system" for an actor that acts for the MSP without being a user or a token (the patch schedule, a
    workflow, a scheduled run: authenticated, no user id); None lets the audit log decide (user or token)."""
    if actor is not None and getattr(actor, "is_authenticated", False) and getattr(actor, "pk", None) is None:
        return ActorKind.SYSTEM
    return None


@transaction.atomic
def job_create(*, actor: Any, device: Device, kind: str, payload: dict[str, Any],
               timeout_seconds: int | None = None) -> Job:
    """Queue work for a device's agent; it rides on the agent's next check-in answer. With `timeout_seconds`,
    a job sent and not finished within it (plus a grace) is marked timed out by automation's sweep."""
    require(actor, "jobs", "add")
    if device.state == DeviceState.RETIRED or not device.managed:
        raise Conflict(_("Jobs run only on managed devices that are not retired."))
    if not kind or len(kind) > 50:
        raise ValidationError(_("Name the kind of job."), field="kind")
    if timeout_seconds is not None and not 1 <= timeout_seconds <= 7 * 86_400:
        raise ValidationError(_("The timeout is between 1 second and 7 days."), field="timeout_seconds")
    job = Job.objects.create(client_id=device.client_id, device=device, kind=kind, payload=payload,
                             timeout_seconds=timeout_seconds,
                             created_by=actor if getattr(actor, "pk", None) else None)
    audit.record(actor, "job.created", job, changes={"device_id": device.pk, "kind": kind},
                 actor_kind=actor_kind_of(actor))
    events.emit("job.created", client_id=device.client_id, payload={"job_id": job.pk, "device_id": device.pk})
    return job


# --- Check-in (the hot path) --------------------------------------------------------------------


def _telemetry(caller: auth.AuthenticatedAgent, items: list[Any], now: datetime,
               ip: str) -> tuple[asset_services.Telemetry, list[Any]]:
    telemetry = asset_services.Telemetry(device_id=caller.device_id, client_id=caller.client_id, seen_at=now, ip=ip)
    job_results = []
    for item in items:
        data = item.data
        if item.kind == "heartbeat":
            if data.uptime_s is not None:
                telemetry.uptime_seconds = data.uptime_s
            if data.logged_in_user is not None:
                telemetry.logged_in_user = data.logged_in_user
            if data.dropped:
                logger.info("device %s: agent dropped spooled items: %s", caller.device_id, data.dropped)
        elif item.kind == "metrics":
            disk = min((d.free_pct for d in data.disks), default=None)
            telemetry.metrics.append((item.at, data.cpu_pct, data.mem_pct, disk))
        elif item.kind == "check_result":
            telemetry.results.append((data.check_id, item.at, STATUS_CODES[data.status], data.value, data.message,
                                      item.seq))
        elif item.kind == "posture":
            telemetry.posture = _posture_fields(data)
        elif item.kind == "inventory":
            telemetry.inventory = _inventory(item.at, data)
        elif item.kind == "job_result":
            job_results.append(item)
        elif item.kind == "discovery":
            subnet, neighbours = discovery_rows(data)
            telemetry.discovery.append((item.at, subnet, neighbours))
    return telemetry, job_results


def _posture_fields(data: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if data.antivirus is not None:
        fields.update(antivirus_product=data.antivirus.product, antivirus_state=data.antivirus.state,
                      antivirus_definitions_at=data.antivirus.definitions_at)
    if data.firewall is not None:
        fields["firewall_state"] = data.firewall.state
    if data.pending_updates is not None:
        fields["pending_updates"] = data.pending_updates
    if data.backup is not None:
        fields.update(backup_tool=data.backup.tool, last_backup_at=data.backup.last_success)
    return fields


def _inventory(at: datetime, data: Any) -> asset_services.Inventory:
    hardware = data.hardware
    fields: dict[str, Any] = {"vendor": hardware.vendor, "model": hardware.model,
                              "serial_number": hardware.serial_number, "cpu_model": hardware.cpu_model,
                              "cpu_cores": hardware.cpu_cores, "memory_bytes": hardware.memory_bytes}
    if hardware.hostname:
        fields["hostname"] = hardware.hostname
    if hardware.os is not None:
        fields.update(os_family=hardware.os.family, os_name=hardware.os.name, os_version=hardware.os.version)
    if hardware.logged_in_user is not None:
        fields["logged_in_user"] = hardware.logged_in_user
    if hardware.uptime_s is not None:
        fields["uptime_seconds"] = hardware.uptime_s
    details = {"disks": [d.model_dump() for d in hardware.disks],
               "network_interfaces": [n.model_dump() for n in hardware.network_interfaces]}
    software = [(s.name, s.version, s.publisher, s.installed_on) for s in data.software]
    return asset_services.Inventory(at=at, device_fields=fields, hardware=details, software=software,
                                    digest=asset_services.inventory_digest(hardware.model_dump(mode="json"), software))


# A job's payload may carry `secret_parameters` ({name: value}): sent to the agent with the job (over its
# authenticated TLS session), redacted from the job's output when results are stored, and dropped from the
# payload when the job finishes or is cancelled. They stay while the job is open because delivery is at
# least once: a job whose answer was lost is sent again, and needs them.
SECRET_PARAMETERS = "secret_parameters"
SECRET_MARK = "[secret]"


def redact_secrets(text: str, secret_values: Any) -> str:
    """`text` with every occurrence of a secret value replaced by [secret] (longest first)."""
    values = [v for v in (secret_values or []) if isinstance(v, str) and v]
    for value in sorted(set(values), key=len, reverse=True):
        text = text.replace(value, SECRET_MARK)
    return text


def _without_secrets(payload: Any) -> Any:
    if isinstance(payload, dict) and SECRET_PARAMETERS in payload:
        payload = {k: v for k, v in payload.items() if k != SECRET_PARAMETERS}
    return payload


def job_close(job: Job, status: str, *, now: datetime) -> bool:
    """Close an open job from the server side (cancelled, timed out) while its status is still the one `job`
    was read with: finished now, its secrets dropped from the payload, and `job.finished` recorded (a workflow
    waiting for it resumes). False when something else changed it first (a result, another close)."""
    updated = Job.objects.filter(pk=job.pk, status=job.status).update(
        status=status, finished_at=now, updated_at=now, payload=_without_secrets(job.payload))
    if updated:
        events.emit("job.finished", client_id=job.client_id,
                    payload={"job_id": job.pk, "device_id": job.device_id, "status": status})
    return bool(updated)


def _apply_job_results(device_id: int, results: list[Any], now: datetime) -> None:
    for item in results:
        data = item.data
        finished = data.status != JobStatus.RUNNING
        open_job = Job.objects.filter(pk=data.job_id, device_id=device_id, status__in=OPEN_JOB_STATUSES)
        payload = open_job.values_list("payload", flat=True).first()
        secrets_of_job = payload.get(SECRET_PARAMETERS) if isinstance(payload, dict) else None
        stdout, stderr = data.stdout, data.stderr
        fields: dict[str, Any] = {}
        if secrets_of_job:
            values = list(secrets_of_job.values()) if isinstance(secrets_of_job, dict) else []
            stdout, stderr = redact_secrets(stdout, values), redact_secrets(stderr, values)
            if finished:
                fields["payload"] = _without_secrets(payload)
        updated = open_job.update(
            status=data.status, exit_code=data.exit_code, stdout=stdout[:OUTPUT_LIMIT],
            stderr=stderr[:OUTPUT_LIMIT], duration_ms=data.duration_ms,
            finished_at=now if finished else None, updated_at=now, **fields)
        if updated and finished:  # a workflow waiting for this job resumes (automation's job.finished handler)
            events.emit("job.finished", payload={"job_id": data.job_id, "device_id": device_id, "status": data.status})
        if not updated:
            logger.warning("device %s reported a result for job %s, which is not an open job of this device",
                           device_id, data.job_id)


def _pending_jobs(device_id: int, now: datetime, interval: int) -> list[dict[str, Any]]:
    """Queued jobs, and jobs sent long enough ago with no result yet (their answer may have been lost)."""
    resend_before = now - timedelta(seconds=interval * RESEND_AFTER_INTERVALS)
    due = Q(status=JobStatus.QUEUED) | Q(status=JobStatus.SENT, sent_at__lt=resend_before)
    jobs = list(Job.objects.select_for_update().filter(due, device_id=device_id)
                .order_by("pk").values("pk", "kind", "payload")[:JOBS_PER_CHECKIN])
    if jobs:
        Job.objects.filter(pk__in=[j["pk"] for j in jobs]).update(
            status=JobStatus.SENT, sent_at=now, updated_at=now,
            first_sent_at=Coalesce("first_sent_at", Value(now, output_field=DateTimeField())))
    return [{"id": j["pk"], "kind": j["kind"], "payload": j["payload"]} for j in jobs]


UPDATES_REPORTED = "device.updates_reported"


def _emit_updates_snapshot(caller: auth.AuthenticatedAgent, item: Any) -> None:
    """Hand a device's updates snapshot to patching (above agents) as one outbox row: the check-in's
    transaction stays one insert, and the snapshot is applied by the worker (docs/architecture.md)."""
    data = item.data
    events.emit(UPDATES_REPORTED, client_id=caller.client_id, payload={
        "device_id": caller.device_id, "at": item.at, "seq": item.seq, "sources": list(data.sources),
        "errors": dict(data.errors), "updates": [u.model_dump(mode="json") for u in data.updates]})


def checkin_apply(*, caller: auth.AuthenticatedAgent, checkin: Checkin, ip: str = "") -> dict[str, Any]:
    """Apply one check-in in one transaction; items at or below the acknowledged seq are skipped.

    Returns the answer, to be sent only once this function has returned (after commit).
    """
    now = timezone.now()
    rotate_plain = ""
    with transaction.atomic():
        agent = (Agent.objects.select_for_update().filter(device_id=caller.device_id)
                 .values("pk", "last_seq", "checkin_interval", "rotation_requested_at").first())
        if agent is None:
            raise auth.AgentAuthError()
        last_seq = agent["last_seq"]
        fresh = [item for item in checkin.items if item.seq > last_seq]
        telemetry, job_results = _telemetry(caller, fresh, now, ip)
        asset_services.telemetry_record(telemetry)
        snapshots = [item for item in fresh if item.kind == "updates"]
        if snapshots:  # only the newest: a snapshot replaces the ones before it
            _emit_updates_snapshot(caller, snapshots[-1])
        if job_results:
            _apply_job_results(caller.device_id, job_results, now)
        ack = max(last_seq, fresh[-1].seq if fresh else 0)
        agent_updates: dict[str, Any] = {"last_seq": ack, "last_checkin_at": now,
                                         "agent_version": checkin.envelope.agent_version}
        if caller.last_used_at is None:
            # First use of this credential (a new enrollment or a rotation): older ones end here.
            _revoke_credentials(caller.device_id, keep=caller.credential_id)
            agent_updates["rotation_requested_at"] = None
            agent["rotation_requested_at"] = None
        if caller.last_used_at is None or now - caller.last_used_at > LAST_USED_PRECISION:
            AgentCredential.objects.filter(pk=caller.credential_id).update(last_used_at=now)
            # A hint only: if this transaction rolls back, the next cache load reads the database again.
            auth.remember_used(caller, now)
        if agent["rotation_requested_at"] is not None:
            # Never-used credentials of an earlier rotation whose answer was lost are dropped first.
            AgentCredential.objects.filter(device_id=caller.device_id, revoked_at__isnull=True,
                                           last_used_at__isnull=True).exclude(pk=caller.credential_id).update(
                revoked_at=now)
            device = Device(pk=caller.device_id, client_id=caller.client_id)
            _credential, rotate_plain = _issue_credential(device)
        Agent.objects.filter(pk=agent["pk"]).update(**agent_updates)
        jobs = _pending_jobs(caller.device_id, now, agent["checkin_interval"])
    answer: dict[str, Any] = {
        "ack_seq": ack, "server_time": now.isoformat().replace("+00:00", "Z"),
        "checkin_interval": agent["checkin_interval"], "checkin_jitter": checkin_jitter(agent["checkin_interval"]),
        "policy": None, "jobs": jobs}
    # After commit: the policy comes from monitoring through a hook (a cached read on the hot path).
    current = hooks.policy_for_device(caller.device_id)
    if current is not None and current[0] != checkin.envelope.policy_version:
        answer["policy"] = current[1]
    keys = hooks.signing_keys()
    if keys is not None:
        answer["signing_keys"] = keys  # the same in the fast path's answer
    if rotate_plain:
        answer["rotate_credential"] = rotate_plain
    return answer


def enroll_answer(enrollment: Enrollment) -> dict[str, Any]:
    """The 201 body of an enrollment."""
    return {"device_id": enrollment.device.pk, "credential": enrollment.credential,
            "checkin_interval": enrollment.agent.checkin_interval,
            "checkin_jitter": checkin_jitter(enrollment.agent.checkin_interval),
            "server_time": timezone.now().isoformat().replace("+00:00", "Z"),
            # The MSP's active script-signing keys (automation provides them): the agent trusts them from here on.
            "signing_keys": [{"key_id": k["key_id"], "public_key": k["public_key"]}
                             for k in (hooks.signing_keys() or {}).get("keys", [])]}
