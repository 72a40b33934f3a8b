"""Writes of runbooks, client documentation and the vault: validate, write, audit, emit — in one transaction.
Every write of a searchable record also refreshes its row of the search index."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tenfold.clients.models import Client, Site
from tenfold.core import audit, events
from tenfold.core.errors import Conflict, NotFound, PermissionDenied, TenfoldError, ValidationError
from tenfold.core.roles import has_privilege, require
from tenfold.core.writes import apply_fields, clean_or_raise
from tenfold.knowledge import vault
from tenfold.knowledge.markdown import MAX_MARKDOWN_LENGTH
from tenfold.knowledge.models import (
    CheckRunbookLink,
    ClientDoc,
    Credential,
    CredentialReveal,
    KeyApplication,
    NetworkItem,
    NetworkKind,
    Runbook,
    RunbookCategory,
    RunbookStep,
    RunbookVersion,
    SearchDocument,
)
from tenfold.monitoring.models import CheckDefinition

MAX_STEPS = 100
MAX_SECRET = 10_000
REAUTH_SECONDS = 15 * 60


TOKEN_REVEAL_MESSAGE = _("Secrets are not revealed to API tokens: reveal them from a signed-in browser session.")


class ReauthenticationRequired(TenfoldError):
    """Revealing a secret needs a re-authentication in the last 15 minutes."""

    code = "reauthentication_required"
    status = 403
    default_message = _("Confirm your identity again (password or authenticator code) to reveal secrets.")


# --- Search index -------------------------------------------------------------------------------------------


def _index(kind: str, object_id: int, *, client_id: int | None, title: str, body: str, url: str) -> None:
    SearchDocument.objects.update_or_create(
        kind=kind, object_id=object_id,
        defaults={"client_id": client_id, "title": title[:300], "body": body, "url": url,
                  "updated_at": timezone.now()})


def _unindex(kind: str, object_id: int) -> None:
    SearchDocument.objects.filter(kind=kind, object_id=object_id).delete()


def index_runbook(runbook: Runbook) -> None:
    """Refresh the runbook's search row (archived runbooks are not searched)."""
    if runbook.archived:
        _unindex("runbook", runbook.pk)
        return
    steps = "\n".join(runbook.steps.order_by("position").values_list("text", flat=True))
    _index("runbook", runbook.pk, client_id=runbook.client_id, title=runbook.title,
           body=f"{runbook.body_markdown}\n{steps}", url=reverse("knowledge:runbook_detail", args=[runbook.pk]))


def index_client_doc(client: Client) -> None:
    """Refresh the client documentation's search row: overview, network rows and key applications."""
    doc = ClientDoc.objects.filter(client=client).first()
    parts = [doc.overview_markdown if doc else ""]
    parts += [" ".join(filter(None, [n.get_kind_display(), n.name, n.address, str(n.vlan_id or ""), n.provider,
                                     n.notes])) for n in NetworkItem.objects.filter(client=client)]
    parts += [" ".join(filter(None, [a.name, a.vendor, a.support_contact, a.notes]))
              for a in KeyApplication.objects.filter(client=client)]
    body = "\n".join(p for p in parts if p)
    if not body:
        _unindex("client_doc", client.pk)
        return
    _index("client_doc", client.pk, client_id=client.pk, title=str(_("Documentation: %(client)s") % {
        "client": client.name}), body=body, url=reverse("knowledge:client_doc", args=[client.pk]))


def rebuild_search_index() -> int:
    """Rebuild every row of the search index (after a restore); returns the number of documents."""
    SearchDocument.objects.all().delete()
    for runbook in Runbook.objects.filter(archived=False):
        index_runbook(runbook)
    client_ids = set(ClientDoc.objects.values_list("client_id", flat=True))
    client_ids |= set(NetworkItem.objects.values_list("client_id", flat=True))
    client_ids |= set(KeyApplication.objects.values_list("client_id", flat=True))
    for client in Client.objects.filter(pk__in=client_ids):
        index_client_doc(client)
    return SearchDocument.objects.count()


# --- Runbooks -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepInput:
    """A step as submitted by a form or the API."""

    text: str
    required: bool = True


def _clean_steps(steps: list[StepInput]) -> list[StepInput]:
    cleaned = [StepInput(" ".join(s.text.split()), bool(s.required)) for s in steps if s.text and s.text.strip()]
    if len(cleaned) > MAX_STEPS:
        raise ValidationError(_("A runbook has at most %(max)d steps.") % {"max": MAX_STEPS}, field="steps")
    for step in cleaned:
        if len(step.text) > 500:
            raise ValidationError(_("A step has at most 500 characters."), field="steps")
    return cleaned


def _check_client(actor: Any, client_id: int | None) -> None:
    if client_id is None:
        return
    if not Client.objects.visible_to(actor).filter(pk=client_id).exists():
        raise NotFound()


def _unique_slug(title: str, exclude_pk: int | None = None) -> str:
    base = slugify(title)[:200] or "runbook"
    slug, n = base, 2
    while Runbook.objects.filter(slug=slug).exclude(pk=exclude_pk).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _write_version(runbook: Runbook, steps: list[StepInput], actor: Any, summary: str) -> RunbookVersion:
    Runbook.objects.filter(pk=runbook.pk).update(current_version=F("current_version") + 1)
    runbook.refresh_from_db(fields=["current_version"])
    RunbookStep.objects.filter(runbook=runbook).delete()
    RunbookStep.objects.bulk_create([RunbookStep(runbook=runbook, position=i, text=s.text, required=s.required)
                                     for i, s in enumerate(steps, start=1)])
    try:
        with transaction.atomic():
            version = RunbookVersion.objects.create(
                runbook=runbook, number=runbook.current_version, title=runbook.title,
                body_markdown=runbook.body_markdown, summary=summary[:300],
                steps=[{"position": i, "text": s.text, "required": s.required} for i, s in enumerate(steps, start=1)],
                author=actor if getattr(actor, "pk", None) else None)
    except IntegrityError as exc:
        raise Conflict(_("Someone saved this runbook at the same time; reload and try again.")) from exc
    index_runbook(runbook)
    return version


RUNBOOK_FIELDS = ("title", "category_id", "kind", "client_id", "body_markdown", "shared_with_client")
# audit.snapshot names fields, not their columns: "category", not "category_id".
RUNBOOK_SNAPSHOT = [name.removesuffix("_id") for name in RUNBOOK_FIELDS]


def _validate_runbook(runbook: Runbook) -> None:
    if runbook.shared_with_client and runbook.client_id is None:
        raise ValidationError(_("Only a client's runbook can be shared with the client."), field="shared_with_client")
    if len(runbook.body_markdown) > MAX_MARKDOWN_LENGTH:
        raise ValidationError(_("The text is too long (at most %(max)d characters).") % {"max": MAX_MARKDOWN_LENGTH},
                              field="body_markdown")
    clean_or_raise(runbook)


@transaction.atomic
def runbook_create(*, actor: Any, data: dict[str, Any], steps: list[StepInput], summary: str = "") -> Runbook:
    """Create a runbook and its version 1."""
    _check_client(actor, data.get("client_id"))  # another client's id: 404 before anything else
    require(actor, "runbooks", "add")
    if data.get("client_id") is None and actor.client_scope() is not None:
        # A user restricted to some clients writes only for those clients.
        raise ValidationError(_("Choose one of your clients: you cannot write runbooks for the whole MSP."),
                              field="client")
    cleaned = _clean_steps(steps)
    runbook = Runbook(created_by=actor if getattr(actor, "pk", None) else None)
    apply_fields(runbook, RUNBOOK_FIELDS, data)
    runbook.updated_by = runbook.created_by
    runbook.slug = _unique_slug(runbook.title)
    _validate_runbook(runbook)
    runbook.save()
    _write_version(runbook, cleaned, actor, summary or str(_("Created")))
    audit.record(actor, "runbook.created", runbook, changes={"title": runbook.title, "version": 1,
                                                             "steps": len(cleaned)})
    events.emit("runbook.created", client_id=runbook.client_id, payload={"runbook_id": runbook.pk})
    return runbook


@transaction.atomic
def runbook_update(*, actor: Any, runbook: Runbook, data: dict[str, Any], steps: list[StepInput],
                   summary: str = "") -> Runbook:
    """Save a new version of a runbook (text and steps)."""
    require(actor, "runbooks", "change")
    if "client_id" in data and data["client_id"] != runbook.client_id:
        _check_client(actor, data.get("client_id"))
        if data.get("client_id") is None and actor.client_scope() is not None:
            raise ValidationError(_("Choose one of your clients: you cannot write runbooks for the whole MSP."),
                                  field="client")
    cleaned = _clean_steps(steps)
    before = audit.snapshot(runbook, RUNBOOK_SNAPSHOT)
    before_steps = [(s.text, s.required) for s in runbook.steps.order_by("position")]
    apply_fields(runbook, RUNBOOK_FIELDS, data)
    if runbook.title != before["title"]:
        runbook.slug = _unique_slug(runbook.title, exclude_pk=runbook.pk)
    runbook.updated_by = actor if getattr(actor, "pk", None) else None
    _validate_runbook(runbook)
    changes = audit.diff(before, audit.snapshot(runbook, RUNBOOK_SNAPSHOT))
    if not changes and before_steps == [(s.text, s.required) for s in cleaned]:
        return runbook  # nothing changed: no empty version
    runbook.save()
    version = _write_version(runbook, cleaned, actor, summary)
    changes.pop("body_markdown", None)
    audit.record(actor, "runbook.updated", runbook, changes={**changes, "version": version.number})
    events.emit("runbook.updated", client_id=runbook.client_id,
                payload={"runbook_id": runbook.pk, "version": version.number})
    return runbook


@transaction.atomic
def runbook_set_archived(*, actor: Any, runbook: Runbook, archived: bool) -> Runbook:
    """Archive a runbook (hidden from lists, search and new tickets; history kept) or bring it back."""
    require(actor, "runbooks", "delete" if archived else "change")
    if runbook.archived == archived:
        return runbook
    runbook.archived = archived
    runbook.save(update_fields=["archived", "updated_at"])
    index_runbook(runbook)
    audit.record(actor, "runbook.archived" if archived else "runbook.restored", runbook)
    return runbook


@transaction.atomic
def check_link_set(*, actor: Any, runbook: Runbook, check_type: str = "",
                   check_definition_id: int | None = None) -> CheckRunbookLink:
    """Link a check type, or one check, to a runbook (replacing the previous link)."""
    require(actor, "runbooks", "change")
    if runbook.client_id is not None:
        raise ValidationError(_("Only runbooks of the whole MSP can be linked to checks."), field="runbook")
    if bool(check_type) == bool(check_definition_id):
        raise ValidationError(_("Choose a check type or a check."), field="check_type")
    if check_definition_id is not None:
        if not CheckDefinition.objects.visible_to(actor).filter(pk=check_definition_id).exists():
            raise NotFound()
        link, _created = CheckRunbookLink.objects.update_or_create(
            check_definition_id=check_definition_id, defaults={"runbook": runbook, "check_type": ""})
    else:
        link = CheckRunbookLink(check_type=check_type, runbook=runbook)
        clean_or_raise(link)
        link, _created = CheckRunbookLink.objects.update_or_create(
            check_type=check_type, check_definition__isnull=True, defaults={"runbook": runbook})
    audit.record(actor, "runbook.check_linked", runbook, changes={
        "check_type": check_type, "check_definition_id": check_definition_id})
    return link


@transaction.atomic
def check_link_delete(*, actor: Any, link: CheckRunbookLink) -> None:
    """Remove a check → runbook link."""
    require(actor, "runbooks", "change")
    runbook = link.runbook
    changes = {"check_type": link.check_type, "check_definition_id": link.check_definition_id}
    link.delete()
    audit.record(actor, "runbook.check_unlinked", runbook, changes=changes)


# --- Runbook categories -------------------------------------------------------------------------------------

CATEGORY_FIELDS = ("name", "description", "position")


def _validate_category(category: RunbookCategory) -> None:
    category.name = (category.name or "").strip()
    if not category.name:
        raise ValidationError(_("Give the category a name."), field="name")
    if RunbookCategory.objects.filter(name__iexact=category.name).exclude(pk=category.pk).exists():
        raise ValidationError(_("A category with this name already exists."), field="name")
    clean_or_raise(category)


def _save_category(category: RunbookCategory) -> None:
    try:
        with transaction.atomic():
            category.save()
    except IntegrityError as exc:  # the same slug saved concurrently
        raise ValidationError(_("A category with this name already exists."), field="name") from exc


@transaction.atomic
def category_create(*, actor: Any, data: dict[str, Any]) -> RunbookCategory:
    """Add a heading to file runbooks under (MSP-level); its slug comes from the name and does not change."""
    require(actor, "runbooks", "delete")
    category = RunbookCategory()
    apply_fields(category, CATEGORY_FIELDS, data)
    base = slugify(category.name or "")[:90] or "category"
    slug, n = base, 2
    while RunbookCategory.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    category.slug = slug
    _validate_category(category)
    _save_category(category)
    audit.record(actor, "runbook_category.created", category, changes={"name": category.name})
    return category


@transaction.atomic
def category_update(*, actor: Any, category: RunbookCategory, data: dict[str, Any]) -> RunbookCategory:
    """Rename a category or change its description and position (its runbooks follow: they point to it)."""
    require(actor, "runbooks", "delete")
    before = audit.snapshot(category, list(CATEGORY_FIELDS))
    apply_fields(category, CATEGORY_FIELDS, data)
    _validate_category(category)
    changes = audit.diff(before, audit.snapshot(category, list(CATEGORY_FIELDS)))
    if changes:
        _save_category(category)
        audit.record(actor, "runbook_category.updated", category, changes=changes)
    return category


@transaction.atomic
def category_delete(*, actor: Any, category: RunbookCategory) -> None:
    """Delete a category no runbook is filed under (archived ones included); else refuse and say how many."""
    require(actor, "runbooks", "delete")
    category = RunbookCategory.objects.select_for_update().get(pk=category.pk)
    used = Runbook.objects.filter(category=category).count()
    if used:
        raise Conflict(ngettext(
            "%(count)d runbook is filed under “%(name)s”: move it to another category first.",
            "%(count)d runbooks are filed under “%(name)s”: move them to another category first.",
            used) % {"count": used, "name": category.name}, code="category_in_use")
    name = category.name
    audit.record(actor, "runbook_category.deleted", category, changes={"name": name})
    category.delete()


# --- Client documentation -----------------------------------------------------------------------------------


@transaction.atomic
def client_doc_update(*, actor: Any, client: Client, overview_markdown: str,
                      shared_with_client: bool | None = None) -> ClientDoc:
    """Change a client's environment overview and, when given, whether it is shared with the client's portal."""
    require(actor, "runbooks", "change")
    if len(overview_markdown) > MAX_MARKDOWN_LENGTH:
        raise ValidationError(_("The text is too long (at most %(max)d characters).") % {"max": MAX_MARKDOWN_LENGTH},
                              field="overview_markdown")
    doc, _created = ClientDoc.objects.get_or_create(client=client)
    changes: dict[str, Any] = {}
    if doc.overview_markdown != overview_markdown:
        doc.overview_markdown = overview_markdown
        changes["overview_markdown"] = "changed"
    if shared_with_client is not None and doc.shared_with_client != shared_with_client:
        changes["shared_with_client"] = [doc.shared_with_client, shared_with_client]
        doc.shared_with_client = shared_with_client
    if changes:
        doc.save(update_fields=["overview_markdown", "shared_with_client", "updated_at"])
        audit.record(actor, "client_doc.updated", doc, client_id=client.pk, changes=changes)
        if "overview_markdown" in changes:
            index_client_doc(client)
    return doc


@transaction.atomic
def client_doc_mark_reviewed(*, actor: Any, client: Client) -> ClientDoc:
    """Record that the client's documentation was reviewed now, by the actor."""
    require(actor, "runbooks", "change")
    doc, _created = ClientDoc.objects.get_or_create(client=client)
    doc.last_reviewed_at = timezone.now()
    doc.reviewed_by = actor if getattr(actor, "pk", None) else None
    doc.save(update_fields=["last_reviewed_at", "reviewed_by", "updated_at"])
    audit.record(actor, "client_doc.reviewed", doc, client_id=client.pk)
    events.emit("client_doc.reviewed", client_id=client.pk, payload={"client_id": client.pk})
    return doc


NETWORK_FIELDS = ("kind", "name", "address", "vlan_id", "provider", "notes", "site_id")


def _validate_network_item(item: NetworkItem) -> None:
    import ipaddress

    if item.site_id is not None and not Site.objects.filter(pk=item.site_id, client_id=item.client_id).exists():
        raise ValidationError(_("This site belongs to another client."), field="site")
    if item.kind == NetworkKind.SUBNET:
        try:
            item.address = str(ipaddress.ip_network(item.address, strict=False))
        except ValueError:
            raise ValidationError(_("Enter a subnet in CIDR notation, e.g. 10.0.10.0/24."), field="address") from None
    elif item.address and item.kind in (NetworkKind.FIREWALL, NetworkKind.ISP):
        try:
            item.address = str(ipaddress.ip_address(item.address))
        except ValueError:
            raise ValidationError(_("Enter an IP address, e.g. 203.0.113.10."), field="address") from None
    if item.kind == NetworkKind.VLAN and item.vlan_id is None:
        raise ValidationError(_("A VLAN needs its id (1 to 4094)."), field="vlan_id")
    clean_or_raise(item)


@transaction.atomic
def network_item_save(*, actor: Any, client: Client, data: dict[str, Any],
                      item: NetworkItem | None = None) -> NetworkItem:
    """Add or change a row of the client's network documentation."""
    require(actor, "runbooks", "change")
    created = item is None
    item = item or NetworkItem(client=client)
    before = audit.snapshot(item, list(NETWORK_FIELDS)) if not created else {}
    apply_fields(item, NETWORK_FIELDS, data)
    _validate_network_item(item)
    item.save()
    audit.record(actor, "network_item.created" if created else "network_item.updated", item,
                 changes=audit.diff(before, audit.snapshot(item, list(NETWORK_FIELDS))))
    index_client_doc(client)
    return item


@transaction.atomic
def network_item_delete(*, actor: Any, item: NetworkItem) -> None:
    """Remove a row of the network documentation."""
    require(actor, "runbooks", "change")
    client, snapshot, pk = item.client, audit.snapshot(item, list(NETWORK_FIELDS)), item.pk
    item.delete()
    audit.record(actor, "network_item.deleted", object_type="knowledge.networkitem", object_id=str(pk),
                 client_id=client.pk, changes=snapshot)
    index_client_doc(client)


APPLICATION_FIELDS = ("name", "vendor", "url", "support_contact", "notes")


@transaction.atomic
def key_application_save(*, actor: Any, client: Client, data: dict[str, Any],
                         application: KeyApplication | None = None) -> KeyApplication:
    """Add or change one of the client's key applications."""
    require(actor, "runbooks", "change")
    created = application is None
    application = application or KeyApplication(client=client)
    before = audit.snapshot(application, list(APPLICATION_FIELDS)) if not created else {}
    apply_fields(application, APPLICATION_FIELDS, data)
    clean_or_raise(application)
    application.save()
    audit.record(actor, "key_application.created" if created else "key_application.updated", application,
                 changes=audit.diff(before, audit.snapshot(application, list(APPLICATION_FIELDS))))
    index_client_doc(client)
    return application


@transaction.atomic
def key_application_delete(*, actor: Any, application: KeyApplication) -> None:
    """Remove a key application."""
    require(actor, "runbooks", "change")
    client, snapshot, pk = application.client, audit.snapshot(application, list(APPLICATION_FIELDS)), application.pk
    application.delete()
    audit.record(actor, "key_application.deleted", object_type="knowledge.keyapplication", object_id=str(pk),
                 client_id=client.pk, changes=snapshot)
    index_client_doc(client)


# --- Vault --------------------------------------------------------------------------------------------------

CREDENTIAL_FIELDS = ("name", "username", "url", "notes", "client_id")


def _clean_totp(seed: str | None) -> str | None:
    if not seed or not seed.strip():
        return None
    try:
        return vault.normalize_totp_seed(seed)
    except ValueError:
        raise ValidationError(_("The TOTP seed must be the base32 key shown when the authenticator was set up."),
                              field="totp_seed") from None


def _check_secret(secret: str) -> None:
    if not secret:
        raise ValidationError(_("Enter the secret."), field="secret")
    if len(secret) > MAX_SECRET:
        raise ValidationError(_("The secret is too long (at most %(max)d characters).") % {"max": MAX_SECRET},
                              field="secret")


@transaction.atomic
def credential_create(*, actor: Any, data: dict[str, Any], secret: str, totp_seed: str | None = None) -> Credential:
    """Store a credential, its secret and TOTP seed encrypted (envelope encryption, see vault.py)."""
    _check_client(actor, data.get("client_id"))
    require(actor, "vault", "add")
    if data.get("client_id") is None and actor.client_scope() is not None:
        raise ValidationError(_("Choose one of your clients: you cannot store credentials of the MSP."),
                              field="client")
    _check_secret(secret)
    seed = _clean_totp(totp_seed)
    credential = Credential(created_by=actor if getattr(actor, "pk", None) else None)
    apply_fields(credential, CREDENTIAL_FIELDS, data)
    sealed = vault.seal_credential(secret, seed)
    credential.wrapped_key, credential.key_id = sealed.wrapped_key, sealed.key_id
    credential.secret_ciphertext, credential.totp_ciphertext = sealed.secret_ciphertext, sealed.totp_ciphertext
    clean_or_raise(credential)
    credential.save()
    audit.record(actor, "credential.created", credential, changes={
        "name": credential.name, "username": credential.username, "has_totp": seed is not None})
    return credential


@transaction.atomic
def credential_update(*, actor: Any, credential: Credential, data: dict[str, Any], secret: str | None = None,
                      totp_seed: str | None = None, clear_totp: bool = False) -> Credential:
    """Change a credential; a new secret or seed is encrypted under the credential's data key."""
    require(actor, "vault", "change")
    if "client_id" in data and data["client_id"] != credential.client_id:
        _check_client(actor, data.get("client_id"))
        if data.get("client_id") is None and actor.client_scope() is not None:
            raise ValidationError(_("Choose one of your clients: you cannot store credentials of the MSP."),
                                  field="client")
    # The key material is read again under a row lock: a key rotation that committed since `credential`
    # was loaded re-wrapped its data key, and saving the stale copy would write the old wrapping back.
    current = Credential.objects.select_for_update().only("wrapped_key", "key_id").get(pk=credential.pk)
    credential.wrapped_key, credential.key_id = current.wrapped_key, current.key_id
    before = audit.snapshot(credential, list(CREDENTIAL_FIELDS))
    apply_fields(credential, CREDENTIAL_FIELDS, data)
    changed: dict[str, Any] = audit.diff(before, audit.snapshot(credential, list(CREDENTIAL_FIELDS)))
    if secret:
        _check_secret(secret)
        credential.secret_ciphertext = vault.reseal_field(credential.wrapped_key, credential.key_id, secret, "secret")
        changed["secret"] = "changed"
    seed = _clean_totp(totp_seed)
    if seed:
        credential.totp_ciphertext = vault.reseal_field(credential.wrapped_key, credential.key_id, seed, "totp")
        changed["totp_seed"] = "changed"
    elif clear_totp and credential.totp_ciphertext is not None:
        credential.totp_ciphertext = None
        changed["totp_seed"] = "removed"
    clean_or_raise(credential)
    credential.save()
    if changed:
        audit.record(actor, "credential.updated", credential, changes=changed)
    return credential


@transaction.atomic
def credential_delete(*, actor: Any, credential: Credential) -> None:
    """Delete a credential (its reveal history goes with it; the audit log keeps the trail)."""
    require(actor, "vault", "delete")
    pk, client_id, name = credential.pk, credential.client_id, credential.name
    credential.delete()
    audit.record(actor, "credential.deleted", object_type="knowledge.credential", object_id=str(pk),
                 client_id=client_id, changes={"name": name})


def recently_authenticated(request: Any, seconds: int = REAUTH_SECONDS) -> bool:
    """Whether the session's user re-authenticated (password or authenticator code) in the last `seconds`."""
    from allauth.account.internal.flows.login import get_authentication_records

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(request, "session"):
        return False
    records = [r for r in get_authentication_records(request, user)
               if r.get("reauthenticated") and isinstance(r.get("at"), (int, float))]
    return bool(records) and time.time() - max(r["at"] for r in records) < seconds


@dataclass(frozen=True)
class Revealed:
    """A revealed credential: the secret, and the current TOTP code with its remaining seconds."""

    secret: str
    totp_code: str | None
    totp_seconds_left: int | None


@transaction.atomic
def credential_reveal(*, actor: Any, credential: Credential, recent_auth: bool, channel: str = "ui",
                      ip: str | None = None) -> Revealed:
    """Decrypt a credential for the actor: needs the vault.reveal right and a recent re-authentication;
    recorded in the reveal list and the audit log."""
    if not has_privilege(actor, "vault.reveal"):
        raise PermissionDenied()
    if not recent_auth:
        raise ReauthenticationRequired()
    secret = vault.open_secret(credential.wrapped_key, credential.key_id, credential.secret_ciphertext, "secret")
    code = seconds = None
    if credential.totp_ciphertext is not None:
        seed = vault.open_secret(credential.wrapped_key, credential.key_id, credential.totp_ciphertext, "totp")
        code, seconds = vault.totp_code(seed), vault.totp_seconds_left()
    CredentialReveal.objects.create(credential=credential, user=actor if getattr(actor, "pk", None) else None,
                                    channel=channel[:10], ip=ip or None)
    audit.record(actor, "credential.revealed", credential, changes={"channel": channel,
                                                                    "totp": code is not None})
    return Revealed(secret=secret, totp_code=code, totp_seconds_left=seconds)
