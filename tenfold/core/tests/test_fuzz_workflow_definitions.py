"""Generated workflow definitions (`automation.workflows.validate_definition`, the API's and the builder's
parser of outside input): any JSON document gives a clean definition or a ValidationError naming the place,
never another exception; a clean definition is accepted again unchanged. The atheris target of the same
parser is `fuzz/parsers.py workflow`; its findings stay here as regression tests."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenfold.assets.models import Tag
from tenfold.automation import workflows
from tenfold.automation.models import Script, ScriptVersion, WebhookSubscription
from tenfold.clients.models import Client
from tenfold.core.errors import ValidationError

pytestmark = pytest.mark.django_db

PARAMS = [{"name": "service", "label": "Service", "type": "string", "required": True},
          {"name": "level", "label": "Level", "type": "choice", "required": False, "choices": ["low", "high"],
           "default": "low"},
          {"name": "count", "label": "Count", "type": "number", "required": False},
          {"name": "password", "label": "Password", "type": "secret", "required": False}]


def make_world() -> dict[str, int]:
    """A client, a tag, a webhook and a script with a signed version 1 and an unsigned version 2."""
    client = Client.objects.create(name="Boulangerie Martin", status="active")
    tag = Tag.objects.create(name="VIP")
    hook = WebhookSubscription.objects.create(name="NOC", url="https://hooks.example.com/t", events=["alert.raised"],
                                              secret="s" * 32)
    script = Script.objects.create(name="Restart a service", language="shell", parameters=PARAMS)
    for number, status in ((1, "signed"), (2, "awaiting_signature")):
        ScriptVersion.objects.create(script=script, number=number, body="echo", language="shell",
                                     timeout_seconds=60, parameters=PARAMS, document="doc",
                                     document_sha256="0" * 64, status=status)
    return {"client": client.pk, "tag": tag.pk, "hook": hook.pk, "script": script.pk}


def world() -> dict[str, int]:
    """The references of `make_world`, made once per test (hypothesis runs many examples in one test)."""
    if not Client.objects.filter(name="Boulangerie Martin").exists():
        return make_world()
    return {"client": Client.objects.get(name="Boulangerie Martin").pk, "tag": Tag.objects.get(name="VIP").pk,
            "hook": WebhookSubscription.objects.get(name="NOC").pk,
            "script": Script.objects.get(name="Restart a service").pk}


# Values that sit at the edges of what the validators take.
ODD = st.sampled_from([None, True, False, 0, -1, 1, 2, 3, 2**31, 2**63, -(2**63) - 1, 10**30, 1.5, float("nan"),
                       "", " ", "\x00", "é" * 300, "x" * 6000, [], {}, [1], {"a": 1}, ["x"], [[]], [{}],
                       "next", "end", "alert.raised", "0 7 * * 1", "in", "not_in", "is"])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20)
VALUE = ODD | JSON


def _pick(*choices: Any) -> st.SearchStrategy[Any]:
    return st.sampled_from(choices) | VALUE


TRIGGER = st.one_of(
    st.fixed_dictionaries({"event": _pick(*workflows.EVENT_NAMES)}),
    st.fixed_dictionaries({"schedule": _pick("0 7 * * 1", "*/5 * * * *", "61 * * * *", "0 7 * *")}),
    st.dictionaries(st.sampled_from(["event", "schedule", "other"]), VALUE, max_size=3),
    VALUE,
)
CONDITION = st.one_of(
    st.fixed_dictionaries({"field": _pick(*workflows.CONDITION_LABELS), "op": _pick("in", "not_in", "is"),
                           "value": st.lists(_pick("critical", "disk_free", "p1", "linux", "check", 1, 2),
                                             max_size=3) | VALUE}),
    VALUE,
)
STEP_IDS = ("a", "b", "cleanup", "ticket")
PARAMS_OF = st.dictionaries(
    st.sampled_from(sorted({p for a in workflows.ACTIONS.values() for p in a.params} | {"extra"})),
    _pick("low", "service", 1, 2, "ops@msp.example", "a@b.c, d@e.f", "closed", "resolved", "p2", "auto",
          "run_checks_now", "kind", "notes", "server", {"service": "nginx"}, {"service": "x", "password": "[secret]"},
          {"service": "x", "count": "many"}),
    max_size=4)
STEP = st.one_of(
    st.fixed_dictionaries({"id": _pick(*STEP_IDS), "action": _pick(*workflows.ACTIONS), "params": PARAMS_OF | VALUE},
                          optional={"on_success": _pick(*STEP_IDS, "next", "end"),
                                    "on_failure": _pick(*STEP_IDS, "next", "end")}),
    VALUE,
)
DEFINITION = st.one_of(
    st.fixed_dictionaries({"trigger": TRIGGER, "steps": st.lists(STEP, max_size=4) | VALUE},
                          optional={"conditions": st.lists(CONDITION, max_size=3) | VALUE, "extra": VALUE}),
    JSON,
)


def check_definition(raw: Any) -> None:
    """The property: a clean definition (accepted again, unchanged) or a ValidationError with its places."""
    try:
        clean = workflows.validate_definition(raw)
    except ValidationError as exc:
        assert exc.errors and all(isinstance(key, str) for key in exc.errors)
        assert all(messages and all(isinstance(str(m), str) and str(m) for m in messages)
                   for messages in exc.errors.values())
        return
    assert set(clean) == {"trigger", "conditions", "steps"} and clean["steps"]
    assert workflows.validate_definition(clean, previous=clean) == clean


@given(DEFINITION)
def test_any_definition_is_clean_or_a_validation_error(raw: Any) -> None:
    # given a client, a tag, a webhook and a signed script (so that valid references exist)
    world()
    # when / then
    check_definition(raw)


def base_definition(ids: dict[str, int]) -> dict[str, Any]:
    """A valid definition that uses every kind of place: both trigger kinds' conditions, every action."""
    return {"trigger": {"event": "alert.raised"},
            "conditions": [{"field": "client", "op": "in", "value": [ids["client"]]},
                           {"field": "device_tag", "op": "not_in", "value": [ids["tag"]]},
                           {"field": "severity", "op": "in", "value": ["critical"]},
                           {"field": "business_hours", "op": "is", "value": True}],
            "steps": [{"id": "cleanup", "action": "run_script", "on_failure": "ticket",
                       "params": {"script_id": ids["script"], "version": 1,
                                  "parameters": {"service": "nginx", "count": 3}}},
                      {"id": "recheck", "action": "run_action", "params": {"action": "run_checks_now"}},
                      {"id": "hook", "action": "call_webhook", "params": {"subscription_id": ids["hook"]}},
                      {"id": "kind", "action": "set_device_field", "params": {"field": "kind", "value": "server"}},
                      {"id": "tag", "action": "add_device_tag", "params": {"tag_id": ids["tag"]}},
                      {"id": "mail", "action": "send_email", "params": {"to": "ops@msp.example", "subject": "Disk",
                                                                        "body": "Full"}},
                      {"id": "ticket", "action": "open_ticket", "params": {"reuse_open": True, "priority": "p2"}},
                      {"id": "note", "action": "note_ticket", "params": {"body": "Cleaned", "public": False}},
                      {"id": "close", "action": "close_ticket", "params": {"status": "resolved"}}]}


def paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found += paths(value, (*prefix, index))
    return found


def replaced(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = dict(doc) if isinstance(doc, dict) else list(doc)
    copy[path[0]] = replaced(doc[path[0]], path[1:], value)
    return copy


# Every place of the base definition (any ids: only the shape counts), grouped by the trigger, each condition
# and each step: a test per group, each example one place of its group.
PLACES = paths(base_definition({"client": 1, "tag": 1, "hook": 1, "script": 1}))[1:]
GROUPS: dict[str, list[tuple[Any, ...]]] = {}
for _place in PLACES:
    GROUPS.setdefault(".".join(map(str, _place[:1] if _place[0] == "trigger" else _place[:2])), []).append(_place)


@pytest.mark.parametrize("group", GROUPS)
@given(data=st.data(), value=VALUE)
def test_any_value_at_any_place_is_clean_or_a_validation_error(group: str, data: st.DataObject, value: Any) -> None:
    # given a valid definition whose references exist
    base = base_definition(world())
    check_definition(base)
    place = data.draw(st.sampled_from(GROUPS[group]), label="place")
    # when one place holds another value / then
    check_definition(replaced(base, place, value))


@pytest.mark.parametrize(("raw", "key", "message"), [
    ({"trigger": {"event": []}, "steps": [{"id": "a", "action": "open_ticket", "params": {"title": "t"}}]},
     "trigger", "Unknown trigger event “[]”."),
    ({"trigger": {"event": "ticket.created"}, "steps": [{"id": "a", "action": ["open_ticket"]}]},
     "steps.a", "Step “a”: choose an action"),
    ({"trigger": {"event": "ticket.created"}, "conditions": [{"field": {}, "op": "in", "value": ["p1"]}],
      "steps": [{"id": "a", "action": "open_ticket", "params": {"title": "t"}}]},
     "conditions.0", "Condition 1: unknown field “{}”."),
    ({"trigger": {"event": "alert.raised"}, "steps": [{"id": "a", "action": "run_action", "params": {"action": []}}]},
     "steps.a.params.action", "Step “a”: choose an agent action"),
    ({"trigger": {"event": "alert.raised"},
      "steps": [{"id": "a", "action": "set_device_field", "params": {"field": {}, "value": "x"}}]},
     "steps.a.params.field", "Step “a”: only these device fields may be set"),
    ({"trigger": {"event": "alert.raised"},
      "steps": [{"id": "a", "action": "call_webhook", "params": {"subscription_id": 2**70}}]},
     "steps.a.params.subscription_id", "Step “a”: choose an existing webhook subscription."),
    ({"trigger": {"event": "alert.raised"},
      "steps": [{"id": "a", "action": "add_device_tag", "params": {"tag_id": 2**63}}]},
     "steps.a.params.tag_id", "Step “a”: choose an existing tag."),
    ({"trigger": {"event": "alert.raised"},
      "steps": [{"id": "a", "action": "run_script", "params": {"script_id": 2**64}}]},
     "steps.a.params.script_id", "Step “a”: the script #18446744073709551616 does not exist."),
    ({"trigger": {"event": "alert.raised"}, "conditions": [{"field": "client", "op": "in", "value": [2**70]}],
      "steps": [{"id": "a", "action": "open_ticket"}]},
     "conditions.0", "Condition 1: choose one or more valid values for “client”."),
])
def test_regression_an_unhashable_or_huge_value_is_a_validation_error(raw: dict[str, Any], key: str,
                                                                       message: str) -> None:
    """A list or an object where a name is expected, or an id beyond 64 bits, is a validation error naming
    the place (it was a TypeError on the lookup, or an OverflowError at the database: a 500)."""
    # given the references
    make_world()
    # when
    with pytest.raises(ValidationError) as caught:
        workflows.validate_definition(raw)
    # then
    assert list(caught.value.errors) == [key]
    assert caught.value.errors[key][0].startswith(message)


def test_regression_a_huge_script_version_is_a_validation_error() -> None:
    """A version number beyond 64 bits names no version (it was an OverflowError at the database)."""
    # given a script with a signed version 1
    ids = make_world()
    raw = {"trigger": {"event": "alert.raised"},
           "steps": [{"id": "a", "action": "run_script", "params": {"script_id": ids["script"], "version": 2**64}}]}
    # when
    with pytest.raises(ValidationError) as caught:
        workflows.validate_definition(raw)
    # then
    assert caught.value.errors == {"steps.a.params.version": [
        "Step “a”: the script “Restart a service” has no version 1844674407."]}


def test_a_definition_that_uses_every_reference_is_clean_and_stable() -> None:
    # given the references
    ids = make_world()
    raw = {"trigger": {"event": "alert.raised"},
           "conditions": [{"field": "client", "op": "in", "value": [ids["client"]]},
                          {"field": "device_tag", "op": "not_in", "value": [ids["tag"]]}],
           "steps": [{"id": "cleanup", "action": "run_script", "on_failure": "ticket",
                      "params": {"script_id": ids["script"], "parameters": {"service": "nginx"}}},
                     {"id": "hook", "action": "call_webhook", "params": {"subscription_id": ids["hook"]}},
                     {"id": "ticket", "action": "open_ticket", "params": {"reuse_open": True}}]}
    # when
    clean = workflows.validate_definition(raw)
    # then
    assert clean["steps"][0] == {"id": "cleanup", "action": "run_script", "on_success": "next",
                                 "on_failure": "ticket", "params": {"script_id": ids["script"], "version": None,
                                                                    "parameters": {"service": "nginx",
                                                                                   "level": "low"}}}
    check_definition(raw)
