"""Every schema class of the API has its own name: the OpenAPI document keys its components by class name, so
two apps' `PolicyOut` would make one operation document the other's answer (the schema run found
POST /api/v1/policies documented with the patching policy's fields)."""

from __future__ import annotations

import enum
import importlib
import pkgutil
import typing
from collections import defaultdict

from ninja import Schema

import tenfold


def test_no_two_api_schemas_share_a_name() -> None:
    for module in pkgutil.walk_packages(tenfold.__path__, "tenfold."):
        leaf = module.name.rsplit(".", 1)[-1]
        if ".tests" not in module.name and ("schemas" in leaf or "api" in leaf):
            importlib.import_module(module.name)
    owners: dict[str, set[str]] = defaultdict(set)
    pending = list(Schema.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("tenfold.") and ".tests" not in cls.__module__:
            owners[cls.__name__].add(cls.__module__)
            # The enums its fields use become components too, keyed by the enum's class name.
            for field in cls.model_fields.values():
                for used in _types(field.annotation):
                    if isinstance(used, type) and issubclass(used, enum.Enum):
                        owners[used.__name__].add(f"{used.__module__}.{used.__qualname__}")
    # Query-string containers (`…Params`, `…Filters`) are flattened into each operation's parameters and never
    # become components, so apps may reuse those names.
    shared = {name: sorted(modules) for name, modules in owners.items()
              if len(modules) > 1 and not name.endswith(("Params", "Filters"))}
    assert shared == {}


def _types(annotation: object) -> list[object]:
    found = [annotation]
    for arg in typing.get_args(annotation):
        found += _types(arg)
    return found
