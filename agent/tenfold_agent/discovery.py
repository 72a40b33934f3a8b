"""Network discovery: the devices this agent's machine sees on its own network.

Two sources, as issue 3 asks:

- the **neighbour table** of the OS (ARP), read every time: `ip -j neigh` on Linux (with
  `/proc/net/arp` as a fallback), `arp -a` on Windows, `arp -an` on macOS. Incomplete and failed
  entries, multicast and broadcast addresses and MACs, loopback and the machine's own addresses are
  left out;
- an **opt-in sweep** of the machine's own IPv4 subnet (the interface that holds the default route),
  cut to the /24 around the machine when it is larger, so never more than 256 addresses: the
  system `ping` with one echo request (or a TCP connect to 445, 22 and 80 when there is no `ping`),
  a bounded number at a time with a short timeout, then the neighbour table is read again to learn
  the MACs of what answered.

Hostnames come from reverse DNS (`socket.gethostbyaddr` in a bounded thread pool, with an overall
deadline). Only IPv4 is reported: an IPv6 neighbour is usually the same device again under a
link-local address.
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import json
import re
import shutil
import socket
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psutil

from .checks import ping_argv
from .util import Runner, run_command

MAX_NEIGHBORS = 1024
MAX_SWEEP = 256
SWEEP_PREFIX = 24  # a larger subnet is swept as the /24 that holds the machine
SWEEP_WORKERS = 64
PING_TIMEOUT_S = 1.0
TCP_PORTS = (445, 22, 80)
TCP_TIMEOUT_S = 0.5
DNS_WORKERS = 16
DNS_DEADLINE_S = 5.0
PROC_NET_ARP = Path("/proc/net/arp")
# Any routable address does: connecting a UDP socket sends nothing, it only picks the route.
ROUTE_PROBE = ("198.51.100.1", 9)

_MAC_RE = re.compile(r"^[0-9a-f]{1,2}([:-][0-9a-f]{1,2}){5}$")
_BAD_LINUX_STATES = {"INCOMPLETE", "FAILED", "NOARP", "NONE"}


@dataclass(frozen=True)
class Neighbor:
    """A device seen on the network: its address, MAC ("" when unknown), name and how it was seen."""

    ip: str
    mac: str = ""
    hostname: str = ""
    source: str = "arp"  # "arp": from the neighbour table; "ping": it answered the sweep

    def as_dict(self) -> dict[str, str]:
        """The item's form of one neighbour."""
        return {"ip": self.ip, "mac": self.mac, "hostname": self.hostname, "source": self.source}


# --- addresses ------------------------------------------------------------------------------------
def normalize_mac(text: str) -> str | None:
    """`aa:bb:cc:dd:ee:ff` for a unicast MAC written with `:` or `-` (macOS drops leading zeros);
    None for anything else: malformed, all zeros, broadcast or multicast."""
    value = text.strip().lower()
    if not _MAC_RE.match(value):
        return None
    octets = [int(part, 16) for part in re.split(r"[:-]", value)]
    if not any(octets) or octets[0] & 1:  # all zeros; multicast (broadcast included)
        return None
    return ":".join(f"{o:02x}" for o in octets)


def usable_ip(text: str) -> str | None:
    """The IPv4 address of a device that may be on the LAN, or None (loopback, multicast, broadcast,
    unspecified, IPv6, malformed)."""
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if not isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.is_loopback or ip.is_multicast or ip.is_unspecified or ip == ipaddress.IPv4Address("255.255.255.255"):
        return None
    return str(ip)


def _entry(ip_text: str, mac_text: str) -> Neighbor | None:
    ip = usable_ip(ip_text)
    mac = normalize_mac(mac_text)
    return Neighbor(ip, mac) if ip and mac else None


# --- neighbour table parsers ----------------------------------------------------------------------
def parse_ip_neigh_json(text: str) -> list[Neighbor]:
    """Linux `ip -j neigh show`: entries with a MAC, not incomplete, failed or on loopback."""
    out = []
    for row in json.loads(text or "[]"):
        if not isinstance(row, dict) or row.get("dev") == "lo":
            continue
        states = row.get("state") or []
        if isinstance(states, str):
            states = [states]
        if any(str(s).upper() in _BAD_LINUX_STATES for s in states):
            continue
        entry = _entry(str(row.get("dst", "")), str(row.get("lladdr", "")))
        if entry:
            out.append(entry)
    return _dedupe(out)


def parse_proc_net_arp(text: str) -> list[Neighbor]:
    """Linux `/proc/net/arp`: complete (flag 0x2) or permanent (0x4) entries only."""
    out = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 6 or fields[5] == "lo":
            continue
        try:
            flags = int(fields[2], 16)
        except ValueError:
            continue
        if not flags & 0x6:
            continue
        entry = _entry(fields[0], fields[3])
        if entry:
            out.append(entry)
    return _dedupe(out)


_WIN_ROW = re.compile(r"^\s*(\d{1,3}(?:\.\d{1,3}){3})\s+([0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5})\s+\S+")


def parse_arp_a_windows(text: str) -> list[Neighbor]:
    """Windows `arp -a`, in any display language: the rows are `IP  MAC  type` under each
    `Interface:` header; only the addresses and MACs are read, so `dynamic`/`dynamique` and
    `static`/`statique` need no translation (static rows are broadcast and multicast, left out by MAC)."""
    out = []
    for line in text.splitlines():
        match = _WIN_ROW.match(line)
        if match:
            entry = _entry(match.group(1), match.group(2))
            if entry:
                out.append(entry)
    return _dedupe(out)


_MAC_ROW = re.compile(r"^\S+ \((\d{1,3}(?:\.\d{1,3}){3})\) at (\S+) on (\S+)")


def parse_arp_an_macos(text: str) -> list[Neighbor]:
    """macOS `arp -an`: `? (IP) at MAC on IF …`; `(incomplete)` rows and loopback left out."""
    out = []
    for line in text.splitlines():
        match = _MAC_ROW.match(line)
        if not match or match.group(3).startswith("lo"):
            continue
        entry = _entry(match.group(1), match.group(2))
        if entry:
            out.append(entry)
    return _dedupe(out)


def _dedupe(entries: Iterable[Neighbor]) -> list[Neighbor]:
    """One entry per IP (the first seen), in address order."""
    seen: dict[str, Neighbor] = {}
    for entry in entries:
        seen.setdefault(entry.ip, entry)
    return sorted(seen.values(), key=lambda n: ipaddress.IPv4Address(n.ip))


def read_neighbors(runner: Runner = run_command, platform: str = sys.platform,
                   proc_arp: Path = PROC_NET_ARP) -> list[Neighbor]:
    """The OS's neighbour table as neighbours with a MAC; empty when it cannot be read."""
    if platform == "win32":
        result = runner(["arp", "-a"], 15.0)
        return parse_arp_a_windows(result.stdout) if result.ok else []
    if platform == "darwin":
        result = runner(["arp", "-an"], 15.0)
        return parse_arp_an_macos(result.stdout) if result.ok else []
    result = runner(["ip", "-j", "-4", "neigh", "show"], 15.0)
    if result.ok:
        try:
            return parse_ip_neigh_json(result.stdout)
        except (ValueError, TypeError):
            pass  # an iproute2 without JSON output: the kernel's table instead
    try:
        return parse_proc_net_arp(proc_arp.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return []


# --- the subnet to sweep --------------------------------------------------------------------------
def sweep_subnet(network: ipaddress.IPv4Network | str, host: str | None = None) -> ipaddress.IPv4Network:
    """The part of `network` a sweep may cover: itself when /24 or smaller, else the /24 that holds
    `host` (the network's first /24 without a host). Never more than 256 addresses."""
    net = ipaddress.IPv4Network(network, strict=False)
    if net.prefixlen >= SWEEP_PREFIX:
        return net
    anchor = ipaddress.IPv4Address(host) if host else net.network_address
    if anchor not in net:
        raise ValueError(f"{anchor} is not in {net}")
    return ipaddress.IPv4Network(f"{anchor}/{SWEEP_PREFIX}", strict=False)


def sweep_targets(network: ipaddress.IPv4Network | str, exclude: Iterable[str] = ()) -> list[str]:
    """The addresses a sweep of `network` pings: its hosts (no network or broadcast address), not the
    excluded ones (the machine's own). Refuses a network of more than 256 addresses."""
    net = ipaddress.IPv4Network(network, strict=False)
    if net.num_addresses > MAX_SWEEP:
        raise ValueError(f"{net} has {net.num_addresses} addresses; a sweep covers at most {MAX_SWEEP}")
    skip = set(exclude)
    return [str(ip) for ip in net.hosts() if str(ip) not in skip][:MAX_SWEEP]


def default_route_ipv4() -> str | None:
    """The IPv4 address this machine would send from to reach the internet (no packet is sent)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect(ROUTE_PROBE)
            address = str(sock.getsockname()[0])
    except OSError:
        return None
    return None if address.startswith("0.") else address


def own_ipv4_networks() -> list[tuple[str, ipaddress.IPv4Network]]:
    """`(address, network)` of each IPv4 address of this machine's interfaces."""
    out = []
    for addresses in psutil.net_if_addrs().values():
        for addr in addresses:
            if addr.family == socket.AF_INET and addr.address and addr.netmask:
                try:
                    out.append((addr.address, ipaddress.IPv4Network(f"{addr.address}/{addr.netmask}", strict=False)))
                except ValueError:
                    continue
    return out


def local_subnet() -> tuple[str, ipaddress.IPv4Network] | None:
    """`(address, network)` of the interface that holds the default route, or None."""
    address = default_route_ipv4()
    if address is None:
        return None
    for own, network in own_ipv4_networks():
        if own == address:
            return own, network
    return None


# --- the sweep ------------------------------------------------------------------------------------
def ping_answers(ip: str, runner: Runner = run_command, platform: str = sys.platform,
                 timeout_s: float = PING_TIMEOUT_S) -> bool:
    """One echo request with the system `ping`; an answer is a reply line (with a TTL), which leaves
    out Windows' "Destination host unreachable" that still exits 0."""
    result = runner(ping_argv(platform, ip, 1, timeout_s), timeout_s + 5)
    return result.ok and "ttl=" in result.stdout.lower()


def tcp_answers(ip: str, ports: Sequence[int] = TCP_PORTS, timeout_s: float = TCP_TIMEOUT_S) -> bool:
    """A TCP connect to each port in turn; an accepted or a refused connection both mean a live host."""
    for port in ports:
        try:
            with socket.create_connection((ip, port), timeout=timeout_s):
                return True
        except ConnectionRefusedError:
            return True
        except OSError:
            continue
    return False


def sweep(network: ipaddress.IPv4Network | str, *, exclude: Iterable[str] = (), runner: Runner = run_command,
          platform: str = sys.platform, use_ping: bool | None = None, workers: int = SWEEP_WORKERS,
          timeout_s: float = PING_TIMEOUT_S, ports: Sequence[int] = TCP_PORTS) -> list[str]:
    """Probe every host address of `network` (at most 256) and return those that answered, in order.

    `ping` when the system has it (`use_ping=None`), else the TCP probe; at most `workers` at a time."""
    targets = sweep_targets(network, exclude)
    if use_ping is None:
        use_ping = shutil.which("ping") is not None
    probe: Callable[[str], bool]
    if use_ping:
        def probe(ip: str) -> bool:
            return ping_answers(ip, runner, platform, timeout_s)
    else:
        def probe(ip: str) -> bool:
            return tcp_answers(ip, ports, min(timeout_s, TCP_TIMEOUT_S))
    if not targets:
        return []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(workers, len(targets)))) as pool:
        answered = [ip for ip, ok in zip(targets, pool.map(probe, targets), strict=True) if ok]
    return answered


# --- hostnames ------------------------------------------------------------------------------------
def _reverse(ip: str) -> str:
    try:
        return socket.gethostbyaddr(ip)[0]
    except (OSError, UnicodeError):
        return ""


def resolve_hostnames(ips: Sequence[str], workers: int = DNS_WORKERS, deadline_s: float = DNS_DEADLINE_S,
                      lookup: Callable[[str], str] = _reverse) -> dict[str, str]:
    """Reverse DNS names of `ips`; an address not answered within the overall deadline gets ""."""
    names = {ip: "" for ip in ips}
    if not ips:
        return names
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(workers, len(ips))))
    try:
        futures = {pool.submit(lookup, ip): ip for ip in ips}
        done, _ = concurrent.futures.wait(futures, timeout=deadline_s)
        for future in done:
            name = future.result() or ""
            names[futures[future]] = name.rstrip(".")[:255]
    finally:
        # A lookup that hangs is left to finish on its own; nothing waits for it.
        pool.shutdown(wait=False, cancel_futures=True)
    return names


# --- all of it ------------------------------------------------------------------------------------
def discover(*, sweep_network: ipaddress.IPv4Network | str | None = None, do_sweep: bool = True,
             resolve: bool = True, runner: Runner = run_command, platform: str = sys.platform,
             use_ping: bool | None = None, own_addresses: Iterable[str] | None = None,
             subnet: ipaddress.IPv4Network | str | None = None) -> dict[str, Any]:
    """The data of one `discovery` item: `{"neighbors": [...], "subnet": "a.b.c.d/n"}`.

    Without `sweep_network` the sweep covers the subnet of the default route's interface, cut to
    its /24 (`sweep_subnet`); tests pass the network they created instead. `subnet` is what the
    item reports (the interface's network; None when there is none)."""
    own = set(own_addresses) if own_addresses is not None else {a for a, _ in own_ipv4_networks()}
    reported = str(ipaddress.IPv4Network(subnet, strict=False)) if subnet is not None else None
    target: ipaddress.IPv4Network | None = None
    if sweep_network is not None:
        target = ipaddress.IPv4Network(sweep_network, strict=False)
        reported = reported or str(target)
    elif do_sweep or subnet is None:
        local = local_subnet()
        if local is not None:
            address, network = local
            reported = reported or str(network)
            target = sweep_subnet(network, address)
    answered: list[str] = []
    if do_sweep and target is not None:
        answered = sweep(target, exclude=own, runner=runner, platform=platform, use_ping=use_ping)
    table = {n.ip: n for n in read_neighbors(runner, platform) if n.ip not in own}
    found = dict(table)
    for ip in answered:
        found[ip] = replace(table.get(ip, Neighbor(ip)), source="ping")
    neighbors = _dedupe(found.values())[:MAX_NEIGHBORS]
    if resolve:
        names = resolve_hostnames([n.ip for n in neighbors])
        neighbors = [replace(n, hostname=names.get(n.ip, "")) for n in neighbors]
    return {"neighbors": [n.as_dict() for n in neighbors], "subnet": reported}
