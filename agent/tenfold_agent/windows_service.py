"""The agent as a Windows service (pywin32). Not run in this repository: it needs a Windows machine.

Install (elevated prompt): `python -m tenfold_agent.windows_service install`, then
`python -m tenfold_agent.windows_service start`. The service runs the same loop as `tenfold-agent run`
and stops it through the loop's wait function when Windows asks the service to stop.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

try:
    import servicemanager  # type: ignore[import-not-found]
    import win32event  # type: ignore[import-not-found]
    import win32service  # type: ignore[import-not-found]
    import win32serviceutil  # type: ignore[import-not-found]
except ImportError:  # not Windows, or pywin32 not installed
    win32serviceutil = None

SERVICE_NAME = "TenfoldAgent"


def _make_service_class() -> Any:
    """The pywin32 service class (built only where pywin32 exists)."""
    from .__main__ import setup_logging
    from .config import default_state_dir
    from .service import Agent

    class TenfoldAgentService(win32serviceutil.ServiceFramework):  # type: ignore[misc,name-defined]
        """Windows service that runs the agent loop."""

        _svc_name_ = SERVICE_NAME
        _svc_display_name_ = "Tenfold Agent"
        _svc_description_ = "Reports inventory, metrics, checks and posture to the Tenfold server."

        def __init__(self, args: Any) -> None:
            super().__init__(args)
            self.stop_requested = threading.Event()
            self.hwait = win32event.CreateEvent(None, 0, 0, None)

        def SvcStop(self) -> None:  # noqa: N802 - the name pywin32 calls
            """Windows asked the service to stop: end the loop at its next wait."""
            self.ReportServiceStatus(win32service.SERVICE_STOP_PENDING)
            self.stop_requested.set()
            win32event.SetEvent(self.hwait)

        def SvcDoRun(self) -> None:  # noqa: N802 - the name pywin32 calls
            """Run the agent loop until stopped."""
            state_dir = default_state_dir()
            setup_logging(False, state_dir / "agent.log")
            servicemanager.LogInfoMsg(f"{SERVICE_NAME} starting, state in {state_dir}")
            agent = Agent(state_dir, wait=self.stop_requested.wait)
            try:
                code = agent.run()
            finally:
                agent.close()
            servicemanager.LogInfoMsg(f"{SERVICE_NAME} stopped with exit code {code}")

    return TenfoldAgentService


def main() -> int:
    """Install, start, stop or remove the service (`python -m tenfold_agent.windows_service …`)."""
    if win32serviceutil is None:
        print("the Windows service needs Windows and pywin32 (pip install tenfold-agent[windows])", file=sys.stderr)
        return 2
    win32serviceutil.HandleCommandLine(_make_service_class())
    return 0


if __name__ == "__main__":
    sys.exit(main())
