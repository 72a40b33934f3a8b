"""Ed25519 verification of what the MSP signs (scripts, agent releases) against the keys from enrollment."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class SignatureError(Exception):
    """A signature that does not verify, names an unknown key, or is malformed."""


@dataclass(frozen=True)
class TrustedKeys:
    """The MSP's public signing keys, by key id, as the enrollment answer gave them."""

    keys: dict[str, Ed25519PublicKey]

    @classmethod
    def from_enrollment(cls, entries: Iterable[Mapping[str, str]]) -> TrustedKeys:
        """Load `[{"key_id": "k1", "public_key": "<base64 raw 32 bytes>"}]`; a malformed key is an error."""
        keys: dict[str, Ed25519PublicKey] = {}
        for entry in entries:
            key_id = entry.get("key_id")
            if not key_id:
                raise SignatureError("a signing key without key_id")
            raw = _b64(entry.get("public_key", ""), f"public key {key_id}")
            if len(raw) != 32:
                raise SignatureError(f"public key {key_id} is {len(raw)} bytes, not 32")
            keys[key_id] = Ed25519PublicKey.from_public_bytes(raw)
        return cls(keys)

    def verify(self, payload: bytes, signature_b64: str, key_id: str) -> None:
        """Raise SignatureError unless `signature_b64` is a valid Ed25519 signature of `payload` by `key_id`."""
        key = self.keys.get(key_id)
        if key is None:
            raise SignatureError(f"unknown signing key {key_id!r}")
        signature = _b64(signature_b64, "signature")
        if len(signature) != 64:
            raise SignatureError(f"signature is {len(signature)} bytes, not 64")
        try:
            key.verify(signature, payload)
        except InvalidSignature as exc:
            raise SignatureError(f"signature by {key_id!r} does not match the payload") from exc


def _b64(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError(f"{what} is not valid base64") from exc
