"""Factories for accounts tests; the staff/portal helpers live in tenfold.accounts.testing for other apps."""

from __future__ import annotations

from typing import Any

import factory
from django.test import Client as HttpClient

from tenfold.accounts.models import ApiToken, User
from tenfold.accounts.testing import (
    PASSWORD,
    bearer,
    enroll_totp,
    make_api_token,
    make_portal_user,
    make_staff,
    totp_code,
)
from tenfold.accounts.tokens import hash_token, new_token
from tenfold.clients.models import Client, Contact

__all__ = [
    "PASSWORD",
    "ApiTokenFactory",
    "ClientFactory",
    "ContactFactory",
    "bearer",
    "enroll_totp",
    "logged_in",
    "make_api_token",
    "make_portal_user",
    "make_staff",
    "totp_code",
]


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"Client {n:03d}")
    status = "active"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    client = factory.SubFactory(ClientFactory)
    first_name = "Claire"
    last_name = factory.Sequence(lambda n: f"Contact{n}")
    email = factory.LazyAttribute(lambda c: f"{c.last_name.lower()}@client.example")


class ApiTokenFactory(factory.django.DjangoModelFactory):
    """A token row; the plain token is on `.plain` (tests only: production never keeps it)."""

    class Meta:
        model = ApiToken

    name = factory.Sequence(lambda n: f"token {n}")
    read_only = False

    @classmethod
    def _create(cls, model_class: type[ApiToken], *args: Any, **kwargs: Any) -> ApiToken:
        plain, prefix = new_token()
        token = model_class.objects.create(*args, prefix=prefix, token_hash=hash_token(plain), **kwargs)
        token.plain = plain  # type: ignore[attr-defined]
        return token


def logged_in(user: User) -> HttpClient:
    """A test client with a session for this user (MFA is checked by enrolment, not by session state)."""
    http = HttpClient()
    http.force_login(user)
    return http
