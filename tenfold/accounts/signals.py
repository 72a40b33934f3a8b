"""Audit rows for security events raised by allauth (second factors added or removed, passwords changed)."""

from __future__ import annotations

from typing import Any

from tenfold.core import audit


def _authenticator_added(sender: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    audit.record(user, "mfa.authenticator_added", user, changes={"type": [None, authenticator.type]})


def _authenticator_removed(sender: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    audit.record(user, "mfa.authenticator_removed", user, changes={"type": [authenticator.type, None]})


def _authenticator_reset(sender: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    audit.record(user, "mfa.authenticator_reset", user,
                 changes={"type": [authenticator.type, authenticator.type]})


def _password_changed(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit.record(user, "user.password_changed", user)


def connect() -> None:
    """Connect the handlers (called once from AccountsConfig.ready)."""
    from allauth.account.signals import password_changed, password_reset
    from allauth.mfa.signals import authenticator_added, authenticator_removed, authenticator_reset

    authenticator_added.connect(_authenticator_added, dispatch_uid="tenfold.accounts.mfa_added")
    authenticator_removed.connect(_authenticator_removed, dispatch_uid="tenfold.accounts.mfa_removed")
    authenticator_reset.connect(_authenticator_reset, dispatch_uid="tenfold.accounts.mfa_reset")
    password_changed.connect(_password_changed, dispatch_uid="tenfold.accounts.password_changed")
    password_reset.connect(_password_changed, dispatch_uid="tenfold.accounts.password_reset")
