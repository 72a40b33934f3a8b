"""Rotation of the vault's key-encryption key (KEK): every credential's data key is unwrapped with the
current KEK and wrapped again with a new one. The secrets and TOTP seeds are not re-encrypted: their
ciphertext, under the unchanged data keys, stays as it is.

The database side is one transaction: every data key is re-wrapped and its key id set to the new key's,
then every credential is read back and decrypted with the new KEK and compared with what the old one gave;
only then does it commit. A failure anywhere rolls everything back.

With a key file (`vault_key` in the data directory, or TENFOLD_VAULT_KEY_FILE), the order is chosen so
that no key the database needs is ever only in memory:

1. the current key is copied to `vault_key.previous` (kept until the operator removes it);
2. the new key is written durably to `vault_key.next`;
3. the database transaction commits;
4. `vault_key.next` is renamed over `vault_key`.

A crash between 3 and 4 leaves the new key in `vault_key.next`: the next run sees that the credentials carry
its key id and finishes the rename. A failure before 3 removes the files it wrote.

With TENFOLD_VAULT_KEY, nothing is written: the new key comes from `--new-key-file` (the safer order: the
key exists before the database changes) or is generated and handed back once, for the operator to install.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from django.db import DatabaseError, connection, transaction

from tenfold.core import audit
from tenfold.knowledge import vault
from tenfold.knowledge.models import Credential

BATCH = 500


class RotationError(Exception):
    """The rotation was refused or failed; nothing was changed (unless the message says otherwise)."""


@dataclass(frozen=True)
class RotationReport:
    """What a rotation (or a dry run) did; never any key material except a generated environment key."""

    credentials: int
    totp_seeds: int
    dry_run: bool = False
    from_environment: bool = False
    key_file: Path | None = None
    previous_file: Path | None = None
    new_key_text: str | None = None  # only when the key is generated for TENFOLD_VAULT_KEY: shown once
    finished_interrupted: bool = False


def sibling(path: Path, suffix: str) -> Path:
    """`vault_key.previous`, `vault_key.next`: beside the key file."""
    return path.with_name(path.name + suffix)


def rotate_key(*, new_kek: bytes | None = None, dry_run: bool = False) -> RotationReport:
    """Re-wrap every credential's data key with `new_kek` (a generated key by default), or with `dry_run`
    check that every credential decrypts with the current key and change nothing."""
    from_environment = vault.key_from_environment()
    path = None if from_environment else vault.key_file_path()
    old = _configured_kek(path)
    if dry_run:
        credentials, seeds = _rewrap_all(old, None)
        return RotationReport(credentials, seeds, dry_run=True, from_environment=from_environment, key_file=path)
    if path is not None and _finish_interrupted(path, old):
        credentials, seeds = _counts()
        return RotationReport(credentials, seeds, key_file=path, previous_file=sibling(path, ".previous"),
                              finished_interrupted=True)
    generated = new_kek is None
    new = vault.generate_kek() if new_kek is None else new_kek
    if vault.key_id(new) == vault.key_id(old):
        raise RotationError("The new vault key is the current one: nothing to rotate.")
    if path is None:
        credentials, seeds = _rewrap_all(old, new)
        return RotationReport(credentials, seeds, from_environment=True,
                              new_key_text=vault.encode_key(new) if generated else None)
    previous, pending = sibling(path, ".previous"), sibling(path, ".next")
    created_previous = _keep_previous(previous, old)
    vault.write_key_file(pending, new)
    try:
        credentials, seeds = _rewrap_all(old, new)
    except BaseException:
        if _surely_not_committed(vault.key_id(new)):
            pending.unlink(missing_ok=True)
            if created_previous:
                previous.unlink(missing_ok=True)
        raise
    os.replace(pending, path)
    vault.sync_directory(path.parent)
    return RotationReport(credentials, seeds, key_file=path, previous_file=previous)


def _configured_kek(path: Path | None) -> bytes:
    """The current KEK; refuses (rather than creating one) when there is no key file."""
    if path is not None and not path.exists():
        raise RotationError(f"There is no vault key to rotate: TENFOLD_VAULT_KEY is not set and {path} does "
                            f"not exist.")
    try:
        return vault.load_kek()
    except vault.VaultKeyError as exc:
        raise RotationError(str(exc.message)) from None


def _keep_previous(previous: Path, old: bytes) -> bool:
    """Copy the current key to `.previous`; True if this run created the file. An older `.previous` (from a
    rotation before) is the operator's to remove: it may be the only key of a database backup."""
    if previous.exists():
        try:
            kept = vault.read_key_file(previous)
        except vault.VaultKeyError:
            kept = b""
        if kept != old:
            raise RotationError(f"{previous} holds a key from an earlier rotation: once no backup needs it, "
                                f"remove it and run the rotation again.")
        return False
    vault.write_key_file(previous, old)
    return True


def _finish_interrupted(path: Path, old: bytes) -> bool:
    """A `.next` file left by a run that stopped: finish it if the database committed, else drop it."""
    pending = sibling(path, ".next")
    if not pending.exists():
        return False
    try:
        new = vault.read_key_file(pending)
    except vault.VaultKeyError as exc:
        raise RotationError(f"{exc.message} Keep that file and check the credentials' key ids.") from None
    ids = set(Credential.objects.values_list("key_id", flat=True).distinct())
    if ids and ids <= {vault.key_id(new)}:
        if not sibling(path, ".previous").exists():
            vault.write_key_file(sibling(path, ".previous"), old)
        os.replace(pending, path)
        vault.sync_directory(path.parent)
        return True
    if ids <= {vault.key_id(old)}:
        pending.unlink()
        return False
    raise RotationError(f"The credentials carry the vault key ids {', '.join(sorted(ids))}, neither only the "
                        f"current key's ({vault.key_id(old)}) nor only that of {pending} "
                        f"({vault.key_id(new)}): nothing was changed.")


def _surely_not_committed(new_id: str) -> bool:
    """After a failure: True only if the database certainly holds no data key wrapped by the new key."""
    try:
        return not Credential.objects.filter(key_id=new_id).exists()
    except DatabaseError:
        return False


def _counts() -> tuple[int, int]:
    return Credential.objects.count(), Credential.objects.filter(totp_ciphertext__isnull=False).count()


def _fingerprint(kek: bytes, credential: Credential) -> bytes:
    """A digest of the credential's decrypted secret and seed (so plaintexts need not be kept)."""
    digest = hashlib.sha256()
    for purpose, blob in (("secret", credential.secret_ciphertext), ("totp", credential.totp_ciphertext)):
        digest.update(purpose.encode("ascii") + b"\0")
        if blob is not None:
            plaintext = vault.open_secret(credential.wrapped_key, credential.key_id, blob, purpose, kek=kek)
            digest.update(hashlib.sha256(plaintext.encode("utf-8")).digest())
    return digest.digest()


def _lock_credentials() -> None:
    """Hold off other writes to credentials until the transaction ends (PostgreSQL; SQLite's first write
    takes the database's write lock)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f'LOCK TABLE "{Credential._meta.db_table}" IN EXCLUSIVE MODE')


def _rewrap_all(old: bytes, new: bytes | None) -> tuple[int, int]:
    """Decrypt every credential with `old`; with `new`, re-wrap its data key, then check every credential
    decrypts to the same values with `new` before the transaction commits. Returns (credentials, seeds)."""
    old_id = vault.key_id(old)
    try:
        with transaction.atomic():
            if new is not None:
                _lock_credentials()
            others = Credential.objects.exclude(key_id=old_id).values_list("key_id", flat=True).distinct()
            if others:
                raise RotationError(
                    f"{Credential.objects.exclude(key_id=old_id).count()} credential(s) were encrypted with vault "
                    f"key {', '.join(sorted(others))}, but the configured key is {old_id}: configure the key "
                    f"they were encrypted with. Nothing was changed.")
            pks = list(Credential.objects.order_by("pk").values_list("pk", flat=True))
            fingerprints: dict[int, bytes] = {}
            for start in range(0, len(pks), BATCH):
                for credential in Credential.objects.filter(pk__in=pks[start:start + BATCH]).order_by("pk"):
                    fingerprints[credential.pk] = _fingerprint(old, credential)
                    if new is not None:
                        wrapped = vault.rewrap_data_key(credential.wrapped_key, credential.key_id, old, new)
                        Credential.objects.filter(pk=credential.pk).update(wrapped_key=wrapped,
                                                                           key_id=vault.key_id(new))
            seeds = Credential.objects.filter(pk__in=pks, totp_ciphertext__isnull=False).count()
            if new is not None:
                _verify(new, fingerprints)
                audit.record(None, "vault.key_rotated", object_type="knowledge.credential",
                             changes={"credentials": len(pks), "totp_seeds": seeds})
    except vault.VaultKeyError as exc:
        raise RotationError(f"{exc.message} Nothing was changed.") from None
    return len(pks), seeds


def _verify(new: bytes, fingerprints: dict[int, bytes]) -> None:
    """Every credential, read back, decrypts with `new` to what it held; none was added meanwhile."""
    new_id = vault.key_id(new)
    if Credential.objects.exclude(key_id=new_id).exists() or Credential.objects.count() != len(fingerprints):
        raise RotationError("Credentials were added or changed during the rotation: nothing was changed; run "
                            "it again.")
    pks = sorted(fingerprints)
    for start in range(0, len(pks), BATCH):
        for credential in Credential.objects.filter(pk__in=pks[start:start + BATCH]):
            if _fingerprint(new, credential) != fingerprints[credential.pk]:
                raise RotationError(f"Credential #{credential.pk} does not decrypt to the same values with the "
                                    f"new key: nothing was changed.")
