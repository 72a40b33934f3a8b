"""The HTTP client and the delivery loop: backoff, Retry-After, credential rejection, TLS, nothing lost."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from conftest import FakeClock, FakeCollector, ProtocolServer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tenfold_agent.client import (
    AgentClient,
    CredentialRejected,
    RetryLater,
    ServerUnavailable,
    backoff_delay,
    parse_retry_after,
    rejected_seqs,
    retry_after_delay,
)
from tenfold_agent.config import AgentConfig
from tenfold_agent.service import EXIT_CREDENTIAL, Agent


def test_backoff_schedule_doubles_with_jitter_and_caps_at_ten_minutes() -> None:
    low = [backoff_delay(n, rand=lambda: 0.0) for n in range(10)]
    high = [backoff_delay(n, rand=lambda: 1.0) for n in range(10)]
    assert low == [2.5, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 300.0, 300.0, 300.0]
    assert high == [5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 600.0, 600.0, 600.0]
    assert backoff_delay(3, rand=lambda: 0.5) == 30.0
    assert backoff_delay(10_000, rand=lambda: 1.0) == 600.0  # no overflow after days offline


def test_retry_after_header_forms() -> None:
    now = dt.datetime(2026, 11, 26, 16, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Thu, 26 Nov 2026 16:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Thu, 26 Nov 2026 15:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("999999") == 3600.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert retry_after_delay(120, rand=lambda: 0.0) == 120.0
    assert retry_after_delay(120, rand=lambda: 1.0) == 132.0
    assert retry_after_delay(3, rand=lambda: 1.0) == 4.0


def test_rejected_seqs_forms() -> None:
    assert rejected_seqs([103, {"seq": 7, "message": "bad"}, "x", True]) == [7, 103]
    assert rejected_seqs({"105": ["bad"], "items": ["?"]}) == [105]
    assert rejected_seqs({"seq": [3, 1]}) == [1, 3]
    assert rejected_seqs(None) == []


def _agent(tmp_path: Path, server: ProtocolServer, clock: FakeClock) -> Agent:
    config = AgentConfig(server_url=server.url, credential="tfa_0a1b2c3d_secret", device_id=42, verify_tls=False)
    config.save(tmp_path)
    return Agent(tmp_path, collector=FakeCollector(), clock=clock, wait=clock.wait, rand=lambda: 0.0,
                 cpu_sample_s=0.01)


def test_429_retry_after_is_honoured_and_the_retry_carries_the_same_items(
    tmp_path: Path, server: ProtocolServer
) -> None:
    server.script.append((429, {"Retry-After": "7"}, {"code": "too_many_requests", "message": "slow down"}))
    clock = FakeClock(stop_after=2)
    agent = _agent(tmp_path, server, clock)
    agent.run()
    # First wait: the header's 7 s (jitter drawn as 0); then the next interval (60 - 10 jitter - 7).
    assert clock.waits == [7.0, 43.0]
    first, second = (r["body"]["items"] for r in server.requests)
    assert [i["seq"] for i in first] == [i["seq"] for i in second] != []
    assert agent.spool.count() == 0
    assert [i["seq"] for i in server.applied] == [i["seq"] for i in first]


def test_5xx_and_connection_errors_back_off_exponentially_and_keep_the_spool(
    tmp_path: Path, server: ProtocolServer
) -> None:
    for _ in range(3):
        server.script.append((503, {}, {"code": "unavailable", "message": "cannot commit"}))
    clock = FakeClock(stop_after=4)
    agent = _agent(tmp_path, server, clock)
    agent.run()
    assert clock.waits[:3] == [2.5, 5.0, 10.0]
    assert len(server.requests) == 4
    assert agent.spool.count() == 0
    assert len(server.applied) == len(server.requests[0]["body"]["items"])


def test_closed_port_is_a_connection_error_and_nothing_leaves_the_spool(tmp_path: Path) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    config = AgentConfig(server_url=f"http://127.0.0.1:{port}", credential="tfa_0a1b2c3d_secret", device_id=1,
                         verify_tls=False)
    config.save(tmp_path)
    clock = FakeClock(stop_after=3)
    agent = Agent(tmp_path, collector=FakeCollector(), clock=clock, wait=clock.wait, rand=lambda: 1.0)
    agent.run()
    assert clock.waits == [5.0, 10.0, 20.0]
    assert agent.spool.count() >= 4  # heartbeat, metrics, inventory, posture: all still there
    assert "connection_failed" in agent.state["last_error"]["error"]


def test_revoked_credential_stops_the_agent_with_a_clear_line(
    tmp_path: Path, server: ProtocolServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.script.append((401, {}, {"code": "credential_revoked", "message": "revoked by staff"}))
    clock = FakeClock(stop_after=5)
    agent = _agent(tmp_path, server, clock)
    with caplog.at_level(logging.ERROR, logger="tenfold_agent"):
        assert agent.run() == EXIT_CREDENTIAL
    assert "credential credential_revoked" in caplog.text and "enroll it again" in caplog.text
    assert clock.waits == []
    assert agent.spool.count() > 0  # kept: a new enrollment of the same device delivers them
    # A restart does not hammer the server with a revoked credential.
    again = Agent(tmp_path, collector=FakeCollector(), clock=clock, wait=clock.wait)
    assert again.run() == EXIT_CREDENTIAL
    assert len(server.requests) == 1


def test_client_maps_statuses(server: ProtocolServer) -> None:
    client = AgentClient(server.url, "tfa_0a1b2c3d_secret", verify_tls=False)
    server.script.append((429, {"Retry-After": "30"}, {"code": "too_many_requests", "message": "later"}))
    with pytest.raises(RetryLater) as busy:
        client.checkin(b'{"items":[]}')
    assert busy.value.retry_after == 30.0
    server.script.append((401, {}, {"code": "credential_invalid", "message": "?"}))
    with pytest.raises(CredentialRejected) as rejected:
        client.checkin(b'{"items":[]}')
    assert not rejected.value.revoked
    server.script.append((502, {}, {"code": "bad_gateway", "message": "proxy"}))
    with pytest.raises(ServerUnavailable):
        client.checkin(b'{"items":[]}')
    assert server.requests[0]["headers"]["Authorization"] == "Bearer tfa_0a1b2c3d_secret"


def test_422_naming_items_drops_only_those(tmp_path: Path, server: ProtocolServer) -> None:
    clock = FakeClock(stop_after=1)
    agent = _agent(tmp_path, server, clock)
    agent.spool.put("check_result", {"check_id": 1, "status": "pass", "value": 1, "message": ""})  # seq 1
    agent.spool.put("check_result", {"check_id": "bad", "status": "??", "value": 1, "message": ""})  # seq 2
    server.script.append((422, {}, {"code": "validation_error", "message": "bad item", "errors": {"2": ["?"]}}))
    outcome = agent.sync()
    assert outcome.ok
    assert [i["seq"] for i in server.applied] == [1]
    assert agent.spool.dropped() == {"rejected:check_result": 1}


# --- TLS ---------------------------------------------------------------------------------------------
def _certificate(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tenfold test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    cert, key = _certificate(tmp_path)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = b'{"ack_seq": 0}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}", cert
    httpd.shutdown()
    httpd.server_close()


def test_tls_is_verified_by_default_and_a_named_ca_is_trusted(tls_server: tuple[str, Path]) -> None:
    url, cert = tls_server
    with pytest.raises(ServerUnavailable) as failure:
        AgentClient(url, "tfa_0a1b2c3d_x", timeout=5).checkin(b"{}")
    assert failure.value.code == "tls_verification_failed"
    assert AgentClient(url, "tfa_0a1b2c3d_x", ca_file=str(cert), timeout=5).checkin(b"{}") == {"ack_seq": 0}
