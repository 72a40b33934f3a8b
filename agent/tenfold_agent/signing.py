"""Ed25519 verification of what the MSP signs (scripts, agent releases), and the agent's trust store: the
keys from enrollment, keys rotated in by a countersignature, and signed revocations."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .util import write_json_atomic


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


# --- The persistent trust store: keys from enrollment, rotated keys, revocations ------------------

TRUST_NAME = "trust.json"
SCRIPT_PURPOSE = "tenfold-script-version"
KEY_PURPOSE = "tenfold-signing-key"
REVOCATION_PURPOSE = "tenfold-key-revocation"


def canonical(data: Any) -> bytes:
    """Canonical JSON, exactly as the server and `tenfold sign` build it: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def key_id_of(public_key_b64: str) -> str:
    """A key's id, derived from its raw bytes (so a server cannot give one key another key's name)."""
    raw = _b64(public_key_b64, "public key")
    if len(raw) != 32:
        raise SignatureError(f"public key is {len(raw)} bytes, not 32")
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


def _verify_with(public_key_b64: str, payload: bytes, signature_b64: str, key_id: str) -> None:
    TrustedKeys.from_enrollment([{"key_id": key_id, "public_key": public_key_b64}]).verify(
        payload, signature_b64, key_id)


class TrustStore:
    """The keys this agent trusts, kept in `trust.json` in the state directory.

    Enrollment gives the first set. Afterwards a key is added only when its countersignature verifies with
    a key already trusted, and a key is dropped (for good: it is remembered as revoked) only when its
    revocation is signed by another trusted key. A server can therefore neither add a key of its own nor
    revoke keys without the signature of a key the MSP holds.
    """

    def __init__(self, path: Path, keys: dict[str, str], revoked: set[str]) -> None:
        self.path = path
        self.keys = keys  # key id -> base64 public key
        self.revoked = revoked

    @classmethod
    def load(cls, state_dir: Path, enrollment_keys: Iterable[Mapping[str, str]] = ()) -> TrustStore:
        """The stored trust, or (before the first save) the keys of the enrollment answer."""
        path = state_dir / TRUST_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls.from_enrollment(path, enrollment_keys)
        except (OSError, ValueError) as exc:
            raise SignatureError(f"{path} is not readable: {exc}") from exc
        keys = {str(k): str(v) for k, v in dict(data.get("keys", {})).items()}
        return cls(path, keys, {str(k) for k in data.get("revoked", [])})

    @classmethod
    def from_enrollment(cls, path: Path, entries: Iterable[Mapping[str, str]]) -> TrustStore:
        """Trust the enrollment answer's keys (the enrollment token and TLS vouch for that answer)."""
        entries = list(entries)
        TrustedKeys.from_enrollment(entries)  # malformed keys are an error
        keys: dict[str, str] = {}
        for entry in entries:
            public = str(entry.get("public_key", ""))
            derived = key_id_of(public)
            if entry.get("key_id") != derived:
                raise SignatureError(f"key id {entry.get('key_id')!r} does not match its public key ({derived})")
            keys[derived] = public
        return cls(path, keys, set())

    def save(self) -> None:
        """Write the trust store atomically (mode 0600)."""
        write_json_atomic(self.path, {"keys": self.keys, "revoked": sorted(self.revoked)})

    def apply(self, update: Mapping[str, Any]) -> list[str]:
        """Take a check-in answer's `signing_keys`: accept countersigned keys and signed revocations that
        verify; ignore (and report) the rest. Returns what changed and what was refused, for the log."""
        notes: list[str] = []
        entries = [e for e in update.get("keys") or [] if isinstance(e, Mapping)]
        revocations = [r for r in update.get("revoked") or [] if isinstance(r, Mapping)]
        changed = True
        while changed:  # a chain (k1 endorses k2, k2 endorses k3) is followed whatever the order
            changed = False
            for entry in revocations:
                key_id, by = str(entry.get("key_id") or ""), str(entry.get("revoked_by") or "")
                if not key_id or key_id in self.revoked or by not in self.keys or by == key_id:
                    continue
                try:
                    _verify_with(self.keys[by], canonical({"purpose": REVOCATION_PURPOSE, "key_id": key_id}),
                                 str(entry.get("signature") or ""), by)
                except SignatureError as exc:
                    notes.append(f"revocation of {key_id} refused: {exc}")
                    continue
                self.revoked.add(key_id)
                self.keys.pop(key_id, None)
                notes.append(f"key {key_id} revoked (signed by {by})")
                changed = True
            for entry in entries:
                key_id, public = str(entry.get("key_id") or ""), str(entry.get("public_key") or "")
                by = str(entry.get("countersigned_by") or "")
                if key_id in self.keys or key_id in self.revoked or by not in self.keys:
                    continue
                try:
                    if key_id_of(public) != key_id:
                        raise SignatureError(f"key id {key_id} does not match its public key")
                    _verify_with(self.keys[by], canonical({"purpose": KEY_PURPOSE, "key_id": key_id,
                                                           "public_key": public}),
                                 str(entry.get("countersignature") or ""), by)
                except SignatureError as exc:
                    notes.append(f"key {key_id} refused: {exc}")
                    continue
                self.keys[key_id] = public
                notes.append(f"key {key_id} trusted (countersigned by {by})")
                changed = True
        for entry in entries:
            key_id = str(entry.get("key_id") or "")
            if key_id and key_id not in self.keys and key_id not in self.revoked:
                notes.append(f"key {key_id} not trusted: no valid countersignature by a trusted key")
        return notes

    def verify_document(self, document: bytes, signatures: Iterable[Any]) -> str:
        """The id of a trusted key whose signature of `document` verifies; SignatureError (with the reasons)
        when none does."""
        reasons = []
        for entry in signatures:
            if not isinstance(entry, Mapping):
                continue
            key_id = str(entry.get("key_id") or "")
            if key_id in self.revoked:
                reasons.append(f"{key_id} is revoked")
                continue
            if key_id not in self.keys:
                reasons.append(f"{key_id} is not a trusted key")
                continue
            try:
                _verify_with(self.keys[key_id], document, str(entry.get("signature") or ""), key_id)
            except SignatureError as exc:
                reasons.append(str(exc))
                continue
            return key_id
        raise SignatureError("no valid signature by a trusted key (" + ("; ".join(reasons) or "no signature") + ")")
