"""Helpers of the agents tests: enroll through the real endpoint, build check-in bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.test import Client as HttpClient

from tenfold.agents import services
from tenfold.agents.models import EnrollmentToken
from tenfold.clients.models import Client
from tenfold.core.roles import Role

AT = "2026-11-26T16:01:00Z"
AT_DT = datetime(2026, 11, 26, 16, 1, tzinfo=UTC)


def new_token(client: Client, **kwargs: Any) -> tuple[EnrollmentToken, str]:
    from tenfold.accounts.testing import make_staff

    admin = make_staff(Role.ADMIN, mfa=False)
    return services.enrollment_token_create(actor=admin, client=client, name=kwargs.pop("name", "Roll-out"),
                                            **kwargs)


def enroll_body(token: str, machine_id: str = "4c4c4544-0042-8010", hostname: str = "pc-compta-01",
                **extra: Any) -> dict[str, Any]:
    return {"token": token, "hostname": hostname, "machine_id": machine_id,
            "os": {"family": "linux", "name": "Debian GNU/Linux", "version": "12"}, "agent_version": "0.1.0",
            **extra}


def post(http: HttpClient, path: str, body: Any, credential: str | None = None) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {credential}"} if credential else {}
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return http.post(path, data=data, content_type="application/json", **headers)


def enroll(client: Client, machine_id: str = "4c4c4544-0042-8010", hostname: str = "pc-compta-01") -> dict[str, Any]:
    """Enroll through POST /agent/v1/enroll; returns the 201 body."""
    _token, plain = new_token(client)
    response = post(HttpClient(), "/agent/v1/enroll", enroll_body(plain, machine_id, hostname))
    assert response.status_code == 201, response.content
    return response.json()


def heartbeat(seq: int, uptime: int = 86400) -> dict[str, Any]:
    return {"seq": seq, "kind": "heartbeat", "at": AT, "data": {"uptime_s": uptime}}


def result(seq: int, check_id: int = 7, status: str = "pass", value: float | None = 63.2,
           message: str = "63.2 % free on /") -> dict[str, Any]:
    return {"seq": seq, "kind": "check_result", "at": AT,
            "data": {"check_id": check_id, "status": status, "value": value, "message": message}}


def metrics(seq: int) -> dict[str, Any]:
    return {"seq": seq, "kind": "metrics", "at": AT, "data": {
        "cpu_pct": 12.5, "mem_pct": 41.0, "disks": [{"mount": "/", "free_pct": 63.2, "free_bytes": 52000000000},
                                                    {"mount": "/var", "free_pct": 18.5}]}}


def checkin_body(*items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"agent_version": "0.1.0", "policy_version": None, "sent_at": AT, "items": list(items), **extra}
