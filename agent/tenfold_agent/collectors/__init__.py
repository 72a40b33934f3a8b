"""OS-specific collectors behind one interface (`Collector`), chosen by platform."""

from __future__ import annotations

import sys

from ..util import Runner, run_command
from .base import Collector, ServiceState


def get_collector(platform: str = sys.platform, runner: Runner = run_command) -> Collector:
    """The collector of `platform` (a `sys.platform` value)."""
    if platform == "win32":
        from .windows import WindowsCollector

        return WindowsCollector(runner)
    if platform == "darwin":
        from .macos import MacCollector

        return MacCollector(runner)
    from .linux import LinuxCollector

    return LinuxCollector(runner)


__all__ = ["Collector", "ServiceState", "get_collector"]
