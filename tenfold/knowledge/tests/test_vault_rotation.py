"""Rotation of the vault's key-encryption key (`tenfold manage vault_rotate_key`)."""

from __future__ import annotations

import base64
import os
import re
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tenfold.accounts.testing import make_staff
from tenfold.core.models import ActorKind, AuditEntry
from tenfold.knowledge import services, vault, vault_rotation
from tenfold.knowledge.models import Credential

pytestmark = pytest.mark.django_db

SEED = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
PLAINTEXTS = [("Rot-Secret-one-7c1", SEED), ("Rot-Secret-two-9d2", None), ("Rot-Secret-three-4e3", "JBSWY3DPEHPK3PXP")]

Row = tuple[int, bytes, str, bytes, bytes | None]


def _store_all() -> list[Credential]:
    admin = make_staff("admin")
    return [services.credential_create(actor=admin, data={"name": f"Cred {i}", "username": "admin", "url": "",
                                                          "notes": "", "client_id": None},
                                       secret=secret, totp_seed=seed)
            for i, (secret, seed) in enumerate(PLAINTEXTS)]


def _rows() -> list[Row]:
    return [(c.pk, bytes(c.wrapped_key), c.key_id, bytes(c.secret_ciphertext),
             bytes(c.totp_ciphertext) if c.totp_ciphertext is not None else None)
            for c in Credential.objects.order_by("pk")]


def _decrypted(kek: bytes) -> list[tuple[str, str | None]]:
    return [(vault.open_secret(c.wrapped_key, c.key_id, c.secret_ciphertext, "secret", kek=kek),
             vault.open_secret(c.wrapped_key, c.key_id, c.totp_ciphertext, "totp", kek=kek)
             if c.totp_ciphertext is not None else None)
            for c in Credential.objects.order_by("pk")]


def _run(*args: str) -> str:
    out = StringIO()
    call_command("vault_rotate_key", *args, stdout=out)
    return out.getvalue()


def _siblings(key_file: Path) -> list[str]:
    return sorted(p.name for p in key_file.parent.iterdir() if p.name.startswith(("vault_key", ".vault_key")))


def _write_key(path: Path, kek: bytes) -> None:
    path.write_text(vault.encode_key(kek))


def test_rotation_rewraps_every_data_key_and_keeps_the_old_key_aside(vault_key_file: Path) -> None:
    # given three credentials (two with a TOTP seed) under the key file's key
    _store_all()
    old = vault.read_key_file(vault_key_file)
    before = _rows()
    # when the key is rotated
    output = _run()
    # then the key file holds a new key, the old one is in vault_key.previous, nothing else is left
    new = vault.read_key_file(vault_key_file)
    assert new != old
    assert vault.read_key_file(vault_key_file.with_name("vault_key.previous")) == old
    assert _siblings(vault_key_file) == ["vault_key", "vault_key.previous"]
    assert (vault_key_file.stat().st_mode & 0o777) == 0o600
    assert "3 credential(s), 2 TOTP seed(s) re-wrapped" in output
    assert vault.encode_key(new) not in output
    # and every secret and seed decrypts to the same plaintext with the new key
    assert _decrypted(new) == PLAINTEXTS
    after = _rows()
    for (pk, wrapped, _kid, secret, totp), (pk2, wrapped2, kid2, secret2, totp2) in zip(before, after, strict=True):
        assert pk == pk2
        assert wrapped2 != wrapped  # the wrapped data key changed ...
        assert kid2 == vault.key_id(new)
        assert (secret2, totp2) == (secret, totp)  # ... the encrypted secret and seed did not
    # and not with the old key, even when its key id is claimed
    for credential in Credential.objects.all():
        with pytest.raises(vault.VaultKeyError):
            vault.open_secret(credential.wrapped_key, credential.key_id, credential.secret_ciphertext, "secret",
                              kek=old)
        with pytest.raises(vault.VaultKeyError):
            vault.rewrap_data_key(credential.wrapped_key, vault.key_id(old), old, old)
    # and a reveal through the service uses the new key file
    first = Credential.objects.order_by("pk")[0]
    revealed = services.credential_reveal(actor=make_staff("technician"), credential=first,
                                          recent_auth=True)
    assert revealed.secret == PLAINTEXTS[0][0]


def test_rotation_is_audited_with_counts_only(vault_key_file: Path) -> None:
    _store_all()
    old = vault.read_key_file(vault_key_file)
    _run()
    new = vault.read_key_file(vault_key_file)
    entry = AuditEntry.objects.get(action="vault.key_rotated")
    assert (entry.actor_id, entry.actor_kind, entry.changes) == (None, ActorKind.SYSTEM,
                                                                 {"credentials": 3, "totp_seeds": 2})
    text = str(entry.__dict__)
    for key in (old, new):
        assert vault.encode_key(key) not in text and vault.key_id(key) not in text


def test_new_key_file_is_the_key_installed(vault_key_file: Path, tmp_path: Path) -> None:
    _store_all()
    chosen = vault.generate_kek()
    source = tmp_path / "operator" / "new_key"
    source.parent.mkdir()
    _write_key(source, chosen)
    _run("--new-key-file", str(source))
    assert vault.read_key_file(vault_key_file) == chosen
    assert _decrypted(chosen) == PLAINTEXTS


def test_wrong_current_key_is_refused_and_changes_nothing(vault_key_file: Path) -> None:
    # given credentials, then a key file replaced by another key
    _store_all()
    before = _rows()
    wrong = vault.generate_kek()
    _write_key(vault_key_file, wrong)
    # when the rotation runs, then it refuses, naming the key ids
    with pytest.raises(CommandError, match=vault.key_id(wrong)) as raised:
        _run()
    assert "Nothing was changed" in str(raised.value)
    # and nothing changed: rows, key file, no other file, no audit
    assert _rows() == before
    assert vault.read_key_file(vault_key_file) == wrong
    assert _siblings(vault_key_file) == ["vault_key"]
    assert not AuditEntry.objects.filter(action="vault.key_rotated").exists()


def test_a_key_whose_id_matches_but_does_not_unwrap_is_refused(vault_key_file: Path) -> None:
    # given a credential whose wrapped key was damaged (same key id, so the id check passes)
    _store_all()
    damaged = Credential.objects.order_by("pk").first()
    assert damaged is not None
    raw = bytearray(bytes(damaged.wrapped_key))
    raw[-1] ^= 0x01
    Credential.objects.filter(pk=damaged.pk).update(wrapped_key=bytes(raw))
    before, old = _rows(), vault.read_key_file(vault_key_file)
    with pytest.raises(CommandError, match="cannot decrypt"):
        _run()
    assert _rows() == before
    assert vault.read_key_file(vault_key_file) == old
    assert _siblings(vault_key_file) == ["vault_key"]


def test_dry_run_checks_and_changes_nothing(vault_key_file: Path) -> None:
    _store_all()
    before, old = _rows(), vault.read_key_file(vault_key_file)
    output = _run("--dry-run")
    assert "dry run: 3 credential(s), 2 TOTP seed(s) decrypt with the current key" in output
    assert _rows() == before
    assert vault.read_key_file(vault_key_file) == old
    assert _siblings(vault_key_file) == ["vault_key"]
    assert not AuditEntry.objects.filter(action="vault.key_rotated").exists()


def test_dry_run_reports_a_credential_that_does_not_decrypt(vault_key_file: Path) -> None:
    _store_all()
    last = Credential.objects.order_by("pk").last()
    assert last is not None
    Credential.objects.filter(pk=last.pk).update(secret_ciphertext=b"\0" * 40)
    with pytest.raises(CommandError, match="damaged"):
        _run("--dry-run")


def test_environment_key_mode_prints_the_new_key_once_and_writes_no_file(
        vault_key_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given the key in TENFOLD_VAULT_KEY (and no key file)
    old = vault.generate_kek()
    monkeypatch.setenv("TENFOLD_VAULT_KEY", vault.encode_key(old))
    _store_all()
    before = _rows()
    # when the key is rotated
    output = _run()
    # then no file was written, and the printed key decrypts everything (and differs from the old one)
    assert list(vault_key_file.parent.iterdir()) == []
    printed = re.findall(r"^[A-Za-z0-9+/]{43}=$", output, flags=re.MULTILINE)
    assert len(printed) == 1
    new = base64.b64decode(printed[0])
    assert new != old
    assert _decrypted(new) == PLAINTEXTS
    assert [r[1] for r in _rows()] != [r[1] for r in before]
    # and once the operator installs it, reveals work again
    monkeypatch.setenv("TENFOLD_VAULT_KEY", printed[0])
    first = Credential.objects.order_by("-pk")[0]
    revealed = services.credential_reveal(actor=make_staff("technician"), credential=first,
                                          recent_auth=True)
    assert revealed.secret == PLAINTEXTS[-1][0]


def test_environment_key_mode_with_a_new_key_file_prints_no_key(
        vault_key_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old, chosen = vault.generate_kek(), vault.generate_kek()
    monkeypatch.setenv("TENFOLD_VAULT_KEY", vault.encode_key(old))
    _store_all()
    source = tmp_path / "new_key"
    _write_key(source, chosen)
    output = _run("--new-key-file", str(source))
    assert vault.encode_key(chosen) not in output
    assert "Set TENFOLD_VAULT_KEY to the key of" in output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new_key"]
    assert _decrypted(chosen) == PLAINTEXTS


def test_interrupted_rotation_leaves_the_database_and_key_file_unchanged(
        vault_key_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given three credentials, the last of which does not decrypt (damaged ciphertext)
    _store_all()
    last = Credential.objects.order_by("pk").last()
    assert last is not None
    Credential.objects.filter(pk=last.pk).update(secret_ciphertext=b"\0" * 40)
    before, old = _rows(), vault.read_key_file(vault_key_file)
    rewraps: list[int] = []
    real_rewrap = vault.rewrap_data_key

    def counting_rewrap(*args: Any) -> bytes:
        rewraps.append(1)
        return real_rewrap(*args)

    monkeypatch.setattr(vault, "rewrap_data_key", counting_rewrap)
    # when the rotation runs, it fails on the last one after re-wrapping the others
    with pytest.raises(CommandError, match="damaged"):
        _run()
    assert len(rewraps) == 2
    # then the database, the key file and the directory are as before
    assert _rows() == before
    assert vault.read_key_file(vault_key_file) == old
    assert _siblings(vault_key_file) == ["vault_key"]
    assert not AuditEntry.objects.filter(action="vault.key_rotated").exists()


def test_a_crash_before_the_key_file_is_replaced_is_finished_by_the_next_run(
        vault_key_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a rotation that committed but stopped before renaming vault_key.next over vault_key
    _store_all()
    old = vault.read_key_file(vault_key_file)
    real_replace = os.replace

    def crash_on_install(src: Any, dst: Any) -> None:
        if Path(src).name == "vault_key.next":
            raise OSError("simulated crash")
        real_replace(src, dst)

    monkeypatch.setattr(vault_rotation.os, "replace", crash_on_install)
    with pytest.raises(OSError, match="simulated crash"):
        _run()
    monkeypatch.setattr(vault_rotation.os, "replace", real_replace)
    pending = vault.read_key_file(vault_key_file.with_name("vault_key.next"))
    assert vault.read_key_file(vault_key_file) == old
    assert {c.key_id for c in Credential.objects.all()} == {vault.key_id(pending)}
    # when the rotation is run again
    output = _run()
    # then it installs the pending key rather than rotating again
    assert "finished an interrupted rotation" in output
    assert vault.read_key_file(vault_key_file) == pending
    assert vault.read_key_file(vault_key_file.with_name("vault_key.previous")) == old
    assert _siblings(vault_key_file) == ["vault_key", "vault_key.previous"]
    assert _decrypted(pending) == PLAINTEXTS


def test_a_stale_next_file_from_a_run_that_did_not_commit_is_dropped(vault_key_file: Path) -> None:
    _store_all()
    stale = vault.generate_kek()
    _write_key(vault_key_file.with_name("vault_key.next"), stale)
    _run()
    new = vault.read_key_file(vault_key_file)
    assert new != stale
    assert _siblings(vault_key_file) == ["vault_key", "vault_key.previous"]
    assert _decrypted(new) == PLAINTEXTS


def test_an_earlier_previous_key_is_not_overwritten(vault_key_file: Path) -> None:
    # given a first rotation whose old key the operator has not removed yet
    _store_all()
    _run()
    first_previous = vault.read_key_file(vault_key_file.with_name("vault_key.previous"))
    before, current = _rows(), vault.read_key_file(vault_key_file)
    # when a second rotation runs, then it refuses and changes nothing
    with pytest.raises(CommandError, match="earlier rotation"):
        _run()
    assert _rows() == before
    assert vault.read_key_file(vault_key_file) == current
    assert vault.read_key_file(vault_key_file.with_name("vault_key.previous")) == first_previous
    # and once it is removed, the rotation runs
    vault_key_file.with_name("vault_key.previous").unlink()
    _run()
    assert _decrypted(vault.read_key_file(vault_key_file)) == PLAINTEXTS


def test_no_key_at_all_is_refused_without_creating_one(vault_key_file: Path) -> None:
    with pytest.raises(CommandError, match="no vault key to rotate"):
        _run()
    assert not vault_key_file.exists()


def test_the_current_key_as_new_key_is_refused(vault_key_file: Path) -> None:
    _store_all()
    before = _rows()
    with pytest.raises(CommandError, match="is the current one"):
        _run("--new-key-file", str(vault_key_file))
    assert _rows() == before
    assert _siblings(vault_key_file) == ["vault_key"]


def test_a_malformed_new_key_file_is_refused(vault_key_file: Path, tmp_path: Path) -> None:
    _store_all()
    bad = tmp_path / "bad_key"
    bad.write_text("not a key")
    with pytest.raises(CommandError, match="not 32 bytes"):
        _run("--new-key-file", str(bad))
    assert _siblings(vault_key_file) == ["vault_key"]


def test_an_edit_started_before_a_rotation_keeps_the_new_wrapping(vault_key_file: Path) -> None:
    # given a credential loaded for editing (its old wrapped key in memory), then a key rotation
    _store_all()
    stale = Credential.objects.order_by("pk")[0]
    _run()
    new = vault.read_key_file(vault_key_file)
    # when the edit is saved with a new name and a new secret
    services.credential_update(actor=make_staff("admin"), credential=stale, data={"name": "Renamed"},
                               secret="Rot-Secret-new-5f5")
    # then the row keeps the rotated wrapping, and the new secret (and the untouched seed) decrypt with it
    row = Credential.objects.get(pk=stale.pk)
    assert (row.name, row.key_id) == ("Renamed", vault.key_id(new))
    assert vault.open_secret(row.wrapped_key, row.key_id, row.secret_ciphertext, "secret", kek=new) == (
        "Rot-Secret-new-5f5")
    assert vault.open_secret(row.wrapped_key, row.key_id, row.totp_ciphertext, "totp", kek=new) == SEED
