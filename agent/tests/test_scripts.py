"""The run_script job: signed with real Ed25519 keys, verified by the agent, then run, or refused with
nothing run (a marker file the script would create proves it)."""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from tenfold_agent.scripts import run_script
from tenfold_agent.signing import (
    KEY_PURPOSE,
    REVOCATION_PURPOSE,
    SCRIPT_PURPOSE,
    SignatureError,
    TrustStore,
    canonical,
    key_id_of,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="shell scripts")


class Key:
    """A real Ed25519 key pair, as an approver holds it."""

    def __init__(self) -> None:
        self.private = Ed25519PrivateKey.generate()
        self.public = base64.b64encode(self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
        self.key_id = key_id_of(self.public)

    def sign(self, data: bytes) -> str:
        return base64.b64encode(self.private.sign(data)).decode()

    def entry(self) -> dict[str, str]:
        return {"key_id": self.key_id, "public_key": self.public}

    def endorse(self, new: Key) -> dict[str, Any]:
        document = canonical({"purpose": KEY_PURPOSE, "key_id": new.key_id, "public_key": new.public})
        return {**new.entry(), "countersigned_by": self.key_id, "countersignature": self.sign(document)}

    def revoke(self, old: Key) -> dict[str, Any]:
        document = canonical({"purpose": REVOCATION_PURPOSE, "key_id": old.key_id})
        return {"key_id": old.key_id, "revoked_by": self.key_id, "signature": self.sign(document)}


def payload(key: Key, body: str, *, parameters: list[dict[str, Any]] | None = None, values: Any = None,
            secrets: Any = None, os_families: tuple[str, ...] = ("linux", "macos"), timeout: int = 30,
            language: str = "shell") -> dict[str, Any]:
    document = canonical({
        "purpose": SCRIPT_PURPOSE, "script_id": 7, "version": 3, "language": language,
        "body_sha256": hashlib.sha256(body.encode()).hexdigest(), "parameters": parameters or [],
        "timeout_seconds": timeout, "os_families": sorted(os_families)})
    result = {"script_id": 7, "version": 3, "document": document.decode(), "body": body,
              "signatures": [{"key_id": key.key_id, "signature": key.sign(document)}],
              "parameters": values or {}}
    if secrets:
        result["secret_parameters"] = secrets
    return result


def trust_of(tmp_path: Path, *keys: Key) -> TrustStore:
    return TrustStore.from_enrollment(tmp_path / "trust.json", [k.entry() for k in keys])


def marker_script(marker: Path) -> str:
    return f'#!/bin/sh\necho ran > "{marker}"\necho "hello from the script"\n'


PARAMS = [{"name": "service", "label": "Service", "type": "string", "required": True},
          {"name": "count", "label": "Count", "type": "number", "required": False},
          {"name": "verbose", "label": "Verbose", "type": "boolean", "required": False},
          {"name": "level", "label": "Level", "type": "choice", "required": False, "choices": ["low", "high"]},
          {"name": "password", "label": "Password", "type": "secret", "required": False}]


def test_a_signed_script_runs_with_its_parameters_in_the_environment_and_secrets_redacted(tmp_path: Path) -> None:
    # given a script signed by a trusted key, with typed parameters and a secret
    key = Key()
    body = ('#!/bin/sh\necho "service=$TF_SERVICE count=$TF_COUNT verbose=$TF_VERBOSE level=$TF_LEVEL"\n'
            'echo "password is $TF_PASSWORD"\necho "warn $TF_PASSWORD" >&2\nps -o args= -p $$\nexit 3\n')
    job = payload(key, body, parameters=PARAMS,
                  values={"service": "nginx", "count": 2, "verbose": True, "level": "high"},
                  secrets={"password": "s3cr3t-Pa55"})
    # when the agent runs it
    result = run_script(job, trust_of(tmp_path, key), "linux")
    # then it ran, with the values as TF_ variables, the secret redacted and not on the command line
    assert result.status == "failed" and result.exit_code == 3
    lines = result.stdout.splitlines()
    assert lines[:2] == ["service=nginx count=2 verbose=true level=high", "password is [secret]"]
    assert "s3cr3t" not in result.stdout and "s3cr3t" not in result.stderr
    assert result.stderr == "warn [secret]\n"
    assert result.duration_ms >= 0


def test_a_zero_exit_succeeds_and_output_is_capped(tmp_path: Path) -> None:
    key = Key()
    body = "#!/bin/sh\nhead -c 100000 /dev/zero | tr '\\0' x\n"
    result = run_script(payload(key, body), trust_of(tmp_path, key), "linux")
    assert (result.status, result.exit_code) == ("succeeded", 0)
    assert result.stdout.startswith("x" * 65536)
    assert result.stdout.endswith("[output truncated: 100000 bytes, the first 65536 kept]")


def test_a_tampered_body_is_refused_and_nothing_runs(tmp_path: Path) -> None:
    key = Key()
    marker = tmp_path / "marker"
    job = payload(key, "#!/bin/sh\necho harmless\n")
    job["body"] = marker_script(marker)  # a compromised server swaps the body, keeping document and signature
    result = run_script(job, trust_of(tmp_path, key), "linux")
    assert (result.status, result.exit_code, result.stdout) == ("failed", None, "")
    assert result.stderr.startswith("refused, nothing was run: the body's SHA-256")
    assert not marker.exists()


def test_a_tampered_document_or_signature_is_refused(tmp_path: Path) -> None:
    key = Key()
    marker = tmp_path / "marker"
    job = payload(key, marker_script(marker))
    # the document changed (a longer timeout, say) under the same signature
    forged = dict(job, document=job["document"].replace('"timeout_seconds":30', '"timeout_seconds":99999'))
    result = run_script(forged, trust_of(tmp_path, key), "linux")
    assert result.stderr.startswith("refused, nothing was run: signature check failed: no valid signature by a "
                                    "trusted key (signature by")
    # a signature with one bit flipped
    raw = bytearray(base64.b64decode(job["signatures"][0]["signature"]))
    raw[10] ^= 1
    flipped = dict(job, signatures=[{"key_id": key.key_id, "signature": base64.b64encode(bytes(raw)).decode()}])
    result = run_script(flipped, trust_of(tmp_path, key), "linux")
    assert "does not match the payload" in result.stderr
    assert result.status == "failed" and not marker.exists()


def test_an_unknown_key_or_no_signature_is_refused(tmp_path: Path) -> None:
    trusted, stranger = Key(), Key()
    marker = tmp_path / "marker"
    result = run_script(payload(stranger, marker_script(marker)), trust_of(tmp_path, trusted), "linux")
    assert result.stderr == (f"refused, nothing was run: signature check failed: no valid signature by a trusted "
                             f"key ({stranger.key_id} is not a trusted key)")
    unsigned = dict(payload(trusted, marker_script(marker)), signatures=[])
    assert "(no signature)" in run_script(unsigned, trust_of(tmp_path, trusted), "linux").stderr
    assert not marker.exists()


def test_a_revoked_key_no_longer_signs_and_revocations_must_be_signed_by_another_trusted_key(tmp_path: Path) -> None:
    first, second = Key(), Key()
    trust = trust_of(tmp_path, first, second)
    marker = tmp_path / "marker"
    job = payload(first, marker_script(marker))
    # a revocation signed by the revoked key itself, or with a forged signature, or by an unknown key: ignored
    stranger = Key()
    forged = {**second.revoke(first), "signature": first.revoke(second)["signature"]}
    notes = trust.apply({"keys": [], "revoked": [first.revoke(first), stranger.revoke(first), forged]})
    assert first.key_id in trust.keys and trust.revoked == set()
    assert notes == [f"revocation of {first.key_id} refused: signature by {second.key_id!r} does not match the payload"]
    # a revocation signed by the other trusted key: the key is dropped for good
    assert trust.apply({"keys": [], "revoked": [second.revoke(first)]}) == [
        f"key {first.key_id} revoked (signed by {second.key_id})"]
    result = run_script(job, trust, "linux")
    assert result.stderr == (f"refused, nothing was run: signature check failed: no valid signature by a trusted "
                             f"key ({first.key_id} is revoked)")
    assert not marker.exists()
    # and a revoked key is never trusted again, even offered with a countersignature
    trust.apply({"keys": [second.endorse(first)], "revoked": []})
    assert first.key_id not in trust.keys


def test_a_rotated_key_is_accepted_only_when_countersigned_by_a_trusted_key(tmp_path: Path) -> None:
    old, new, newer, rogue = Key(), Key(), Key(), Key()
    trust = trust_of(tmp_path, old)
    # a key the server adds on its own (no countersignature), one endorsed by an untrusted key, and a
    # countersignature made for another key: none is trusted
    forged = {**new.entry(), "countersigned_by": old.key_id, "countersignature": old.endorse(rogue)["countersignature"]}
    notes = trust.apply({"keys": [rogue.entry(), Key().endorse(rogue), forged], "revoked": []})
    assert set(trust.keys) == {old.key_id}
    assert f"key {new.key_id} refused: signature by {old.key_id!r} does not match the payload" in notes
    marker = tmp_path / "marker"
    assert run_script(payload(rogue, marker_script(marker)), trust, "linux").status == "failed"
    assert not marker.exists()
    # a chain old -> new -> newer, listed in any order, then old revoked by newer
    trust.apply({"keys": [new.endorse(newer), old.endorse(new)], "revoked": [newer.revoke(old)]})
    assert set(trust.keys) == {new.key_id, newer.key_id} and trust.revoked == {old.key_id}
    result = run_script(payload(newer, marker_script(marker)), trust, "linux")
    assert (result.status, result.stdout) == ("succeeded", "hello from the script\n") and marker.exists()
    # and the store survives a restart
    trust.save()
    again = TrustStore.load(tmp_path, [old.entry()])
    assert (again.keys, again.revoked) == (trust.keys, trust.revoked)


def test_enrollment_keys_must_carry_their_own_id(tmp_path: Path) -> None:
    one, other = Key(), Key()
    with pytest.raises(SignatureError, match="does not match its public key"):
        TrustStore.from_enrollment(tmp_path / "t.json", [{"key_id": other.key_id, "public_key": one.public}])


def test_os_family_parameters_and_timeout_are_enforced(tmp_path: Path) -> None:
    key = Key()
    marker = tmp_path / "marker"
    trust = trust_of(tmp_path, key)
    windows_only = payload(key, marker_script(marker), os_families=("windows",))
    assert run_script(windows_only, trust, "linux").stderr == (
        "refused, nothing was run: signed for windows, this device runs linux")
    undeclared = payload(key, marker_script(marker), values={"LD_PRELOAD": "/tmp/x.so"})
    assert "parameter 'LD_PRELOAD' is not in the signed schema" in run_script(undeclared, trust, "linux").stderr
    wrong_choice = payload(key, marker_script(marker), parameters=PARAMS, values={"service": "x", "level": "max"})
    assert "not one of the signed choices" in run_script(wrong_choice, trust, "linux").stderr
    secret_as_plain = payload(key, marker_script(marker), parameters=PARAMS, values={"service": "x", "password": "p"})
    assert "the signed schema says secret" in run_script(secret_as_plain, trust, "linux").stderr
    missing = payload(key, marker_script(marker), parameters=PARAMS, values={})
    assert "required parameter 'service' has no value" in run_script(missing, trust, "linux").stderr
    assert not marker.exists()
    # a script that outlives its signed timeout is stopped
    slow = payload(key, f'#!/bin/sh\necho started\nsleep 30\necho late > "{marker}"\n', timeout=1)
    result = run_script(slow, trust, "linux")
    assert (result.status, result.exit_code, result.stdout) == ("timed_out", None, "started\n")
    assert result.stderr.endswith("[stopped after the 1 s timeout]") and result.duration_ms < 10_000
    assert not marker.exists()


def test_python_runs_and_powershell_is_refused_off_windows(tmp_path: Path) -> None:
    key = Key()
    trust = trust_of(tmp_path, key)
    result = run_script(payload(key, "import os\nprint('py', os.environ['TF_N'])\n", language="python",
                                parameters=[{"name": "n", "label": "N", "type": "number", "required": True}],
                                values={"n": 4.5}), trust, "linux")
    assert (result.status, result.stdout) == ("succeeded", "py 4.5\n")
    ps = payload(key, "Write-Output hi", language="powershell", os_families=("linux",))
    assert run_script(ps, trust, "linux").stderr == "refused, nothing was run: PowerShell scripts run on Windows only"


def test_the_agent_takes_key_updates_from_the_answer_before_running_its_jobs(tmp_path: Path, server: Any) -> None:
    from conftest import FakeClock, FakeCollector
    from tenfold_agent.service import Agent, enroll

    old, new = Key(), Key()
    server.signing_keys = [old.entry()]
    state = tmp_path / "state"
    enroll(state, server.url, "tfe_1a2b3c4d_good", insecure=True, collector=FakeCollector())
    clock = FakeClock(stop_after=1)
    agent = Agent(state, collector=FakeCollector(), clock=clock, wait=clock.wait, rand=lambda: 0.5)
    agent.collect()
    marker = tmp_path / "marker"
    # the answer rotates in a countersigned key and carries a job signed by it
    server.next_answer = {"signing_keys": {"keys": [old.entry(), old.endorse(new)], "revoked": []},
                          "jobs": [{"id": 31, "kind": "run_script", "payload": payload(new, marker_script(marker))}]}
    assert agent.sync().ok
    assert agent.jobs.wait_idle(30)
    agent.spool.put_heartbeat({"uptime_s": 1})
    assert agent.sync().ok
    results = {i["data"]["job_id"]: i["data"] for i in server.applied if i["kind"] == "job_result"}
    assert results[31]["status"] == "succeeded" and results[31]["stdout"] == "hello from the script\n"
    assert marker.exists()
    stored = json.loads((state / "trust.json").read_text())
    assert stored == {"keys": {old.key_id: old.public, new.key_id: new.public}, "revoked": []}
    agent.close()
