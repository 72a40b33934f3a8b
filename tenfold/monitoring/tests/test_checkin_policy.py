"""The check-in answer carries the device's effective policy only when the agent's version is stale,
and a failing check result sent by the agent becomes an alert once evaluated."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from tenfold.agents import auth
from tenfold.agents.tests.helpers import checkin_body, enroll, heartbeat, post, result
from tenfold.monitoring.evaluation import evaluate_new_results
from tenfold.monitoring.models import Alert, PolicyScope
from tenfold.monitoring.tests.factories import make_check, make_client, make_policy

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_credentials():
    auth.cache_clear()
    yield
    auth.cache_clear()


def test_policy_is_sent_when_stale_and_not_when_current() -> None:
    # given a client policy with a TCP check and an enrolled device
    client = make_client()
    policy = make_policy(PolicyScope.CLIENT, client=client)
    check = make_check(policy, "tcp_port", {"host": "127.0.0.1", "port": 9, "timeout_s": 2}, interval_s=60,
                       failures_before_alert=2)
    enrolled = enroll(client)
    http = HttpClient()
    # when the agent checks in without a policy version
    first = post(http, "/agent/v1/checkin", checkin_body(heartbeat(1)), enrolled["credential"]).json()
    # then the answer carries the policy with the check, and its version
    assert [c["id"] for c in first["policy"]["checks"]] == [check.pk]
    assert first["policy"]["checks"][0]["params"] == {"host": "127.0.0.1", "port": 9, "timeout_s": 2}
    # when it checks in again with that version
    second = post(http, "/agent/v1/checkin", checkin_body(heartbeat(2), policy_version=first["policy"]["version"]),
                  enrolled["credential"]).json()
    # then no policy is sent
    assert second["policy"] is None
    assert second["ack_seq"] == 2


def test_failing_results_from_the_agent_raise_one_alert_after_evaluation() -> None:
    # given a check that alerts after two failures, on an enrolled device
    client = make_client()
    check = make_check(make_policy(PolicyScope.CLIENT, client=client), "tcp_port",
                       {"host": "127.0.0.1", "port": 9, "timeout_s": 2}, failures_before_alert=2)
    enrolled = enroll(client)
    http = HttpClient()
    # when the agent reports two failures, and evaluation runs (twice, as a retried batch would)
    body = checkin_body(result(1, check_id=check.pk, status="fail", value=None, message="connection refused"),
                        result(2, check_id=check.pk, status="fail", value=None, message="connection refused"))
    assert post(http, "/agent/v1/checkin", body, enrolled["credential"]).status_code == 200
    evaluate_new_results()
    evaluate_new_results()
    # then exactly one open alert exists for that device and check
    alert = Alert.objects.get()
    assert (alert.device_id, alert.check_definition_id, alert.status) == (enrolled["device_id"], check.pk, "open")
    # when the check passes again
    post(http, "/agent/v1/checkin", checkin_body(result(3, check_id=check.pk, status="pass", value=1.0,
                                                        message="open")), enrolled["credential"])
    evaluate_new_results()
    # then the alert is resolved
    alert.refresh_from_db()
    assert alert.status == "resolved"
