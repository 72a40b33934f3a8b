"""Test helpers of agent releases: wheels of the tenfold-agent package made in memory (a ZIP with the
*.dist-info/METADATA and the module a real wheel has), uploaded, signed with real keys, published."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from tenfold.agents.models import Agent
from tenfold.assets.models import Device
from tenfold.automation import releases
from tenfold.automation.models import AgentRelease
from tenfold.automation.tests.factories import Key


def wheel(version: str, *, name: str = "tenfold-agent", module_version: str | None = None,
          padding: bytes = b"") -> tuple[str, bytes]:
    """A wheel's file name and bytes; `padding` adds a stored file (for size limits)."""
    buffer = io.BytesIO()
    info = f"{name.replace('-', '_')}-{version}.dist-info"
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("tenfold_agent/__init__.py",
                         f'"""The Tenfold agent."""\n\n__version__ = "{module_version or version}"\n')
        archive.writestr("tenfold_agent/service.py", "EXIT_OK = 0\n")
        archive.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                                             "Summary: The Tenfold agent\n")
        archive.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        if padding:
            archive.writestr("tenfold_agent/padding.bin", padding, compress_type=zipfile.ZIP_STORED)
    return f"{name.replace('-', '_')}-{version}-py3-none-any.whl", buffer.getvalue()


def upload(actor: Any, version: str = "0.2.0", notes: str = "") -> AgentRelease:
    file_name, data = wheel(version)
    return releases.release_upload(actor=actor, version=version, file_name=file_name, data=data, notes=notes)


def sign_release(release: AgentRelease, key: Key, signer: Any) -> None:
    releases.release_signature_upload(actor=signer, release=release, key_id=key.key_id,
                                      signature=key.sign(release.document.encode()))


def published(actor: Any, key: Key, version: str = "0.2.0") -> AgentRelease:
    release = upload(actor, version)
    sign_release(release, key, actor)
    return releases.release_publish(actor=actor, release=release)


def with_agent(device: Device, version: str) -> Device:
    Agent.objects.create(device=device, client_id=device.client_id, agent_version=version)
    return device
