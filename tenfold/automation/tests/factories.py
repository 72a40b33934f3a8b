"""Test helpers: real Ed25519 key pairs (the private half held by the test, as by an approver), scripts,
signed versions, managed devices."""

from __future__ import annotations

from typing import Any

from tenfold.assets.models import Device
from tenfold.automation import services, signing
from tenfold.automation.models import Script, ScriptVersion, SigningKey
from tenfold.clients.models import Client

SHELL_BODY = '#!/bin/sh\necho "restarting $TF_SERVICE"\n'
PARAMS = [{"name": "service", "label": "Service", "type": "string", "required": True},
          {"name": "level", "label": "Level", "type": "choice", "required": False, "choices": ["low", "high"],
           "default": "low"},
          {"name": "count", "label": "Count", "type": "number", "required": False},
          {"name": "force", "label": "Force", "type": "boolean", "required": False},
          {"name": "password", "label": "Password", "type": "secret", "required": False}]


class Key:
    """An approver's key pair; only `public` ever goes to the server."""

    def __init__(self) -> None:
        self.private = signing.generate_private_key()
        self.public = signing.public_key_of(self.private)
        self.key_id = signing.key_id_of(self.public)

    def sign(self, document: bytes) -> str:
        return signing.sign(self.private, document)

    def countersign(self, new: Key) -> str:
        return self.sign(signing.key_document(new.key_id, new.public))

    def revoke(self, old: Key) -> str:
        return self.sign(signing.revocation_document(old.key_id))


def register(actor: Any, key: Key, owner: Any, *, by: Key | None = None, name: str = "Approver") -> SigningKey:
    return services.signing_key_register(actor=actor, name=name, public_key=key.public, owner=owner,
                                         countersigned_by=by.key_id if by else None,
                                         countersignature=by.countersign(key) if by else None)


def make_script(actor: Any, name: str = "Restart a service", body: str = SHELL_BODY,
                parameters: list[dict[str, Any]] | None = None, **fields: Any) -> Script:
    data = {"name": name, "description": "", "category": "services", "language": "shell",
            "os_families": ["linux"], "timeout_seconds": 60, "parameters": PARAMS if parameters is None else parameters,
            "body": body, **fields}
    return services.script_create(actor=actor, data=data)


def sign(version: ScriptVersion, key: Key, signer: Any) -> None:
    services.signature_upload(actor=signer, version=version, key_id=key.key_id,
                              signature=key.sign(version.document.encode()))


def managed_device(client: Client, name: str = "SRV-01", os_family: str = "linux") -> Device:
    return Device.objects.create(client=client, name=name, managed=True, machine_id=f"mid-{name}-{client.pk}",
                                 state="active", os_family=os_family)
