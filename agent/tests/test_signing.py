"""Ed25519 verification against the keys from enrollment."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from tenfold_agent.signing import SignatureError, TrustedKeys


def _pair() -> tuple[Ed25519PrivateKey, dict[str, str]]:
    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return private, {"key_id": "k1", "public_key": base64.b64encode(raw).decode()}


def test_valid_signature_verifies() -> None:
    private, entry = _pair()
    keys = TrustedKeys.from_enrollment([entry])
    payload = b'{"script": "echo hello"}'
    keys.verify(payload, base64.b64encode(private.sign(payload)).decode(), "k1")


def test_tampered_payload_wrong_key_unknown_key_and_garbage_are_refused() -> None:
    private, entry = _pair()
    _other, other_entry = _pair()
    other_entry["key_id"] = "k2"
    keys = TrustedKeys.from_enrollment([entry, other_entry])
    payload = b"payload"
    signature = base64.b64encode(private.sign(payload)).decode()
    with pytest.raises(SignatureError, match="does not match"):
        keys.verify(b"payload!", signature, "k1")
    with pytest.raises(SignatureError, match="does not match"):
        keys.verify(payload, signature, "k2")  # signed by k1, presented as k2
    with pytest.raises(SignatureError, match="unknown signing key"):
        keys.verify(payload, signature, "k9")
    with pytest.raises(SignatureError, match="base64"):
        keys.verify(payload, "not base64!", "k1")
    with pytest.raises(SignatureError, match="not 64"):
        keys.verify(payload, base64.b64encode(b"short").decode(), "k1")


def test_malformed_keys_are_refused() -> None:
    with pytest.raises(SignatureError, match="not 32"):
        TrustedKeys.from_enrollment([{"key_id": "k1", "public_key": base64.b64encode(b"x" * 31).decode()}])
    with pytest.raises(SignatureError, match="key_id"):
        TrustedKeys.from_enrollment([{"public_key": base64.b64encode(b"x" * 32).decode()}])
    assert TrustedKeys.from_enrollment([]).keys == {}
