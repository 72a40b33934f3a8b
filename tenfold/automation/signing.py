"""What is signed, and how: the canonical documents of script versions, key endorsements and key
revocations, and Ed25519 signing and verification over them.

Pure functions, no Django and no database: the server, the `tenfold sign` command on an approver's
machine and the tests build the same bytes from the same fields. The agent does not rebuild a script
document: it verifies the signature over the document's bytes as sent, then checks the body against the
hash inside it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

# Each kind of signed document names its purpose, so a signature made for one kind can never be
# presented as another (an endorsement of a key is not a script document).
SCRIPT_PURPOSE = "tenfold-script-version"
KEY_PURPOSE = "tenfold-signing-key"
REVOCATION_PURPOSE = "tenfold-key-revocation"
RELEASE_PURPOSE = "tenfold-agent-release"
RELEASE_PACKAGE = "tenfold-agent"


class SigningError(Exception):
    """A key, a signature or a document that cannot be used."""


def canonical(data: Any) -> bytes:
    """Canonical JSON: sorted keys, no spaces, UTF-8 (non-ASCII kept as is)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_hex(data: bytes | str) -> str:
    """SHA-256 of bytes, or of a string's UTF-8 bytes, in lower-case hex."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()


def script_document(*, script_id: int, number: int, language: str, body: str, parameters: list[dict[str, Any]],
                    timeout_seconds: int, os_families: list[str]) -> bytes:
    """The signed document of a script version; the body enters it only as its SHA-256."""
    return canonical({
        "purpose": SCRIPT_PURPOSE, "script_id": int(script_id), "version": int(number), "language": language,
        "body_sha256": sha256_hex(body), "parameters": parameters, "timeout_seconds": int(timeout_seconds),
        "os_families": sorted(os_families),
    })


def key_document(key_id: str, public_key: str) -> bytes:
    """What an already trusted key signs to endorse a new key (its countersignature)."""
    return canonical({"purpose": KEY_PURPOSE, "key_id": key_id, "public_key": public_key})


def revocation_document(key_id: str) -> bytes:
    """What another trusted key signs to revoke `key_id`."""
    return canonical({"purpose": REVOCATION_PURPOSE, "key_id": key_id})


def release_document(*, version: str, file_name: str, sha256: str, size: int) -> bytes:
    """The signed document of an agent release: the wheel enters it as its name, SHA-256 and size."""
    return canonical({"purpose": RELEASE_PURPOSE, "package": RELEASE_PACKAGE, "version": version,
                      "file_name": file_name, "sha256": sha256, "size": int(size)})


# The versions a release may carry: PEP 440 public versions in their normalized form, without epoch or local
# part (the agent compares them with the same small rule, having no packaging library).
_VERSION = re.compile(r"^(?P<release>\d+(?:\.\d+)*)(?:(?P<pre_l>a|b|rc)(?P<pre_n>\d+))?"
                      r"(?:\.post(?P<post>\d+))?(?:\.dev(?P<dev>\d+))?$")
_PRE_RANK = {"a": 0, "b": 1, "rc": 2}


def release_version_key(version: str) -> tuple[Any, ...]:
    """A sort key of a release version with PEP 440's order (1.0.dev1 < 1.0a1 < 1.0rc1 < 1.0 < 1.0.post1);
    SigningError when the text is not a normalized public version such as 1.2.0, 1.3.0rc1 or 2.0.post1."""
    match = _VERSION.match(version or "") if len(version or "") <= 50 else None
    if match is None:
        raise SigningError(f"{version!r} is not a version such as 1.2.0, 1.3.0rc1 or 2.0.post1 "
                           "(PEP 440, normalized, no epoch or local part)")
    parts = [int(p) for p in match["release"].split(".")]
    if any(str(n) != p for n, p in zip(parts, match["release"].split("."), strict=True)):
        raise SigningError(f"{version!r} is not normalized (no leading zeros)")
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    pre: tuple[int, ...]
    if match["pre_l"]:
        pre = (0, _PRE_RANK[match["pre_l"]], int(match["pre_n"]))
    elif match["dev"] is not None and match["post"] is None:
        pre = (-1,)
    else:
        pre = (1,)
    post = int(match["post"]) if match["post"] is not None else -1
    dev = (0, int(match["dev"])) if match["dev"] is not None else (1, 0)
    return (tuple(parts), pre, post, dev)


def b64decode(value: str, what: str) -> bytes:
    """Strict base64, or SigningError naming what was wrong."""
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SigningError(f"{what} is not valid base64") from exc


def b64encode(raw: bytes) -> str:
    """Standard base64 text."""
    return base64.b64encode(raw).decode("ascii")


def public_key_raw(public_key: str) -> bytes:
    """The 32 raw bytes of a base64 Ed25519 public key, or SigningError."""
    raw = b64decode(public_key, "the public key")
    if len(raw) != 32:
        raise SigningError(f"the public key is {len(raw)} bytes, not 32")
    return raw


def key_id_of(public_key: str) -> str:
    """A key's id: the first 16 hex digits of the SHA-256 of its raw bytes (same on every side)."""
    return "ed25519:" + hashlib.sha256(public_key_raw(public_key)).hexdigest()[:16]


def verify(public_key: str, document: bytes, signature: str) -> None:
    """Raise SigningError unless `signature` (base64) is the Ed25519 signature of `document` by the key."""
    key = Ed25519PublicKey.from_public_bytes(public_key_raw(public_key))
    raw = b64decode(signature, "the signature")
    if len(raw) != 64:
        raise SigningError(f"the signature is {len(raw)} bytes, not 64")
    try:
        key.verify(raw, document)
    except InvalidSignature as exc:
        raise SigningError("the signature does not match this document and key") from exc


# --- private keys: used only by `tenfold sign` on the approver's machine, and by the tests ---------


def generate_private_key() -> Ed25519PrivateKey:
    """A new Ed25519 private key."""
    return Ed25519PrivateKey.generate()


def private_key_pem(private: Ed25519PrivateKey) -> bytes:
    """PKCS#8 PEM of a private key (unencrypted: the file's permissions protect it)."""
    return private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM, or SigningError."""
    try:
        private = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningError(f"not a readable unencrypted PEM private key: {exc}") from exc
    if not isinstance(private, Ed25519PrivateKey):
        raise SigningError("the private key is not an Ed25519 key")
    return private


def public_key_of(private: Ed25519PrivateKey) -> str:
    """The base64 raw public key of a private key."""
    return b64encode(private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def sign(private: Ed25519PrivateKey, document: bytes) -> str:
    """The base64 Ed25519 signature of `document`."""
    return b64encode(private.sign(document))
