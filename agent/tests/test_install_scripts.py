"""Pre- and post-install scripts of `install_updates`: real signed scripts (real Ed25519 keys, real processes),
verified and run as `run_script` runs them; the package manager's commands go to a replaying runner that
records them (nothing is installed on this machine). Marker files the scripts write prove what ran, and when."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import Replay
from tenfold_agent import actions
from tenfold_agent.actions import Host, PayloadError
from tenfold_agent.process import CancelToken
from tenfold_agent.util import CommandResult
from test_scripts import Key, payload, trust_of

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="shell scripts")

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC).timestamp()
APT_OPENSSL = ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "--only-upgrade", "-o",
               "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold", "openssl=3.0.11-1"]
UPDATES = [{"source": "apt", "identifier": "openssl", "version": "3.0.11-1"},
           {"source": "apt", "identifier": "curl", "version": "8.5.0-2"}]


class Watching(Replay):
    """A replaying runner that also notes, at each command, which marker files existed."""

    def __init__(self, answers: dict[tuple[str, ...], CommandResult | str], *markers: Path) -> None:
        super().__init__(answers)
        self.markers = markers
        self.seen: list[list[str]] = []

    def __call__(self, argv: Sequence[str], timeout: float) -> CommandResult:
        self.seen.append([m.name for m in self.markers if m.exists()])
        return super().__call__(argv, timeout)


def device(tmp_path: Path, key: Key, run: Replay, token: CancelToken | None = None) -> Host:
    return Host(family="linux", run=run, which=lambda name: f"/usr/bin/{name}", clock=lambda: NOW,
                exists=lambda path: False, token=token or CancelToken(), trust=trust_of(tmp_path, key))


def job(pre: dict[str, Any] | None = None, post: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"updates": UPDATES[:1], "reboot": "never", "reboot_deferrals": 0,
                            "window_ends_at": "2026-11-27T04:00:00Z", **extra}
    if pre is not None:
        data["pre_script"] = pre
    if post is not None:
        data["post_script"] = post
    return data


def test_the_pre_script_runs_before_the_installs_and_the_post_script_after(tmp_path: Path) -> None:
    # given a pre-install script that stops the application and a post-install script that starts it
    key = Key()
    pre_marker, post_marker = tmp_path / "pre-ran", tmp_path / "post-ran"
    pre = payload(key, f'#!/bin/sh\ntouch "{pre_marker}"\necho "stopping app"\n')
    post = payload(key, f'#!/bin/sh\ntouch "{post_marker}"\necho "starting app"\necho "warm" >&2\n')
    run = Watching({("env",): CommandResult(0, "", "")}, pre_marker, post_marker)
    # when
    outcome = actions.install_updates(job(pre, post), device(tmp_path, key, run))
    # then the install ran after the pre-script and before the post-script; both are in the result
    assert run.calls == [APT_OPENSSL]
    assert run.seen == [["pre-ran"]]
    assert post_marker.exists()
    assert json.loads(outcome.stdout) == {
        "results": [{"identifier": "openssl", "status": "installed", "message": ""}],
        "reboot": "not allowed by the policy",
        "pre_script": {"status": "succeeded", "exit_code": 0, "stdout": "stopping app\n", "stderr": ""},
        "post_script": {"status": "succeeded", "exit_code": 0, "stdout": "starting app\n", "stderr": "warm\n"}}
    assert (outcome.status, outcome.exit_code, outcome.stderr) == ("succeeded", 0, "")


def test_a_pre_script_with_a_tampered_signature_is_refused_and_nothing_is_installed(tmp_path: Path) -> None:
    # given a pre-install script whose signature is of another document
    key = Key()
    marker, post_marker = tmp_path / "pre-ran", tmp_path / "post-ran"
    pre = payload(key, f'#!/bin/sh\ntouch "{marker}"\n')
    pre["signatures"] = [{"key_id": key.key_id, "signature": key.sign(b"another document")}]
    post = payload(key, f'#!/bin/sh\ntouch "{post_marker}"\n')
    run = Replay({("env",): CommandResult(0, "", "")})
    # when
    outcome = actions.install_updates(job(pre, post, updates=UPDATES), device(tmp_path, key, run))
    # then neither script nor any install ran, and every update says why
    reason = (f"refused: signature check failed: no valid signature by a trusted key (signature by {key.key_id!r} "
              "does not match the payload)")
    assert run.calls == []
    assert not marker.exists() and not post_marker.exists()
    assert json.loads(outcome.stdout) == {
        "results": [{"identifier": "openssl", "status": "failed",
                     "message": f"not installed: the pre-install script failed ({reason})"},
                    {"identifier": "curl", "status": "failed",
                     "message": f"not installed: the pre-install script failed ({reason})"}],
        "reboot": "none",
        "pre_script": {"status": "failed", "exit_code": None, "stdout": "",
                       "stderr": f"refused, nothing was run: {reason.removeprefix('refused: ')}"}}
    assert (outcome.status, outcome.exit_code) == ("failed", 1)
    assert outcome.stderr == f"the pre-install script failed ({reason}): nothing was installed"


def test_a_pre_script_signed_by_an_untrusted_key_is_refused(tmp_path: Path) -> None:
    trusted, stranger = Key(), Key()
    run = Replay({("env",): CommandResult(0, "", "")})
    outcome = actions.install_updates(job(payload(stranger, "#!/bin/sh\nexit 0\n")), device(tmp_path, trusted, run))
    assert run.calls == []
    assert json.loads(outcome.stdout)["results"] == [{
        "identifier": "openssl", "status": "failed",
        "message": "not installed: the pre-install script failed (refused: signature check failed: no valid "
                   f"signature by a trusted key ({stranger.key_id} is not a trusted key))"}]


def test_a_failing_pre_script_stops_the_job_before_any_install(tmp_path: Path) -> None:
    key = Key()
    pre = payload(key, "#!/bin/sh\necho 'checking disk'\necho 'disk full' >&2\nexit 3\n")
    run = Replay({("env",): CommandResult(0, "", "")})
    outcome = actions.install_updates(job(pre, updates=UPDATES, reboot="always"), device(tmp_path, key, run))
    assert run.calls == []
    assert json.loads(outcome.stdout) == {
        "results": [{"identifier": "openssl", "status": "failed",
                     "message": "not installed: the pre-install script failed (exit code 3)"},
                    {"identifier": "curl", "status": "failed",
                     "message": "not installed: the pre-install script failed (exit code 3)"}],
        "reboot": "none",
        "pre_script": {"status": "failed", "exit_code": 3, "stdout": "checking disk\n", "stderr": "disk full\n"}}
    assert (outcome.status, outcome.exit_code, outcome.stderr) == (
        "failed", 1, "the pre-install script failed (exit code 3): nothing was installed")


def test_a_pre_script_that_times_out_stops_the_job(tmp_path: Path) -> None:
    key = Key()
    run = Replay({("env",): CommandResult(0, "", "")})
    outcome = actions.install_updates(job(payload(key, "#!/bin/sh\nsleep 30\n", timeout=1)),
                                      device(tmp_path, key, run))
    assert run.calls == []
    data = json.loads(outcome.stdout)
    assert data["results"][0]["message"] == "not installed: the pre-install script failed (timed out)"
    assert data["pre_script"] == {"status": "timed_out", "exit_code": None, "stdout": "",
                                  "stderr": "\n[stopped after the 1 s timeout]"}


def test_a_cancelled_job_kills_its_pre_script_and_installs_nothing(tmp_path: Path) -> None:
    key = Key()
    token = CancelToken()
    token.cancel()
    run = Replay({("env",): CommandResult(0, "", "")})
    outcome = actions.install_updates(job(payload(key, "#!/bin/sh\nsleep 30\n")), device(tmp_path, key, run, token))
    assert run.calls == []
    assert json.loads(outcome.stdout)["results"][0]["message"] == (
        "not installed: the pre-install script failed (cancelled)")


def test_a_failing_post_script_fails_the_job_but_the_installs_stay_installed(tmp_path: Path) -> None:
    # given two updates, one of which fails, and a post-install script that fails
    key = Key()
    post = payload(key, "#!/bin/sh\necho 'app did not start' >&2\nexit 2\n")
    run = Replay({(*APT_OPENSSL[:-1], "openssl=3.0.11-1"): CommandResult(0, "", ""),
                  (*APT_OPENSSL[:-1], "curl=8.5.0-2"): CommandResult(100, "", "E: broken\n")})
    # when
    outcome = actions.install_updates(job(post=post, updates=UPDATES), device(tmp_path, key, run))
    # then the post-script ran after both installs; its failure is said in stderr
    assert run.calls == [APT_OPENSSL, [*APT_OPENSSL[:-1], "curl=8.5.0-2"]]
    assert json.loads(outcome.stdout) == {
        "results": [{"identifier": "openssl", "status": "installed", "message": ""},
                    {"identifier": "curl", "status": "failed", "message": "E: broken"}],
        "reboot": "not allowed by the policy",
        "post_script": {"status": "failed", "exit_code": 2, "stdout": "", "stderr": "app did not start\n"}}
    assert (outcome.status, outcome.exit_code) == ("failed", 1)
    assert outcome.stderr == "1 of 2 update(s) not installed\nthe post-install script failed (exit code 2)"


def test_a_failing_post_script_alone_fails_the_job(tmp_path: Path) -> None:
    key = Key()
    run = Replay({("env",): CommandResult(0, "", "")})
    outcome = actions.install_updates(job(post=payload(key, "#!/bin/sh\nexit 1\n")), device(tmp_path, key, run))
    assert json.loads(outcome.stdout)["results"] == [{"identifier": "openssl", "status": "installed", "message": ""}]
    assert (outcome.status, outcome.exit_code, outcome.stderr) == (
        "failed", 1, "the post-install script failed (exit code 1)")


def test_script_output_is_redacted_and_only_its_last_2000_characters_are_kept(tmp_path: Path) -> None:
    key = Key()
    params = [{"name": "password", "label": "Password", "type": "secret", "required": True}]
    body = '#!/bin/sh\nhead -c 3000 /dev/zero | tr "\\0" x\necho "END $TF_PASSWORD"\n'
    pre = payload(key, body, parameters=params, secrets={"password": "hunter2-Secret"})
    run = Replay({("env",): CommandResult(0, "", "")})
    outcome = actions.install_updates(job(pre), device(tmp_path, key, run))
    entry = json.loads(outcome.stdout)["pre_script"]
    assert entry["stdout"] == "x" * (2000 - len("END [secret]\n")) + "END [secret]\n"
    assert "hunter2" not in outcome.stdout
    assert run.calls == [APT_OPENSSL]


def test_without_a_trust_store_every_script_is_refused(tmp_path: Path) -> None:
    key = Key()
    run = Replay({("env",): CommandResult(0, "", "")})
    host = device(tmp_path, key, run)
    host.trust = None
    outcome = actions.install_updates(job(payload(key, "#!/bin/sh\nexit 0\n")), host)
    assert run.calls == []
    assert outcome.stderr == ("the pre-install script failed (refused: this agent has no trust store): nothing was "
                              "installed")


SCRIPT = {"document": "{}", "body": "", "signatures": []}


@pytest.mark.parametrize(("extra", "message"), [
    ({"pre_script": "echo hi"}, "pre_script must be an object: a run_script job payload"),
    ({"post_script": ["x"]}, "post_script must be an object: a run_script job payload"),
    ({"pre_script": 7}, "pre_script must be an object: a run_script job payload"),
    ({"pre_script": {**SCRIPT, "command": "rm"}}, "pre_script: unknown field(s): command"),
    ({"pre_script": {**SCRIPT, "document": {"purpose": "x"}}}, "pre_script: document must be text"),
    ({"post_script": {"document": "{}", "signatures": []}}, "post_script: body must be text"),
    ({"pre_script": {**SCRIPT, "signatures": "sig"}}, "pre_script: signatures must be a list"),
    ({"pre_script": {**SCRIPT, "parameters": ["a"]}}, "pre_script: parameters must be an object"),
    ({"post_script": {**SCRIPT, "secret_parameters": "pw"}}, "post_script: secret_parameters must be an object"),
    ({"pre_script": {**SCRIPT, "secret_names": [1]}}, "pre_script: secret_names must be a list of names"),
    ({"reboot_defer_minutes": 14}, "reboot_defer_minutes must be a whole number between 15 and 1440"),
    ({"reboot_defer_minutes": 1441}, "reboot_defer_minutes must be a whole number between 15 and 1440"),
    ({"reboot_defer_minutes": True}, "reboot_defer_minutes must be a whole number between 15 and 1440"),
    ({"reboot_defer_minutes": "60"}, "reboot_defer_minutes must be a whole number between 15 and 1440"),
    ({"reboot_deferrals": 101}, "reboot_deferrals must be a whole number between 0 and 100"),
])
def test_a_bad_script_or_deferral_field_is_refused_and_nothing_runs(tmp_path: Path, extra: dict[str, Any],
                                                                  message: str) -> None:
    # given a valid pre-install script that would leave a marker, beside one bad field
    key = Key()
    marker = tmp_path / "pre-ran"
    data = job(payload(key, f'#!/bin/sh\ntouch "{marker}"\n'))
    data.update(extra)
    run = Replay({("env",): CommandResult(0, "", "")})
    # when / then
    with pytest.raises(PayloadError) as refused:
        actions.install_updates(data, device(tmp_path, key, run))
    assert str(refused.value) == message
    assert run.calls == [] and not marker.exists()


@pytest.mark.parametrize("minutes", [15, 1440])
def test_the_defer_minutes_bounds_are_accepted(minutes: int) -> None:
    request = actions.validate_install(job(reboot_defer_minutes=minutes))
    assert (request.reboot_defer_minutes, request.pre_script, request.post_script) == (minutes, None, None)
    assert actions.validate_install(job()).reboot_defer_minutes == 60
