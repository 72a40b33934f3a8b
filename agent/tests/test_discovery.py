"""Network discovery: neighbour-table parsers on recorded outputs, the sweep's limits, a real sweep in
network namespaces made by the test, and the agent's four-hourly discovery item.

No test here sends a packet to the machine's own networks: the sweeps run inside namespaces the test
creates (their only interfaces are a veth pair and loopback), or probe 127.0.0.1."""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FakeClock, FakeCollector, Replay, recorded, server_protocol, strict_errors
from tenfold_agent import discovery as disc
from tenfold_agent.discovery import (
    Neighbor,
    normalize_mac,
    parse_arp_a_windows,
    parse_arp_an_macos,
    parse_ip_neigh_json,
    parse_proc_net_arp,
    read_neighbors,
    resolve_hostnames,
    sweep,
    sweep_subnet,
    sweep_targets,
    tcp_answers,
    usable_ip,
)
from tenfold_agent.payload import build_checkin
from tenfold_agent.service import DISCOVERY_EVERY_S, Agent
from tenfold_agent.spool import Spool, SpoolItem
from tenfold_agent.util import CommandResult
from tenfold_agent.wire import discovery_wire

LINUX_EXPECTED = [
    Neighbor("192.0.2.20", "02:42:c0:00:02:14"),
    Neighbor("192.0.2.21", "02:42:c0:00:02:14"),
    Neighbor("192.0.2.40", "00:1a:2b:3c:4d:5e"),
]


# --- parsers --------------------------------------------------------------------------------------
def test_linux_ip_neigh_json() -> None:
    # Recorded in a network namespace: REACHABLE, PERMANENT, STALE with a zero MAC, INCOMPLETE,
    # FAILED, a multicast MAC and the broadcast address.
    assert parse_ip_neigh_json(recorded("linux/ip_j_neigh.json")) == LINUX_EXPECTED
    assert parse_ip_neigh_json("[]") == []
    lo = [{"dst": "10.0.0.5", "dev": "lo", "lladdr": "00:11:22:33:44:55", "state": ["PERMANENT"]},
          {"dst": "10.0.0.6", "dev": "eth0", "lladdr": "00:11:22:33:44:66", "state": ["NOARP"]},
          {"dst": "fe80::1", "dev": "eth0", "lladdr": "00:11:22:33:44:77", "router": None, "state": ["STALE"]},
          {"dst": "10.0.0.7", "dev": "eth0", "lladdr": "00:11:22:33:44:88", "state": "DELAY"}]
    assert parse_ip_neigh_json(json.dumps(lo)) == [Neighbor("10.0.0.7", "00:11:22:33:44:88")]


def test_linux_proc_net_arp() -> None:
    assert parse_proc_net_arp(recorded("linux/proc_net_arp.txt")) == LINUX_EXPECTED


def test_windows_arp_a_english_and_french() -> None:
    assert parse_arp_a_windows(recorded("windows/arp_a_en.txt")) == [
        Neighbor("172.20.16.9", "00:15:5d:01:c8:07"),
        Neighbor("192.168.1.1", "e4:8d:8c:12:34:56"),
        Neighbor("192.168.1.40", "00:11:32:ab:cd:ef"),
        Neighbor("192.168.1.57", "3c:22:fb:0a:1b:2c"),
    ]
    # French labels (Interface :, Adresse Internet, dynamique/statique, an invalid entry).
    assert parse_arp_a_windows(recorded("windows/arp_a_fr.txt")) == [
        Neighbor("192.168.1.1", "e4:8d:8c:12:34:56"),
        Neighbor("192.168.1.40", "00:11:32:ab:cd:ef"),
    ]


def test_macos_arp_an() -> None:
    # macOS drops leading zeros in MACs; its own address shows as a permanent entry (left out later,
    # with the machine's addresses, not by the parser).
    assert parse_arp_an_macos(recorded("macos/arp_an.txt")) == [
        Neighbor("169.254.12.7", "8c:85:90:01:02:03"),
        Neighbor("192.168.1.1", "e4:8d:8c:12:34:56"),
        Neighbor("192.168.1.23", "a4:83:e7:02:0b:0c"),
        Neighbor("192.168.1.40", "00:11:32:ab:cd:ef"),
    ]


def test_mac_and_ip_filters() -> None:
    assert normalize_mac("AA-BB-CC-DD-EE-0F") == "aa:bb:cc:dd:ee:0f"
    assert normalize_mac("0:1:2:3:4:5") == "00:01:02:03:04:05"
    for bad in ("ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:fb", "33:33:00:00:00:01", "00:00:00:00:00:00",
                "(incomplete)", "aa:bb:cc:dd:ee", "aa:bb:cc:dd:ee:ff:00", ""):
        assert normalize_mac(bad) is None, bad
    assert usable_ip("192.0.2.7") == "192.0.2.7"
    for bad in ("127.0.0.1", "224.0.0.251", "255.255.255.255", "0.0.0.0", "fe80::1", "nope"):
        assert usable_ip(bad) is None, bad


def test_read_neighbors_per_os_and_the_linux_fallback(tmp_path: Path) -> None:
    windows = Replay({("arp", "-a"): recorded("windows/arp_a_fr.txt")})
    assert [n.ip for n in read_neighbors(windows, "win32")] == ["192.168.1.1", "192.168.1.40"]
    assert windows.calls == [["arp", "-a"]]
    mac = Replay({("arp", "-an"): recorded("macos/arp_an.txt")})
    assert len(read_neighbors(mac, "darwin")) == 4 and mac.calls == [["arp", "-an"]]
    linux = Replay({("ip", "-j"): recorded("linux/ip_j_neigh.json")})
    assert read_neighbors(linux, "linux") == LINUX_EXPECTED
    proc = tmp_path / "arp"
    proc.write_text(recorded("linux/proc_net_arp.txt"))
    assert read_neighbors(Replay({}), "linux", proc) == LINUX_EXPECTED  # no `ip`
    old_ip = Replay({("ip", "-j"): 'Option "-j" is unknown, try "ip -help".\n'})
    assert read_neighbors(old_ip, "linux", proc) == LINUX_EXPECTED  # no JSON output
    assert read_neighbors(Replay({}), "linux", tmp_path / "missing") == []
    assert read_neighbors(Replay({}), "win32") == []


# --- limits ---------------------------------------------------------------------------------------
def test_sweep_subnet_is_capped_to_the_hosts_24() -> None:
    assert sweep_subnet("10.20.0.0/16", "10.20.37.5") == ipaddress.IPv4Network("10.20.37.0/24")
    assert sweep_subnet("10.0.0.0/8", "10.200.1.9") == ipaddress.IPv4Network("10.200.1.0/24")
    assert sweep_subnet("192.168.4.0/22", "192.168.6.200") == ipaddress.IPv4Network("192.168.6.0/24")
    assert sweep_subnet("172.16.0.0/12") == ipaddress.IPv4Network("172.16.0.0/24")
    assert sweep_subnet("192.168.1.0/24", "192.168.1.9") == ipaddress.IPv4Network("192.168.1.0/24")
    assert sweep_subnet("192.168.1.64/27", "192.168.1.70") == ipaddress.IPv4Network("192.168.1.64/27")
    with pytest.raises(ValueError):
        sweep_subnet("10.20.0.0/16", "10.21.0.1")
    for prefix in range(0, 33):
        net = ipaddress.IPv4Network(f"10.0.0.1/{prefix}", strict=False)
        capped = sweep_subnet(net, "10.0.0.1")
        assert capped.num_addresses <= 256 and ipaddress.IPv4Address("10.0.0.1") in capped
        assert len(sweep_targets(capped)) <= 256


def test_sweep_targets_never_more_than_256() -> None:
    targets = sweep_targets("192.0.2.0/24", exclude=["192.0.2.10"])
    assert len(targets) == 253 and targets[0] == "192.0.2.1" and targets[-1] == "192.0.2.254"
    assert "192.0.2.10" not in targets
    assert sweep_targets("192.0.2.8/30") == ["192.0.2.9", "192.0.2.10"]
    assert sweep_targets("192.0.2.8/32") == ["192.0.2.8"]
    with pytest.raises(ValueError, match="at most 256"):
        sweep_targets("192.0.2.0/23")
    with pytest.raises(ValueError):
        sweep("10.0.0.0/16", runner=Replay({}), use_ping=True)


def test_sweep_with_a_replayed_ping_counts_only_replies() -> None:
    reply = CommandResult(0, "64 bytes from 192.0.2.5: icmp_seq=1 ttl=64 time=0.1 ms\n", "")
    # Windows exits 0 on "Destination host unreachable" from the machine itself: not an answer.
    unreachable = CommandResult(0, "Reply from 192.0.2.1: Destination host unreachable.\n", "")
    runner = Replay({("ping", "-n", "-c", "1", "-W", "1", "192.0.2.5"): reply,
                     ("ping", "-n", "1", "-w", "1000", "192.0.2.6"): unreachable,
                     ("ping", "-n", "1", "-w", "1000", "192.0.2.5"): CommandResult(0, "Reply from 192.0.2.5: "
                                                                                      "bytes=32 time<1ms TTL=128", "")})
    assert sweep("192.0.2.0/28", runner=runner, platform="linux", use_ping=True) == ["192.0.2.5"]
    assert len(runner.calls) == 14 and all(c[:3] == ["ping", "-n", "-c"] for c in runner.calls)
    assert sweep("192.0.2.0/28", runner=runner, platform="win32", use_ping=True) == ["192.0.2.5"]


def test_tcp_probe_on_loopback() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert tcp_answers("127.0.0.1", [port])
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        closed_port = closed.getsockname()[1]
    assert tcp_answers("127.0.0.1", [closed_port])  # refused: a live host all the same


def test_reverse_dns_is_bounded() -> None:
    def lookup(ip: str) -> str:
        if ip == "192.0.2.9":
            time.sleep(2)
            return "late.example."
        return {"192.0.2.1": "gw.example.", "192.0.2.2": ""}[ip]

    start = time.monotonic()
    names = resolve_hostnames(["192.0.2.1", "192.0.2.2", "192.0.2.9"], deadline_s=0.3, lookup=lookup)
    assert time.monotonic() - start < 1.5
    assert names == {"192.0.2.1": "gw.example", "192.0.2.2": "", "192.0.2.9": ""}
    assert resolve_hostnames([]) == {}
    assert resolve_hostnames(["127.0.0.1"])["127.0.0.1"] != "127.0.0.1"  # /etc/hosts; "" when absent


def test_discover_merges_the_table_and_the_sweep_without_the_own_address(monkeypatch: pytest.MonkeyPatch) -> None:
    table = Replay({("ip", "-j"): recorded("linux/ip_j_neigh.json")})
    monkeypatch.setattr(disc, "sweep", lambda *a, **k: ["192.0.2.20", "192.0.2.77"])
    found = disc.discover(sweep_network="192.0.2.0/24", runner=table, platform="linux", resolve=False,
                          own_addresses=["192.0.2.40"])
    assert found == {"subnet": "192.0.2.0/24", "neighbors": [
        {"ip": "192.0.2.20", "mac": "02:42:c0:00:02:14", "hostname": "", "source": "ping"},
        {"ip": "192.0.2.21", "mac": "02:42:c0:00:02:14", "hostname": "", "source": "arp"},
        {"ip": "192.0.2.77", "mac": "", "hostname": "", "source": "ping"},
    ]}
    without = disc.discover(sweep_network="192.0.2.0/24", do_sweep=False, runner=table, platform="linux",
                            resolve=False, own_addresses=[])
    assert [n["source"] for n in without["neighbors"]] == ["arp", "arp", "arp"]


def test_discovery_wire_bounds() -> None:
    many = {"subnet": "10.0.0.0/16", "neighbors": [
        {"ip": str(ipaddress.IPv4Address("10.0.0.1") + i), "mac": "AA:BB:CC:DD:EE:FF", "hostname": None,
         "source": "sweep"} for i in range(1500)] + [{"ip": "", "mac": ""}]}
    data = discovery_wire(many)
    assert len(data["neighbors"]) == 1024 and data["subnet"] == "10.0.0.0/16"
    assert data["neighbors"][0] == {"ip": "10.0.0.1", "mac": "aa:bb:cc:dd:ee:ff", "hostname": "", "source": "arp"}
    assert discovery_wire({"neighbors": [], "subnet": None}) == {"neighbors": [], "subnet": None}


def test_a_discovery_item_passes_the_servers_validation() -> None:
    if server_protocol is None:
        pytest.skip("the tenfold server package is not installed beside the agent")
    if "discovery" not in Path(server_protocol.__file__).read_text():
        pytest.skip("the server's protocol.py does not define the discovery item yet")
    data = discovery_wire({"subnet": "192.0.2.0/24", "neighbors": [
        {"ip": "192.0.2.10", "mac": "aa:bb:cc:dd:ee:ff", "hostname": "", "source": "arp"},
        {"ip": "192.0.2.11", "mac": "", "hostname": "nas.example", "source": "ping"}]})
    without_subnet = discovery_wire({"subnet": None, "neighbors": []})
    body = build_checkin([SpoolItem(1, "discovery", "2026-11-26T16:00:00Z", data, 0),
                          SpoolItem(2, "discovery", "2026-11-26T16:00:00Z", without_subnet, 0)],
                         agent_version="0.1.0", policy_version="", sent_at="2026-11-26T16:00:01Z").body
    assert strict_errors("/agent/v1/checkin", body) is None
    bad = discovery_wire({"subnet": "", "neighbors": [{"ip": "192.0.2.1", "source": "arp"}]})
    assert bad["subnet"] is None


# --- a real sweep in network namespaces made here -------------------------------------------------
def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=15)


@pytest.fixture
def netns_pair() -> Iterator[tuple[str, str]]:
    """Two new network namespaces joined by a veth pair, 192.0.2.10/24 and 192.0.2.20/24 (TEST-NET-1),
    the peer with a fixed MAC. The veth is created inside the first namespace, so nothing appears in
    the machine's own namespace; both are deleted whatever happens."""
    if shutil.which("ip") is None:
        pytest.skip("`ip` (iproute2) is not installed")
    if os.geteuid() != 0:
        pytest.skip("creating network namespaces (`ip netns add`) needs root")
    tag = secrets.token_hex(3)
    a, b = f"tfdisc_{tag}_a", f"tfdisc_{tag}_b"
    made: list[str] = []
    try:
        for ns in (a, b):
            probe = subprocess.run(["ip", "netns", "add", ns], capture_output=True, text=True, timeout=15)
            if probe.returncode != 0:
                pytest.skip(f"`ip netns add` is not permitted here: {probe.stderr.strip()}")
            made.append(ns)
        _ip("-n", a, "link", "add", "veth0", "type", "veth", "peer", "name", "veth0", "netns", b)
        _ip("-n", b, "link", "set", "veth0", "address", "02:00:5e:c0:02:14")
        _ip("-n", a, "addr", "add", "192.0.2.10/24", "dev", "veth0")
        _ip("-n", b, "addr", "add", "192.0.2.20/24", "dev", "veth0")
        for ns in (a, b):
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "link", "set", "veth0", "up")
        yield a, b
    finally:
        for ns in made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=15)


def _in_netns(ns: str, code: str) -> Any:
    out = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_real_sweep_in_a_network_namespace_finds_the_peer(netns_pair: tuple[str, str]) -> None:
    a, _ = netns_pair
    if shutil.which("ping") is None:
        pytest.skip("`ping` is not installed (Debian: iputils-ping)")
    # The namespace has only veth0 and lo: its whole /24 is swept, the machine's networks cannot be.
    found = _in_netns(a, (
        "import json; from tenfold_agent.discovery import discover\n"
        "print(json.dumps(discover(sweep_network='192.0.2.0/24', resolve=False, use_ping=True)))"))
    assert found == {"subnet": "192.0.2.0/24", "neighbors": [
        {"ip": "192.0.2.20", "mac": "02:00:5e:c0:02:14", "hostname": "", "source": "ping"}]}


def test_real_tcp_sweep_in_a_network_namespace(netns_pair: tuple[str, str]) -> None:
    a, _ = netns_pair
    # Without ping: a TCP connect (the peer's kernel refuses it, which is an answer).
    found = _in_netns(a, (
        "import json; from tenfold_agent.discovery import sweep, read_neighbors\n"
        "up = sweep('192.0.2.16/28', use_ping=False, exclude=['192.0.2.10'], ports=[445, 22])\n"
        "print(json.dumps([up, [n.as_dict() for n in read_neighbors()]]))"))
    assert found == [["192.0.2.20"], [{"ip": "192.0.2.20", "mac": "02:00:5e:c0:02:14", "hostname": "",
                                       "source": "arp"}]]


# --- the agent's loop -----------------------------------------------------------------------------
def test_agent_spools_a_discovery_at_most_every_4_hours(tmp_path: Path) -> None:
    from tenfold_agent.config import AgentConfig
    state = tmp_path / "state"
    config = AgentConfig(server_url="http://127.0.0.1:9", credential="tfa_0a1b2c3d_secret", device_id=1,
                         signing_keys=[], verify_tls=False, ca_file=None, checkin_interval=60, checkin_jitter=0,
                         collectors={})
    config.save(state)
    calls: list[int] = []
    result = {"subnet": "192.0.2.0/24", "neighbors": [
        {"ip": "192.0.2.10", "mac": "aa:bb:cc:dd:ee:ff", "hostname": "", "source": "arp"}]}

    def fake_discover() -> dict[str, Any]:
        calls.append(1)
        return result

    def agent(clock: FakeClock) -> Agent:
        return Agent(state, config=config, collector=FakeCollector(), clock=clock, wait=clock.wait,
                     spool=Spool(state / "spool.sqlite3", clock=clock), discoverer=fake_discover)

    clock = FakeClock()
    first = agent(clock)
    first.policy = {"version": "v1", "collectors": {"network_discovery": False}}
    assert first.maybe_discovery(clock.now) is None and calls == []  # opt-in only
    first.policy = {"version": "v1", "collectors": {"network_discovery": True}}
    first.collect()
    items = [i for i in first.spool.pending(100, 1 << 20) if i.kind == "discovery"]
    assert len(items) == 1 and items[0].data == result and calls == [1]
    clock.now += 3600
    first.collect()
    assert calls == [1]
    first.close()

    # A restart does not discover again before the 4 hours: the time is in state.json.
    second = agent(clock)
    second.policy = {"version": "v1", "collectors": {"network_discovery": True}}
    assert second.maybe_discovery(clock.now) is None
    clock.now += DISCOVERY_EVERY_S - 3600
    assert second.maybe_discovery(clock.now) is not None and calls == [1, 1]
    assert sum(1 for i in second.spool.pending(100, 1 << 20) if i.kind == "discovery") == 2
    second.close()
