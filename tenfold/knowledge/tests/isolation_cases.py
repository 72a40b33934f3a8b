"""Isolation cases of the knowledge pages and API (see tenfold/core/isolation.py)."""

from __future__ import annotations

from tenfold.core.isolation import Case, World, register
from tenfold.knowledge import vault
from tenfold.knowledge.models import (
    CheckRunbookLink,
    ClientDoc,
    Credential,
    CredentialReveal,
    KeyApplication,
    NetworkItem,
    Runbook,
    RunbookCategory,
    RunbookStep,
    RunbookVersion,
    SearchDocument,
)
from tenfold.monitoring.tests.isolation_cases import alert_a

RUNBOOK_A_TITLE = "ISO-RUNBOOK-A-5521"
CREDENTIAL_A_NAME = "ISO-CREDENTIAL-A-6130"
MODELS = (Runbook, RunbookStep, RunbookVersion, CheckRunbookLink, ClientDoc, NetworkItem, KeyApplication,
          SearchDocument, RunbookCategory)
VAULT_MODELS = (Credential, CredentialReveal)


def runbook_a(world: World) -> Runbook:
    """A runbook of client A with two versions, a step and an index row."""
    if "runbook_a" not in world.extra:
        runbook = Runbook.objects.create(title=RUNBOOK_A_TITLE, slug="iso-runbook-a", client=world.client_a,
                                         body_markdown="Reset the ISO-RUNBOOK-A-5521 router.", current_version=2)
        RunbookStep.objects.create(runbook=runbook, position=1, text="Check the uplink", required=True)
        for number in (1, 2):
            RunbookVersion.objects.create(runbook=runbook, number=number, title=runbook.title,
                                          body_markdown=f"text {number}", steps=[])
        SearchDocument.objects.create(kind="runbook", object_id=runbook.pk, client=world.client_a,
                                      title=RUNBOOK_A_TITLE, body="router uplink",
                                      url=f"/knowledge/runbooks/{runbook.pk}/")
        world.extra["runbook_a"] = runbook
    return world.extra["runbook_a"]


def msp_runbook(world: World) -> Runbook:
    """A runbook of the whole MSP (may be linked to checks)."""
    if "msp_runbook" not in world.extra:
        world.extra["msp_runbook"] = Runbook.objects.create(title="ISO MSP runbook", slug="iso-msp-runbook",
                                                            current_version=1)
    return world.extra["msp_runbook"]


def link_a(world: World) -> CheckRunbookLink:
    """A check of client A's policy linked to an MSP runbook."""
    if "link_a" not in world.extra:
        alert = alert_a(world)
        world.extra["link_a"] = CheckRunbookLink.objects.create(check_definition=alert.check_definition,
                                                                runbook=msp_runbook(world))
    return world.extra["link_a"]


def category(world: World, key: str = "category") -> RunbookCategory:
    """An MSP-level category filing client A's runbook ("category") or an unused one ("spare_category")."""
    if key not in world.extra:
        world.extra[key] = RunbookCategory.objects.create(name=f"ISO {key}", slug=f"iso-{key.replace('_', '-')}")
        if key == "category":
            Runbook.objects.filter(pk=runbook_a(world).pk).update(category=world.extra[key])
    return world.extra[key]


def network_a(world: World) -> NetworkItem:
    if "network_a" not in world.extra:
        world.extra["network_a"] = NetworkItem.objects.create(client=world.client_a, kind="subnet", name="ISO LAN",
                                                              address="10.9.0.0/24")
    return world.extra["network_a"]


def application_a(world: World) -> KeyApplication:
    if "application_a" not in world.extra:
        world.extra["application_a"] = KeyApplication.objects.create(client=world.client_a, name="ISO ERP")
    return world.extra["application_a"]


def credential_a(world: World) -> Credential:
    if "credential_a" not in world.extra:
        sealed = vault.seal_credential("iso-secret-value", None)
        world.extra["credential_a"] = Credential.objects.create(
            client=world.client_a, name=CREDENTIAL_A_NAME, username="admin", wrapped_key=sealed.wrapped_key,
            key_id=sealed.key_id, secret_ciphertext=sealed.secret_ciphertext)
    return world.extra["credential_a"]


def _runbook(world: World) -> dict[str, int]:
    return {"runbook_id": runbook_a(world).pk}


def _client(world: World) -> dict[str, int]:
    return {"client_id": world.client_a.pk}


def _credential(world: World) -> dict[str, int]:
    return {"credential_id": credential_a(world).pk}


def _runbook_body(world: World) -> dict[str, object]:
    return {"title": RUNBOOK_A_TITLE + " changed", "kind": "task", "client": world.client_a.pk,
            "body_markdown": "new text", "step_text": ["Check the uplink", "Reboot"], "step_required": ["0"]}


register(
    # Runbooks (UI)
    Case("ui:knowledge:runbook_list", "list", "runbooks", staff_only=True, leak=lambda w: runbook_a(w).title),
    Case("ui:knowledge:runbook_create", "create", "runbooks", "add", method="POST", models=MODELS,
         body=lambda w: {"title": "ISO new runbook", "kind": "task", "body_markdown": "x", "step_text": ["a"],
                         "step_required": ["0"]},
         note="restricted technicians get the form back (MSP-wide runbooks are refused), hence 200"),
    Case("ui:knowledge:runbook_detail", "object", "runbooks", params=_runbook, staff_only=True),
    Case("ui:knowledge:runbook_edit", "object", "runbooks", "change", method="POST", params=_runbook,
         body=_runbook_body, models=MODELS, staff_only=True),
    Case("ui:knowledge:runbook_archive", "object", "runbooks", "delete", method="POST", params=_runbook,
         body=lambda w: {"archived": "1"}, models=MODELS, staff_only=True),
    Case("ui:knowledge:runbook_diff", "object", "runbooks", params=_runbook, staff_only=True),
    Case("ui:knowledge:runbook_link_check", "object", "runbooks", "change", method="POST", models=MODELS,
         params=_runbook, body=lambda w: {"check_type": "cpu"}, staff_only=True,
         note="client A's runbook cannot be linked: the user with the right gets the message, redirected"),
    Case("ui:knowledge:check_link_delete", "object", "runbooks", "change", method="POST", models=MODELS,
         params=lambda w: {"link_id": link_a(w).pk}, staff_only=True),
    Case("ui:knowledge:alert_runbook_panel", "object", "devices", params=lambda w: {"alert_id": link_a(w) and
                                                                                     alert_a(w).pk},
         staff_only=True),
    # Runbook categories (UI; MSP-level)
    Case("ui:knowledge:category_list", "list", "runbooks", staff_only=True, client_owned=False,
         params=lambda w: category(w) and {}),
    Case("ui:knowledge:category_create", "create", "runbooks", "delete", method="POST", models=MODELS,
         body=lambda w: {"name": "ISO new category", "description": "", "position": "3"}, staff_only=True,
         client_owned=False),
    Case("ui:knowledge:category_edit", "object", "runbooks", "delete", method="POST", models=MODELS,
         params=lambda w: {"category_id": category(w).pk},
         body=lambda w: {"name": "ISO renamed category", "description": "", "position": "1"}, staff_only=True,
         client_owned=False),
    Case("ui:knowledge:category_delete", "object", "runbooks", "delete", method="POST", models=MODELS,
         params=lambda w: {"category_id": category(w, "spare_category").pk}, staff_only=True, client_owned=False),
    # Client documentation (UI)
    Case("ui:knowledge:client_doc", "object", "runbooks", params=_client, staff_only=True),
    Case("ui:knowledge:client_docs_panel", "object", "runbooks", params=_client, staff_only=True),
    Case("ui:knowledge:client_doc_edit", "object", "runbooks", "change", method="POST", params=_client,
         body=lambda w: {"overview_markdown": "## New overview"}, models=MODELS, staff_only=True),
    Case("ui:knowledge:client_doc_review", "object", "runbooks", "change", method="POST", params=_client,
         models=MODELS, staff_only=True),
    Case("ui:knowledge:network_item_create", "create", "runbooks", "change", method="POST", params=_client,
         body=lambda w: {"kind": "vlan", "name": "Voice", "vlan_id": "20"}, models=MODELS, staff_only=True),
    Case("ui:knowledge:network_item_edit", "object", "runbooks", "change", method="POST", models=MODELS,
         params=lambda w: {"item_id": network_a(w).pk}, body=lambda w: {"kind": "subnet", "name": "LAN 2",
                                                                          "address": "10.9.1.0/24"},
         staff_only=True),
    Case("ui:knowledge:network_item_delete", "object", "runbooks", "change", method="POST", models=MODELS,
         params=lambda w: {"item_id": network_a(w).pk}, staff_only=True),
    Case("ui:knowledge:key_application_create", "create", "runbooks", "change", method="POST", params=_client,
         body=lambda w: {"name": "Payroll"}, models=MODELS, staff_only=True),
    Case("ui:knowledge:key_application_edit", "object", "runbooks", "change", method="POST", models=MODELS,
         params=lambda w: {"application_id": application_a(w).pk}, body=lambda w: {"name": "ERP 2"},
         staff_only=True),
    Case("ui:knowledge:key_application_delete", "object", "runbooks", "change", method="POST", models=MODELS,
         params=lambda w: {"application_id": application_a(w).pk}, staff_only=True),
    # Vault (UI)
    Case("ui:knowledge:credential_list", "list", "vault", staff_only=True, leak=lambda w: credential_a(w).name),
    Case("ui:knowledge:credential_create", "create", "vault", "add", method="POST", models=VAULT_MODELS,
         body=lambda w: {"name": "ISO new credential", "secret": "s3cret-value"},
         note="restricted technicians get the form back (MSP credentials are refused), hence 200"),
    Case("ui:knowledge:credential_detail", "object", "vault", params=_credential, staff_only=True),
    Case("ui:knowledge:credential_edit", "object", "vault", "change", method="POST", params=_credential,
         body=lambda w: {"name": "ISO renamed", "client": w.client_a.pk}, models=VAULT_MODELS, staff_only=True),
    Case("ui:knowledge:credential_delete", "object", "vault", "delete", method="POST", params=_credential,
         models=VAULT_MODELS, staff_only=True),
    Case("ui:knowledge:credential_reveal", "object", "vault", method="POST", params=_credential,
         models=VAULT_MODELS, staff_only=True,
         note="without a recent re-authentication the allowed user is sent to it (302), nothing revealed"),
    # Search (UI)
    Case("ui:search", "list", None, staff_only=True, leak=lambda w: runbook_a(w).title,
         params=lambda w: {}, note="searched with no query: the page renders empty"),
    # Runbooks (API)
    Case("api:GET /api/v1/runbooks", "list", "runbooks", staff_only=True, leak=lambda w: runbook_a(w).title),
    Case("api:POST /api/v1/runbooks", "create", "runbooks", "add", method="POST", params=_client, models=MODELS,
         body=lambda w: {"title": "ISO API runbook", "client_id": w.client_a.pk, "steps": [{"text": "a"}]},
         staff_only=True),
    Case("api:GET /api/v1/runbooks/{runbook_id}", "object", "runbooks", params=_runbook, staff_only=True),
    Case("api:PATCH /api/v1/runbooks/{runbook_id}", "object", "runbooks", "change", method="PATCH",
         params=_runbook, body=lambda w: {"body_markdown": "changed by API"}, models=MODELS, staff_only=True),
    Case("api:POST /api/v1/runbooks/{runbook_id}/archive", "object", "runbooks", "delete", method="POST",
         params=_runbook, body=lambda w: {"archived": True}, models=MODELS, staff_only=True),
    Case("api:GET /api/v1/runbooks/{runbook_id}/steps", "object", "runbooks", params=_runbook, staff_only=True),
    Case("api:GET /api/v1/runbooks/{runbook_id}/versions", "object", "runbooks", params=_runbook, staff_only=True),
    Case("api:GET /api/v1/runbooks/{runbook_id}/versions/{number}", "object", "runbooks", staff_only=True,
         params=lambda w: {"runbook_id": runbook_a(w).pk, "number": 1}),
    Case("api:GET /api/v1/runbooks/{runbook_id}/diff", "object", "runbooks", staff_only=True,
         params=lambda w: {"runbook_id": runbook_a(w).pk}),
    # Client documentation (API)
    Case("api:GET /api/v1/client-docs/{client_id}", "object", "runbooks", params=_client, staff_only=True),
    Case("api:PUT /api/v1/client-docs/{client_id}/overview", "object", "runbooks", "change", method="PUT",
         params=_client, body=lambda w: {"overview_markdown": "API overview"}, models=MODELS, staff_only=True),
    Case("api:POST /api/v1/client-docs/{client_id}/review", "object", "runbooks", "change", method="POST",
         params=_client, models=MODELS, staff_only=True),
    Case("api:POST /api/v1/client-docs/{client_id}/network", "create", "runbooks", "change", method="POST",
         params=_client, body=lambda w: {"kind": "subnet", "name": "API LAN", "address": "10.8.0.0/24"},
         models=MODELS, staff_only=True),
    Case("api:POST /api/v1/client-docs/{client_id}/applications", "create", "runbooks", "change", method="POST",
         params=_client, body=lambda w: {"name": "API ERP"}, models=MODELS, staff_only=True),
    # Vault (API)
    Case("api:GET /api/v1/vault", "list", "vault", staff_only=True, leak=lambda w: credential_a(w).name),
    Case("api:POST /api/v1/vault", "create", "vault", "add", method="POST", params=_client, models=VAULT_MODELS,
         body=lambda w: {"name": "ISO API credential", "client_id": w.client_a.pk, "secret": "x-secret"},
         staff_only=True),
    Case("api:GET /api/v1/vault/{credential_id}", "object", "vault", params=_credential, staff_only=True),
    Case("api:POST /api/v1/vault/{credential_id}/reveal", "object", "vault", method="POST", params=_credential,
         models=VAULT_MODELS, staff_only=True, success=(403,),
         note="the suite calls the API with tokens, and tokens never reveal (403 token_cannot_reveal); "
              "the 404 and role axes are still checked, and nothing is recorded"),
    Case("api:GET /api/v1/vault/{credential_id}/reveals", "object", "vault", params=_credential, staff_only=True),
    # Search (API)
    Case("api:GET /api/v1/search", "list", None, staff_only=True, leak=lambda w: runbook_a(w).title,
         params=lambda w: {}, note="without q nothing is found; searches with q are in test_search"),
)
