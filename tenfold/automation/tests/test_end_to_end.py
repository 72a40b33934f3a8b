"""End to end: `tenfold sign` on "the approver's machine" (this test's process and files), a live server,
a real agent on this machine. The script runs and its output arrives; then the stored body, and separately
the stored signature, are changed straight in the instance's database: the agent refuses, and the marker
file the script would create proves that it did not run.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tenfold.agents.tests.live import wait_until

pytestmark = pytest.mark.slow

SCRIPT = """#!/bin/sh
echo "greeting: $TF_GREETING"
echo "token seen: $TF_TOKEN"
echo "ran" > "$TF_MARKER"
"""


def sign_cli(live: Any, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`tenfold sign ...` as the approver runs it: no database, no Tenfold settings in its environment."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(live.root), "TENFOLD_SERVER": live.server.url,
           "TENFOLD_TOKEN": live.api.token}
    result = subprocess.run([sys.executable, "-m", "tenfold", "sign", *args], env=env, cwd=live.root,
                            capture_output=True, text=True, timeout=60, check=False)
    if check:
        assert result.returncode == 0, f"tenfold sign {args}:\n{result.stdout}\n{result.stderr}"
    return result


def run_and_wait(live: Any, script_id: int, device_id: int, marker: Path, status: str) -> dict[str, Any]:
    [run] = live.api.post(f"/scripts/{script_id}/run", {
        "device_ids": [device_id], "parameters": {"greeting": "bonjour", "marker": str(marker),
                                                  "token": "s3cret-T0ken"}})
    return wait_until(lambda: (r := live.api.get(f"/script-runs/{run['id']}"))["status"] == status and r, 45,
                      f"script run {run['id']} to be {status}", live.details)


def test_a_script_signed_with_tenfold_sign_runs_on_a_real_agent_and_tampering_is_refused(live: Any) -> None:
    api = live.api
    # given: a key pair made on the approver's machine; only the public key is registered
    key_file = live.root / "approver.pem"
    out = sign_cli(live, "keygen", "--out", str(key_file)).stdout
    public = re.search(r"Public key \(register it in Tenfold\): (\S+)", out).group(1)  # type: ignore[union-attr]
    key = api.post("/signing-keys", {"name": "Approver laptop", "public_key": public})
    assert key["key_id"] in out and key["countersigned_by"] is None
    private_pem = key_file.read_text()
    stored = live.instance.query("from tenfold.automation.models import SigningKey\n"
                                 "result = list(SigningKey.objects.values())")
    assert private_pem.split("\n")[1] not in str(stored)  # the server holds no private material

    # given: a script (with a secret parameter) awaiting signature, and an agent enrolled on this machine
    parameters = [{"name": "greeting", "label": "Greeting", "type": "string", "required": True},
                  {"name": "marker", "label": "Marker file", "type": "string", "required": True},
                  {"name": "token", "label": "Token", "type": "secret", "required": True}]
    script = api.post("/scripts", {"name": "Say hello", "language": "shell", "os_families": ["linux"],
                                   "timeout_seconds": 30, "parameters": parameters, "body": SCRIPT})
    agent, device_id = live.enrolled_agent()
    agent.start()
    trust = live.root / "agent" / "trust.json"
    wait_until(trust.exists, 20, "the agent's trust store", live.details)
    assert key["key_id"] in trust.read_text()

    # when: the approver lists, reviews and approves it with tenfold sign
    pending = sign_cli(live, "pending").stdout
    lines = [line.split("\t") for line in pending.splitlines()]
    assert len(lines) == 9  # the eight scripts of the starter library (unsigned) and this one
    [version_id] = [int(fields[0]) for fields in lines if fields[1] == "Say hello v1"]
    review = sign_cli(live, "review", str(version_id)).stdout
    import hashlib

    assert f"Body SHA-256 (computed here): {hashlib.sha256(SCRIPT.encode()).hexdigest()}" in review
    assert "TF_TOKEN: secret" in review and 'echo "ran" > "$TF_MARKER"' in review and "WARNING" not in review
    approved = sign_cli(live, "approve", str(version_id), "--key", str(key_file), "--yes")
    assert "Signed version 1 of \"Say hello\"" in approved.stdout
    assert api.get(f"/script-versions/{version_id}")["status"] == "signed"

    # then: it runs as a job on the real agent, and its output arrives with the secret redacted
    marker = live.root / "marker-1"
    done = run_and_wait(live, script["id"], device_id, marker, "succeeded")
    assert done["exit_code"] == 0 and marker.read_text() == "ran\n"
    assert done["stdout"] == "greeting: bonjour\ntoken seen: [secret]\n"
    assert done["parameters"] == {"greeting": "bonjour", "marker": str(marker), "token": "[secret]"}

    # when: the stored body is changed in the database (a compromised server)
    live.instance.query(
        "from tenfold.automation.models import ScriptVersion\n"
        f"result = ScriptVersion.objects.filter(pk={version_id}).update(body={SCRIPT!r}.replace('ran', 'PWNED'))")
    marker = live.root / "marker-2"
    refused = run_and_wait(live, script["id"], device_id, marker, "failed")
    # then: the agent refuses it and the script did not run
    assert refused["exit_code"] is None and refused["stdout"] == ""
    assert refused["stderr"].startswith("refused, nothing was run: the body's SHA-256")
    assert not marker.exists()

    # when: the body is put back but the stored signature is replaced by a well-formed one of other bytes
    live.instance.query(
        "from tenfold.automation.models import ScriptVersion, Signature\n"
        "from tenfold.automation import signing\n"
        f"ScriptVersion.objects.filter(pk={version_id}).update(body={SCRIPT!r})\n"
        "forged = signing.sign(signing.generate_private_key(), b'other bytes')\n"
        f"result = Signature.objects.filter(version_id={version_id}).update(signature=forged)")
    marker = live.root / "marker-3"
    refused = run_and_wait(live, script["id"], device_id, marker, "failed")
    # then: refused again, nothing ran
    assert refused["stderr"].startswith("refused, nothing was run: signature check failed: no valid signature by "
                                        f"a trusted key (signature by '{key['key_id']}' does not match the payload)")
    assert not marker.exists()
    assert "s3cret-T0ken" not in agent.log_path.read_text()
