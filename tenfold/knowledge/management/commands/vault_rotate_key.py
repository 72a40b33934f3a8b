"""`tenfold manage vault_rotate_key [--new-key-file PATH] [--dry-run]`: rotate the vault's key-encryption key.

Every credential's data key is re-wrapped with a new key in one transaction, checked to decrypt with it,
and only then is the new key installed (see `tenfold/knowledge/vault_rotation.py` for the order of
operations). The secrets and TOTP seeds themselves are not re-encrypted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenfold.knowledge import vault
from tenfold.knowledge.vault_rotation import RotationError, rotate_key


class Command(BaseCommand):
    help = ("Rotate the vault's key-encryption key: re-wrap every credential's data key with a new key "
            "(exit status 1 and nothing changed if the current key does not decrypt every credential).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--new-key-file", type=Path,
                            help="Take the new key (32 bytes, base64) from this file instead of generating one.")
        parser.add_argument("--dry-run", action="store_true",
                            help="Only check that every credential decrypts with the current key; change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        new_kek = None
        if options["new_key_file"] is not None:
            path: Path = options["new_key_file"]
            try:
                new_kek = vault.read_key_file(path)
            except OSError as exc:
                raise CommandError(f"cannot read {path}: {exc.strerror}", returncode=1) from None
            except vault.VaultKeyError as exc:
                raise CommandError(str(exc.message), returncode=1) from None
        try:
            report = rotate_key(new_kek=new_kek, dry_run=options["dry_run"])
        except RotationError as exc:
            raise CommandError(f"vault key not rotated: {exc}", returncode=1) from None
        counts = f"{report.credentials} credential(s), {report.totp_seeds} TOTP seed(s)"
        if report.dry_run:
            self.stdout.write(f"dry run: {counts} decrypt with the current key; nothing was changed")
        elif report.finished_interrupted:
            self.stdout.write(f"finished an interrupted rotation: the new key is in {report.key_file}, the old "
                              f"one in {report.previous_file} ({counts})")
        elif not report.from_environment:
            self.stdout.write(f"vault key rotated: {counts} re-wrapped; the new key is in {report.key_file}, "
                              f"the old one in {report.previous_file}: remove that file once no backup "
                              f"needs it")
        elif report.new_key_text is not None:
            self.stdout.write(f"vault key rotated: {counts} re-wrapped.\n"
                              f"Set TENFOLD_VAULT_KEY to this new key in every process now, then restart "
                              f"them; it is shown only once:\n{report.new_key_text}")
        else:
            self.stdout.write(f"vault key rotated: {counts} re-wrapped. Set TENFOLD_VAULT_KEY to the key of "
                              f"{options['new_key_file']} in every process now, then restart them.")
