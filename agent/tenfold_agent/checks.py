"""Checks evaluated on the agent, one function per check type of the protocol.

Every check returns `{"check_id", "status", "value", "message"}` with status pass, warn, fail or error
(`error`: the check could not run, e.g. a bad parameter or a missing tool). A check never raises.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil

from .collectors.base import NOT_FOUND, RUNNING, Collector
from .util import Runner, read_json, run_command, write_json_atomic

PASS, WARN, FAIL, ERROR = "pass", "warn", "fail", "error"
UNSIGNED_SCRIPT_MESSAGE = "unsigned scripts are refused"
MAX_TAIL_BYTES = 8 * 1024 * 1024
_HOST_RE = re.compile(r"^[A-Za-z0-9_.:\[\]%][A-Za-z0-9_.:\[\]%\-]*$")


class CheckParamError(ValueError):
    """A check's parameters are missing or out of range."""


def result(check_id: Any, status: str, value: float | int | None, message: str) -> dict[str, Any]:
    """One check result as the `check_result` item carries it."""
    return {"check_id": check_id, "status": status, "value": value, "message": message[:500]}


def _num(params: Mapping[str, Any], key: str, default: float | None, lo: float, hi: float) -> float:
    value = params.get(key, default)
    if value is None:
        raise CheckParamError(f"parameter `{key}` is required")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CheckParamError(f"parameter `{key}` must be a number")
    if not lo <= value <= hi:
        raise CheckParamError(f"parameter `{key}` must be between {lo:g} and {hi:g}")
    return float(value)


def _str(params: Mapping[str, Any], key: str, default: str | None = None) -> str:
    value = params.get(key, default)
    if not isinstance(value, str) or not value:
        raise CheckParamError(f"parameter `{key}` is required")
    return value


def _host(params: Mapping[str, Any]) -> str:
    host = _str(params, "host")
    # Never let a host be read as an option of ping.
    if not _HOST_RE.match(host):
        raise CheckParamError(f"not a host name or address: {host!r}")
    return host


def above(value: float, warn: float, fail: float) -> str:
    """pass/warn/fail for a value that is bad when high (CPU or memory use)."""
    return FAIL if value >= fail else WARN if value >= warn else PASS


def below(value: float, warn: float, fail: float) -> str:
    """pass/warn/fail for a value that is bad when low (free disk space)."""
    return FAIL if value <= fail else WARN if value <= warn else PASS


def parse_ping(output: str) -> tuple[int, int, float | None]:
    """Sent, received and average round trip (ms) from ping's summary on Linux, macOS or Windows."""
    unix = re.search(r"(\d+) packets transmitted, (\d+) (?:packets )?received", output)
    win = re.search(r"Sent = (\d+), Received = (\d+)", output)
    match = unix or win
    if not match:
        raise ValueError("no ping summary in the output")
    sent, received = int(match.group(1)), int(match.group(2))
    avg: float | None = None
    rtt = re.search(r"= [\d.]+/([\d.]+)/", output) or re.search(r"Average = (\d+)ms", output)
    if rtt:
        avg = float(rtt.group(1))
    return sent, received, avg


def ping_argv(platform: str, host: str, count: int, timeout_s: float) -> list[str]:
    """The ping command of `platform` for `count` echo requests waiting `timeout_s` each."""
    if platform == "win32":
        return ["ping", "-n", str(count), "-w", str(int(timeout_s * 1000)), host]
    if platform == "darwin":
        return ["ping", "-n", "-c", str(count), "-t", str(int(count * timeout_s) + 1), host]
    return ["ping", "-n", "-c", str(count), "-W", str(max(1, int(timeout_s))), host]


def _is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class FileTail:
    """Reads what was appended to files since the last read; offsets persist in a JSON file."""

    def __init__(self, state_file: Path) -> None:
        self.state_file = state_file

    def read_new(self, key: str, path: Path) -> list[str]:
        """New complete lines of `path` since the last call with `key`; the first call only marks the end."""
        offsets: dict[str, Any] = read_json(self.state_file, {})
        mark = offsets.get(key) or {}
        stat = path.stat()
        ident = f"{stat.st_dev}:{stat.st_ino}"
        if not mark or mark.get("path") != str(path):
            # First look at this file: start from its end, so old history raises no alert.
            offsets[key] = {"path": str(path), "ident": ident, "offset": stat.st_size}
            write_json_atomic(self.state_file, offsets)
            return []
        offset = int(mark.get("offset", 0))
        if mark.get("ident") != ident or stat.st_size < offset:
            offset = 0  # rotated or truncated: the file is new, read it from its start
        offset = max(offset, stat.st_size - MAX_TAIL_BYTES)
        with path.open("rb") as fh:
            fh.seek(offset)
            data = fh.read(stat.st_size - offset)
        # Keep an unfinished last line for the next read.
        complete = data[: data.rfind(b"\n") + 1] if b"\n" in data else b""
        offsets[key] = {"path": str(path), "ident": ident, "offset": offset + len(complete)}
        write_json_atomic(self.state_file, offsets)
        return complete.decode("utf-8", errors="replace").splitlines()


class CheckRunner:
    """Evaluates checks of a policy on this device."""

    def __init__(
        self,
        collector: Collector,
        state_dir: Path,
        *,
        platform: str = sys.platform,
        runner: Runner = run_command,
        cpu_sample_s: float = 1.0,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.collector = collector
        self.platform = platform
        self.runner = runner
        self.cpu_sample_s = cpu_sample_s
        self.clock = clock
        self.tail = FileTail(state_dir / "log_offsets.json")

    def run(self, check: Mapping[str, Any]) -> dict[str, Any]:
        """Evaluate one check definition (`{"id", "type", "params"}`); never raises."""
        check_id = check.get("id")
        kind = check.get("type")
        params = check.get("params") or {}
        handler = getattr(self, f"check_{kind}", None) if isinstance(kind, str) and kind.isidentifier() else None
        if handler is None:
            return result(check_id, ERROR, None, f"unknown check type {kind!r}")
        if not isinstance(params, Mapping):
            return result(check_id, ERROR, None, "params must be an object")
        if kind == "log_pattern":
            params = {**params, "_key": f"check-{check_id}"}  # file offsets are kept per check
        try:
            status, value, message = handler(params)
        except CheckParamError as exc:
            return result(check_id, ERROR, None, str(exc))
        except (OSError, ValueError, RuntimeError, psutil.Error) as exc:
            return result(check_id, ERROR, None, f"{type(exc).__name__}: {exc}"[:500])
        return result(check_id, status, value, message)

    def run_many(self, checks: Iterable[Mapping[str, Any]], workers: int = 4) -> list[dict[str, Any]]:
        """Evaluate several checks side by side (a slow ping does not hold up the others)."""
        items = list(checks)
        if not items:
            return []
        with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
            return list(pool.map(self.run, items))

    # --- one method per check type: (status, value, message) --------------------------------------
    def check_cpu(self, params: Mapping[str, Any]) -> tuple[str, float, str]:
        """Average CPU use over `samples` readings."""
        warn = _num(params, "warn_pct", 85, 0, 100)
        fail = _num(params, "fail_pct", 95, 0, 100)
        samples = int(_num(params, "samples", 1, 1, 60))
        readings = [psutil.cpu_percent(interval=self.cpu_sample_s) for _ in range(samples)]
        value = round(sum(readings) / len(readings), 1)
        return above(value, warn, fail), value, f"CPU {value:.1f} % over {samples} sample(s)"

    def check_memory(self, params: Mapping[str, Any]) -> tuple[str, float, str]:
        """Memory in use, percent."""
        warn = _num(params, "warn_pct", 85, 0, 100)
        fail = _num(params, "fail_pct", 95, 0, 100)
        value = round(psutil.virtual_memory().percent, 1)
        return above(value, warn, fail), value, f"memory {value:.1f} % used"

    def check_disk_free(self, params: Mapping[str, Any]) -> tuple[str, float, str]:
        """Free space of one mount point, percent (value) with bytes in the message."""
        mount = _str(params, "mount")
        warn = _num(params, "warn_pct", 20, 0, 100)
        fail = _num(params, "fail_pct", 10, 0, 100)
        try:
            usage = psutil.disk_usage(mount)
        except FileNotFoundError as exc:
            raise CheckParamError(f"no such mount point: {mount}") from exc
        value = round(100.0 * usage.free / usage.total, 1) if usage.total else 0.0
        gib = usage.free / 1024**3
        return below(value, warn, fail), value, f"{value:.1f} % free on {mount} ({gib:.1f} GiB)"

    def check_service(self, params: Mapping[str, Any]) -> tuple[str, float | None, str]:
        """A service is running, by the OS's service manager."""
        name = _str(params, "name")
        if name.startswith("-"):
            raise CheckParamError(f"not a service name: {name!r}")
        state = self.collector.service_state(name)
        if state.state == RUNNING:
            return PASS, 1, f"service {name} is running"
        if state.state == NOT_FOUND:
            return FAIL, 0, f"service {name} does not exist"
        if state.state == "stopped":
            return FAIL, 0, f"service {name} is not running ({state.detail})"
        return ERROR, None, f"state of service {name} unknown: {state.detail}"

    def check_process(self, params: Mapping[str, Any]) -> tuple[str, int, str]:
        """At least one process has this name (case-insensitive on Windows)."""
        name = _str(params, "name")
        fold = self.platform == "win32"
        wanted = name.lower() if fold else name
        count = 0
        for proc in psutil.process_iter(["name"]):
            pname = proc.info.get("name") or ""
            if (pname.lower() if fold else pname) == wanted:
                count += 1
        if count:
            return PASS, count, f"{count} process(es) named {name}"
        return FAIL, 0, f"no process named {name}"

    def check_ping(self, params: Mapping[str, Any]) -> tuple[str, float | None, str]:
        """ICMP echo with the system's ping: all answered pass, some warn, none fail; value is the average ms."""
        host = _host(params)
        count = int(_num(params, "count", 3, 1, 20))
        timeout_s = _num(params, "timeout_s", 2, 0.1, 60)
        out = self.runner(ping_argv(self.platform, host, count, timeout_s), count * timeout_s + 10)
        if out.returncode is None:
            raise RuntimeError(out.stderr or "ping could not run")
        try:
            sent, received, avg = parse_ping(out.stdout)
        except ValueError as exc:
            raise RuntimeError((out.stderr.strip() or out.stdout.strip() or "ping failed")[:300]) from exc
        loss = round(100.0 * (sent - received) / sent, 1) if sent else 100.0
        status = PASS if received == sent else FAIL if received == 0 else WARN
        avg_text = f", average {avg:g} ms" if avg is not None else ""
        return status, avg, f"{host}: {received}/{sent} answered, {loss:g} % loss{avg_text}"

    def check_tcp_port(self, params: Mapping[str, Any]) -> tuple[str, float | None, str]:
        """A TCP connection opens within the timeout; value is the connect time in ms."""
        host = _host(params)
        port = int(_num(params, "port", None, 1, 65535))
        timeout_s = _num(params, "timeout_s", 5, 0.1, 120)
        start = self.clock()
        try:
            with socket.create_connection((host.strip("[]"), port), timeout=timeout_s):
                elapsed = round((self.clock() - start) * 1000, 1)
        except TimeoutError:
            return FAIL, None, f"{host}:{port} did not answer within {timeout_s:g} s"
        except OSError as exc:
            return FAIL, None, f"{host}:{port} refused or unreachable: {exc.strerror or exc}"
        return PASS, elapsed, f"{host}:{port} open ({elapsed:g} ms)"

    def check_http(self, params: Mapping[str, Any]) -> tuple[str, float | None, str]:
        """GET a URL (TLS verified): the expected status passes, slower than max_latency_ms warns."""
        url = _str(params, "url")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise CheckParamError(f"not an http(s) URL: {url!r}")
        expect = int(_num(params, "expect_status", 200, 100, 599))
        timeout_s = _num(params, "timeout_s", 10, 0.1, 120)
        max_latency = params.get("max_latency_ms")
        handlers: list[urllib.request.BaseHandler] = [urllib.request.HTTPSHandler(context=ssl.create_default_context())]
        if _is_loopback(parts.hostname):
            handlers.append(urllib.request.ProxyHandler({}))
        if 300 <= expect < 400:
            handlers.append(_NoRedirect())  # the check wants to see the redirect itself
        opener = urllib.request.build_opener(*handlers)
        # The scheme was checked above: http or https only.
        request = urllib.request.Request(url, headers={"User-Agent": "tenfold-agent-check"})  # noqa: S310
        start = self.clock()
        try:
            with opener.open(request, timeout=timeout_s) as response:
                status_code = int(response.status)
        except urllib.error.HTTPError as exc:
            status_code = exc.code
        except urllib.error.URLError as exc:
            return FAIL, None, f"{url}: {exc.reason}"
        except (TimeoutError, OSError) as exc:
            return FAIL, None, f"{url}: {exc}"
        latency = round((self.clock() - start) * 1000, 1)
        if status_code != expect:
            return FAIL, latency, f"{url} answered {status_code}, expected {expect}"
        if isinstance(max_latency, int | float) and not isinstance(max_latency, bool) and latency > max_latency:
            return WARN, latency, f"{url} answered {status_code} in {latency:g} ms (over {max_latency:g} ms)"
        return PASS, latency, f"{url} answered {status_code} in {latency:g} ms"

    def check_log_pattern(self, params: Mapping[str, Any]) -> tuple[str, int, str]:
        """Lines matching `pattern` in the journal, an event log, or lines appended to a file since the last run."""
        source = _str(params, "source")
        try:
            pattern = re.compile(_str(params, "pattern"))
        except re.error as exc:
            raise CheckParamError(f"pattern is not a valid regular expression: {exc}") from exc
        window_s = int(_num(params, "window_s", 300, 1, 7 * 86400))
        if _is_file_source(source):
            lines = self.tail.read_new(str(params.get("_key") or source), Path(source))
        else:
            lines = self.collector.log_lines(source, window_s)
        matches = [line for line in lines if pattern.search(line)]
        if not matches:
            return PASS, 0, f"no line of {source} matches"
        return FAIL, len(matches), f"{len(matches)} line(s) of {source} match; last: {matches[-1][:300]}"

    def check_script(self, params: Mapping[str, Any]) -> tuple[str, None, str]:
        """Scripts run only when signed by the MSP, which this agent version cannot check yet."""
        return ERROR, None, UNSIGNED_SCRIPT_MESSAGE


def _is_file_source(source: str) -> bool:
    return source.startswith(("/", "\\", "./")) or bool(re.match(r"^[A-Za-z]:[\\/]", source))
