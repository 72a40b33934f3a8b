"""Envelope encryption of the credential vault, and TOTP codes.

Each credential has its own random 256-bit data key; its secret and TOTP seed are encrypted with it
(AES-256-GCM). The data key is stored only wrapped (encrypted, AES-256-GCM) by the key-encryption key
(KEK), which never enters the database: it comes from `TENFOLD_VAULT_KEY` (32 bytes, base64) or from the
file `vault_key` in the data directory, created on first use with owner-only permissions. A dump of the
database therefore holds ciphertext only. Each credential records the id of the KEK that wrapped its
key (a fingerprint of the KEK), so a wrong or missing key gives a clear error instead of garbage.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import struct
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from tenfold.core.errors import TenfoldError

KEY_BYTES = 32
NONCE_BYTES = 12
_WRAP_AAD = b"tenfold-vault:data-key:v1"
Blob = bytes | memoryview  # what a BinaryField gives back, by database


class VaultKeyError(TenfoldError):
    """The key-encryption key is missing, malformed, or not the one the credential was encrypted with."""

    code = "vault_key_error"
    status = 503
    default_message = _("The vault key is not available.")


def _key_file() -> Path:
    configured = getattr(settings, "TENFOLD_VAULT_KEY_FILE", None)
    return Path(configured) if configured else Path(settings.DATA_DIR) / "vault_key"


def _decode_key(text: str, origin: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise VaultKeyError(_("The vault key in %(origin)s is not 32 bytes encoded in base64.") % {"origin": origin})
    return key


def load_kek() -> bytes:
    """The key-encryption key: TENFOLD_VAULT_KEY if set, else the data directory's `vault_key` file
    (created, 0600, on first use; exclusive creation so two processes never pick different keys)."""
    configured = os.environ.get("TENFOLD_VAULT_KEY", "")
    if configured:
        return _decode_key(configured, "TENFOLD_VAULT_KEY")
    path = _key_file()
    if path.exists():
        return _decode_key(path.read_text(), str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _decode_key(path.read_text(), str(path))
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(key).decode("ascii"))
    return key


def key_id(kek: bytes) -> str:
    """A public fingerprint of a KEK (16 hex digits), stored beside what it wrapped."""
    return hashlib.sha256(b"tenfold-vault-key-id:" + kek).hexdigest()[:16]


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, blob: Blob, aad: bytes) -> bytes:
    raw = bytes(blob)
    return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad)


@dataclass(frozen=True)
class Sealed:
    """What the database stores for one credential."""

    wrapped_key: bytes
    key_id: str
    secret_ciphertext: bytes
    totp_ciphertext: bytes | None


def seal_credential(secret: str, totp_seed: str | None) -> Sealed:
    """Encrypt a secret (and a TOTP seed) under a fresh data key wrapped by the KEK."""
    kek = load_kek()
    data_key = AESGCM.generate_key(bit_length=256)
    return Sealed(
        wrapped_key=_seal(kek, data_key, _WRAP_AAD),
        key_id=key_id(kek),
        secret_ciphertext=_seal(data_key, secret.encode("utf-8"), b"secret"),
        totp_ciphertext=_seal(data_key, totp_seed.encode("utf-8"), b"totp") if totp_seed else None,
    )


def _data_key(wrapped_key: Blob, stored_key_id: str, kek: bytes | None = None) -> bytes:
    kek = load_kek() if kek is None else kek
    current = key_id(kek)
    if current != stored_key_id:
        raise VaultKeyError(_("This credential was encrypted with vault key %(stored)s but the configured key is "
                              "%(current)s: restore the original TENFOLD_VAULT_KEY or vault_key file.")
                            % {"stored": stored_key_id, "current": current})
    try:
        return _open(kek, wrapped_key, _WRAP_AAD)
    except InvalidTag:
        raise VaultKeyError(_("The vault key cannot decrypt this credential's data key.")) from None


def open_secret(wrapped_key: Blob, stored_key_id: str, ciphertext: Blob, purpose: str, *,
                kek: bytes | None = None) -> str:
    """Decrypt one field ("secret" or "totp") of a credential (with the configured KEK unless `kek` is given)."""
    data_key = _data_key(wrapped_key, stored_key_id, kek)
    try:
        return _open(data_key, ciphertext, purpose.encode("ascii")).decode("utf-8")
    except InvalidTag:
        raise VaultKeyError(_("This credential's ciphertext is damaged and cannot be decrypted.")) from None


def reseal_field(wrapped_key: Blob, stored_key_id: str, plaintext: str, purpose: str) -> bytes:
    """Encrypt a new value of one field under the credential's existing data key."""
    return _seal(_data_key(wrapped_key, stored_key_id), plaintext.encode("utf-8"), purpose.encode("ascii"))


# --- Rotation of the KEK (see vault_rotation.py) -----------------------------------------------------------

def generate_kek() -> bytes:
    """A new random key-encryption key."""
    return secrets.token_bytes(KEY_BYTES)


def encode_key(kek: bytes) -> str:
    """A KEK as written in the key file or TENFOLD_VAULT_KEY (base64)."""
    return base64.b64encode(kek).decode("ascii")


def read_key_file(path: Path) -> bytes:
    """The KEK stored in `path` (VaultKeyError if it is malformed)."""
    return _decode_key(path.read_text(), str(path))


def key_file_path() -> Path:
    """Where the KEK is kept when TENFOLD_VAULT_KEY is not set."""
    return _key_file()


def key_from_environment() -> bool:
    """Whether the KEK comes from TENFOLD_VAULT_KEY (then no key file is read or written)."""
    return bool(os.environ.get("TENFOLD_VAULT_KEY", ""))


def rewrap_data_key(wrapped_key: Blob, stored_key_id: str, old_kek: bytes, new_kek: bytes) -> bytes:
    """The credential's data key, unwrapped with `old_kek` and wrapped again with `new_kek`."""
    return _seal(new_kek, _data_key(wrapped_key, stored_key_id, old_kek), _WRAP_AAD)


def write_key_file(path: Path, kek: bytes) -> None:
    """Write a KEK to `path` atomically and durably: a temporary file (0600) beside it, fsync, rename,
    then fsync of the directory, so a crash leaves either the old file or the new one, never half of one."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(encode_key(kek))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    sync_directory(path.parent)


def sync_directory(directory: Path) -> None:
    """fsync a directory, so that a rename in it survives a crash."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- TOTP (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits) ------------------------------------------------

def normalize_totp_seed(seed: str) -> str:
    """The seed in upper-case base32 without spaces; ValueError if it is not base32 or too short."""
    cleaned = "".join(seed.split()).upper().rstrip("=")
    if not cleaned:
        raise ValueError("empty")
    try:
        raw = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except (binascii.Error, ValueError):
        raise ValueError("not base32") from None
    if len(raw) < 10:
        raise ValueError("too short")
    return cleaned


def totp_code(seed: str, at: float | None = None, *, digits: int = 6, step: int = 30) -> str:
    """The TOTP code of `seed` at time `at` (now by default)."""
    cleaned = normalize_totp_seed(seed)
    raw = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(raw, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % (10 ** digits)).zfill(digits)


def totp_seconds_left(at: float | None = None, step: int = 30) -> int:
    """Seconds until the current code changes."""
    now = time.time() if at is None else at
    return step - int(now) % step
