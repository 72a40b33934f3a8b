"""The French catalogue: complete, placeholders intact, compiled, and in step with the code.

When a test here fails after you added or changed a UI string: run `make messages`, translate the new
entries in tenfold/locale/fr/LC_MESSAGES/django.po with the words of shared/docs/glossary.md, then run
`make compilemessages` and commit both django.po and django.mo.
"""

from __future__ import annotations

import gettext
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import polib
import pytest
from django.test import Client as HttpClient

from tenfold.accounts.testing import make_staff
from tenfold.clients.models import Client

PACKAGE = Path(__file__).resolve().parents[2]  # .../tenfold (the package: templates/, locale/, apps)
LC_MESSAGES = PACKAGE / "locale" / "fr" / "LC_MESSAGES"
PO_PATH = LC_MESSAGES / "django.po"
MO_PATH = LC_MESSAGES / "django.mo"
FIX = ("run make messages and translate the new entries in tenfold/locale/fr/LC_MESSAGES/django.po, "
       "then make compilemessages")

# %(name)s, %(n)d, %(rate).2f … (python-format, and what {% blocktranslate %} turns {{ name }} into)
NAMED = re.compile(r"%\((\w+)\)[#0\- +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
# %s, %d … (positional)
POSITIONAL = re.compile(r"%[#0\- +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
# {{ var }} left verbatim (e.g. in a string passed to a JavaScript template)
MUSTACHE = re.compile(r"\{\{\s*[^{}]+?\s*\}\}")
TAG = re.compile(r"</?[a-zA-Z][^<>]*>")


def catalogue() -> polib.POFile:
    return polib.pofile(str(PO_PATH))


def label(entry: polib.POEntry) -> str:
    context = f"[{entry.msgctxt}] " if entry.msgctxt else ""
    where = ", ".join(f"{path}:{line}" for path, line in entry.occurrences[:2])
    return f"{context}{entry.msgid!r} ({where})"


def placeholders(text: str, *, percent: bool = True) -> Counter[str]:
    """Every placeholder of a string, counted: %(name)s, %s, {{ var }}; a literal %% is not one.

    `percent=False` for an entry marked no-python-format, whose % signs are plain text ("(% free)").
    """
    found: Counter[str] = Counter()
    if percent:
        text = text.replace("%%", "")
        found.update(match.group(0) for match in NAMED.finditer(text))
        found.update(match.group(0) for match in POSITIONAL.finditer(NAMED.sub("", text)))
    found.update(re.sub(r"\s+", " ", match.group(0)) for match in MUSTACHE.finditer(text))
    return found


def translations(entry: polib.POEntry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural[index] for index in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


def key(entry: polib.POEntry) -> tuple[str, str, str]:
    return (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")


# --- (a) the committed catalogue ---------------------------------------------------------------------

def test_catalogue_header_declares_french_plural_forms():
    # given the committed French catalogue
    po = catalogue()

    # then its header says French and the French plural rule (0 and 1 are singular)
    assert po.metadata.get("Language") == "fr"
    assert po.metadata.get("Plural-Forms", "").replace(" ", "") == "nplurals=2;plural=(n>1);"
    assert not po.metadata_is_fuzzy


def test_every_entry_is_translated_and_none_is_fuzzy():
    # given the committed French catalogue
    po = catalogue()

    # then no entry is left to translate or to check again
    untranslated = [label(entry) for entry in po.untranslated_entries()]
    fuzzy = [label(entry) for entry in po.fuzzy_entries()]
    assert not untranslated, f"{len(untranslated)} untranslated French entries ({FIX}):\n" + "\n".join(untranslated)
    assert not fuzzy, f"{len(fuzzy)} fuzzy French entries (check them, then drop the flag):\n" + "\n".join(fuzzy)


def test_plural_entries_fill_both_french_forms():
    # given the plural entries of the catalogue
    plurals = [entry for entry in catalogue() if entry.msgid_plural]

    # then each has its two French forms filled
    incomplete = [label(entry) for entry in plurals
                  if sorted(entry.msgstr_plural) != [0, 1] or not all(entry.msgstr_plural.values())]
    assert not incomplete, "plural entries without both msgstr[0] and msgstr[1]:\n" + "\n".join(incomplete)


def test_translations_keep_every_placeholder_and_html_tag():
    # given every translated entry
    problems = []
    for entry in catalogue().translated_entries():
        percent = "no-python-format" not in entry.flags
        expected = placeholders(entry.msgid, percent=percent) | placeholders(entry.msgid_plural or "", percent=percent)
        tags = Counter(TAG.findall(entry.msgid))
        for index, text in enumerate(translations(entry)):
            form = f" msgstr[{index}]" if entry.msgid_plural else ""
            found = placeholders(text, percent=percent)
            # then each placeholder of the English is in the French, and the French invents none
            missing = set(expected) - set(found)
            unknown = set(found) - set(expected)
            if missing:
                problems.append(f"{label(entry)}{form}: missing {sorted(missing)}")
            if unknown:
                problems.append(f"{label(entry)}{form}: unknown {sorted(unknown)}")
            # and the HTML stays the same
            if Counter(TAG.findall(text)) != tags:
                problems.append(f"{label(entry)}{form}: HTML differs from the English")
            # and a python-format string still formats (a stray % would break it at run time)
            if "python-format" in entry.flags and not missing and not unknown:
                names = {match.group(1): 1 for match in NAMED.finditer(text)}
                try:
                    _ = text % names if names else text % ()
                except (TypeError, ValueError, KeyError) as exc:
                    problems.append(f"{label(entry)}{form}: does not format ({exc})")
    assert not problems, "French entries that would break or lose a value:\n" + "\n".join(problems)


# --- (b) the compiled catalogue ------------------------------------------------------------------------

def test_compiled_catalogue_matches_the_po():
    # given the .po compiled in memory and the committed .mo
    assert MO_PATH.exists(), f"{MO_PATH.name} is missing: run make compilemessages and commit it"
    po = catalogue()
    fresh = gettext.GNUTranslations(io.BytesIO(po.to_binary()))
    with MO_PATH.open("rb") as handle:
        committed = gettext.GNUTranslations(handle)

    # then each translation reads the same from both
    stale = []
    for entry in po.translated_entries():
        if entry.msgid_plural:
            pairs = [(committed.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n) if entry.msgctxt
                      else committed.ngettext(entry.msgid, entry.msgid_plural, n), entry.msgstr_plural[index])
                     for index, n in ((0, 0), (0, 1), (1, 2))]  # French: 0 and 1 are singular
        else:
            pairs = [(committed.pgettext(entry.msgctxt, entry.msgid) if entry.msgctxt
                      else committed.gettext(entry.msgid), entry.msgstr)]
        if any(got != want for got, want in pairs):
            stale.append(label(entry))
    assert not stale, (f"django.mo is older than django.po for {len(stale)} entries: run make compilemessages "
                       "and commit django.mo:\n" + "\n".join(stale[:20]))
    # and the .mo holds nothing more (no translation of a string that left the catalogue)
    assert committed._catalog.keys() == fresh._catalog.keys(), (  # type: ignore[attr-defined]
        "django.mo holds other entries than django.po: run make compilemessages and commit django.mo")


# --- French pages ----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_french_lists_speak_french_and_keep_their_badge_colours():
    # given an administrator who chose French, and a former client
    user = make_staff("admin")
    user.language = "fr"
    user.save()
    Client.objects.create(name="Garage Perrin", status="former")
    http = HttpClient()
    http.force_login(user)

    # when opening the client and user lists
    clients = http.get("/clients/").content.decode()
    users = http.get("/accounts/users/").content.decode()

    # then labels and filters are French, and badges keep the class the stylesheet colours (not the label's)
    assert 'class="badge badge-former">Ancien client<' in clients
    assert "Statut\u00a0: tout" in clients
    assert 'class="badge badge-active">Actif<' in users


# --- (c) the catalogue against the code ----------------------------------------------------------------

@pytest.mark.skipif(shutil.which("xgettext") is None,
                    reason="xgettext not found: install gettext to check that every UI string is in the "
                           "French catalogue")
def test_every_string_of_the_code_is_in_the_catalogue(tmp_path):
    # given a copy of the package, so that makemessages rewrites the copy's catalogue, never the real one
    tree = tmp_path / "tenfold"
    shutil.copytree(PACKAGE, tree, ignore=shutil.ignore_patterns("__pycache__", "var", "*.pyc", ".pytest_cache"))
    before = hashlib.sha256(PO_PATH.read_bytes()).hexdigest()
    env = {**os.environ, "TENFOLD_DEBUG": "1", "DJANGO_SETTINGS_MODULE": "tenfold.config.settings",
           "TENFOLD_DATA_DIR": str(tmp_path / "data"),
           # the copy, not the installed package, is `tenfold`: its settings point LOCALE_PATHS at the copy
           "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}

    # when makemessages runs there as `make messages` does
    result = subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "fr", "--no-obsolete",
         "--ignore", "*/tests/*", "--ignore", "conftest.py"],
        cwd=tree, env=env, capture_output=True, text=True, timeout=120, check=False)

    # then it succeeds, leaves the committed catalogue alone, and finds no string the catalogue lacks
    assert result.returncode == 0, f"makemessages failed:\n{result.stdout}\n{result.stderr}"
    assert hashlib.sha256(PO_PATH.read_bytes()).hexdigest() == before, "makemessages wrote the real catalogue"
    committed = {key(entry) for entry in catalogue()}
    extracted = polib.pofile(str(tree / "locale" / "fr" / "LC_MESSAGES" / "django.po"))
    new = [label(entry) for entry in extracted if key(entry) not in committed]
    assert not new, (f"{len(new)} UI strings are not in the French catalogue: {FIX}:\n" + "\n".join(new))
