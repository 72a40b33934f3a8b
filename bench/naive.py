"""The naive ingestion baseline: what batching must beat. Benchmark only, never part of the product.

Same authentication (tenfold.agents.auth) and the same validation (tenfold.agents.protocol) as the
real check-in, the same answer (ack, policy hook, pending jobs), but every message is written as its
own row in its own transaction (Django's autocommit: one INSERT, one COMMIT per message), like the
per-row ORM saves of a typical RMM endpoint.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from tenfold.agents import auth, hooks, protocol
from tenfold.agents.models import Agent, Job, JobStatus
from tenfold.assets.models import CheckResult, Device, MetricSample
from tenfold.core.errors import TenfoldError

STATUS = {"pass": 0, "warn": 1, "fail": 2, "error": 3}


def trivial_view(request: HttpRequest) -> HttpResponse:
    """A constant answer through the full middleware stack."""
    return HttpResponse(b"ok", content_type="text/plain")


@csrf_exempt
def naive_checkin(request: HttpRequest) -> JsonResponse:
    try:
        caller = auth.authenticate(request)
        checkin = protocol.parse_checkin(request.body)
    except protocol.ProtocolError as exc:
        return JsonResponse({"code": "validation_error", "message": exc.message}, status=422)
    except TenfoldError as exc:
        return JsonResponse({"code": exc.code, "message": str(exc.message)}, status=exc.status)
    now = timezone.now()
    last_seq = Agent.objects.filter(device_id=caller.device_id).values_list("last_seq", flat=True).first() or 0
    ack = last_seq
    for item in checkin.items:
        if item.seq <= last_seq:
            continue
        data = item.data
        if item.kind == "check_result":
            CheckResult.objects.create(device_id=caller.device_id, client_id=caller.client_id,
                                       check_id=data.check_id, at=item.at, status=STATUS[data.status],
                                       value=data.value, message=data.message[:500], seq=item.seq)
        elif item.kind == "metrics":
            disk = min((d.free_pct for d in data.disks), default=None)
            MetricSample.objects.create(device_id=caller.device_id, client_id=caller.client_id, at=item.at,
                                        cpu_pct=data.cpu_pct, mem_pct=data.mem_pct, disk_min_free_pct=disk)
        ack = item.seq
    Device.objects.filter(pk=caller.device_id).update(last_seen_at=now)
    Agent.objects.filter(device_id=caller.device_id).update(last_seq=ack, last_checkin_at=now)
    jobs = list(Job.objects.filter(device_id=caller.device_id, status=JobStatus.QUEUED).values("pk", "kind")[:20])
    answer = {"ack_seq": ack, "server_time": now.isoformat(), "checkin_interval": 60, "checkin_jitter": 10,
              "policy": None, "jobs": jobs}
    current = hooks.policy_for_device(Device(pk=caller.device_id, client_id=caller.client_id))
    if current is not None and current[0] != checkin.envelope.policy_version:
        answer["policy"] = current[1]
    return JsonResponse(answer)
