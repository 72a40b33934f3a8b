"""Outbound webhooks: subscriptions, signed deliveries, retries with exponential backoff, the delivery log.

Each delivery is a POST of JSON `{"id", "event", "occurred_at", "data"}` with the headers
`X-Tenfold-Event`, `X-Tenfold-Delivery`, `X-Tenfold-Timestamp` (Unix seconds) and
`X-Tenfold-Signature: sha256=<hex>`, the HMAC-SHA256 of `<timestamp>.<body bytes>` with the
subscription's secret (shown once, when the subscription is created). A receiver recomputes it, compares
in constant time and refuses old timestamps.

Targets are checked twice against server-side request forgery: when the URL is saved and when it is
called (every address the name resolves to must be public, and the connection goes to the address that was
checked, so a name that changes its answer in between cannot redirect the call). Private, loopback,
link-local, multicast and reserved addresses are refused unless `TENFOLD_WEBHOOKS_ALLOW_PRIVATE` is on
(tests turn it on for their local receiver; production never should). Redirects are not followed.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tenfold.automation.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookSubscription
from tenfold.core import audit, events
from tenfold.core.errors import Conflict, ValidationError
from tenfold.core.models import OutboxEvent

logger = logging.getLogger("tenfold.automation.webhooks")

TIMEOUT_SECONDS = 10
MAX_ATTEMPTS = 8
BASE_BACKOFF_SECONDS = 60
MAX_BACKOFF_SECONDS = 6 * 3600
DISABLE_AFTER_FAILURES = 10
CLAIM_SECONDS = 120
MAX_EVENTS = 20


def allow_private() -> bool:
    """Whether private and loopback targets are allowed (tests only)."""
    return bool(getattr(settings, "TENFOLD_WEBHOOKS_ALLOW_PRIVATE", False))


def backoff(attempts: int) -> timedelta:
    """The wait after the n-th failed attempt: 1, 2, 4, 8 … minutes, at most six hours."""
    return timedelta(seconds=min(MAX_BACKOFF_SECONDS, BASE_BACKOFF_SECONDS * 2 ** max(0, attempts - 1)))


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for a body sent at `timestamp`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, now: float | None = None,
           tolerance: int = 300) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs((now if now is not None else time.time()) - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, sent, body), signature)


def _blocked(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved
                or ip.is_unspecified)


def check_url(url: str) -> str:
    """A URL a subscription may use: https (http only to loopback while private targets are allowed), no
    credentials, and not an address in a private range."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if len(url) > 500 or parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationError(_("Enter an https:// URL."), field="url")
    if parts.username or parts.password:
        raise ValidationError(_("The URL must not carry a user name or password."), field="url")
    host = parts.hostname
    literal = _literal_ip(host)
    if parts.scheme == "http" and not (allow_private() and literal is not None and ipaddress.ip_address(literal)
                                       .is_loopback):
        raise ValidationError(_("Enter an https:// URL."), field="url")
    if literal is not None and _blocked(literal) and not allow_private():
        raise ValidationError(_("This address is private, loopback or link-local: webhooks only reach public "
                                "addresses."), field="url")
    if host.lower() in ("localhost", "localhost.localdomain") and not allow_private():
        raise ValidationError(_("This address is private, loopback or link-local: webhooks only reach public "
                                "addresses."), field="url")
    return url


def _literal_ip(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def resolve_public(host: str, port: int) -> str:
    """The address to connect to; ValidationError when any address of the name is not public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ValidationError(_("The name %(host)s does not resolve.") % {"host": host}, field="url") from exc
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise ValidationError(_("The name %(host)s does not resolve.") % {"host": host}, field="url")
    if not allow_private() and any(_blocked(a) for a in addresses):
        raise ValidationError(_("%(host)s resolves to a private, loopback or link-local address: refused.")
                              % {"host": host}, field="url")
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST to a checked URL, connecting to the checked address; the status code (redirects not followed)."""
    check_url(url)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = resolve_public(host, port)
    cls = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = cls(host, address, port, TIMEOUT_SECONDS)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    try:
        connection.request("POST", path, body=body, headers={
            **headers, "Content-Type": "application/json", "User-Agent": "Tenfold-Webhooks/1"})
        response = connection.getresponse()
        response.read(64 * 1024)
        return int(response.status)
    finally:
        connection.close()


# --- Subscriptions -------------------------------------------------------------------------------


def _clean(data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    from tenfold.automation.workflows import EVENT_NAMES

    clean: dict[str, Any] = {}
    if "name" in data or not partial:
        name = str(data.get("name") or "").strip()
        if not name or len(name) > 200:
            raise ValidationError(_("Name the subscription (at most 200 characters)."), field="name")
        clean["name"] = name
    if "url" in data or not partial:
        clean["url"] = check_url(str(data.get("url") or ""))
    if "events" in data or not partial:
        names = data.get("events")
        if (not isinstance(names, list) or not names or len(names) > MAX_EVENTS
                or not all(isinstance(n, str) and n in EVENT_NAMES for n in names)):
            raise ValidationError(_("Choose one or more events among: %(events)s.")
                                  % {"events": ", ".join(EVENT_NAMES)}, field="events")
        clean["events"] = sorted(set(names))
    if "enabled" in data and data["enabled"] is not None:
        if not isinstance(data["enabled"], bool):
            raise ValidationError(_("enabled is true or false."), field="enabled")
        clean["enabled"] = data["enabled"]
    return clean


@transaction.atomic
def subscription_create(*, actor: Any, data: dict[str, Any]) -> tuple[WebhookSubscription, str]:
    """A new subscription and its secret (returned once: it is never shown again)."""
    from tenfold.automation.workflow_services import require_build

    require_build(actor)
    clean = _clean(data)
    secret = secrets.token_urlsafe(32)
    subscription = WebhookSubscription.objects.create(
        **clean, secret=secret, created_by=actor if getattr(actor, "pk", None) else None)
    audit.record(actor, "webhook.created", subscription, changes={
        "name": subscription.name, "url": subscription.url, "events": subscription.events})
    return subscription, secret


@transaction.atomic
def subscription_update(*, actor: Any, subscription: WebhookSubscription,
                        data: dict[str, Any]) -> WebhookSubscription:
    """Change a subscription; enabling it again clears its failure count and notice."""
    from tenfold.automation.workflow_services import require_build

    require_build(actor)
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    clean = _clean(data, partial=True)
    before = audit.snapshot(subscription, ["name", "url", "events", "enabled"])
    for key, value in clean.items():
        setattr(subscription, key, value)
    if clean.get("enabled") and not before["enabled"]:
        subscription.consecutive_failures, subscription.disabled_reason = 0, ""
    subscription.save()
    audit.record(actor, "webhook.updated", subscription,
                 changes=audit.diff(before, audit.snapshot(subscription, list(before))))
    return subscription


@transaction.atomic
def subscription_delete(*, actor: Any, subscription: WebhookSubscription) -> None:
    from tenfold.automation.workflow_services import require_build

    require_build(actor, "delete")
    audit.record(actor, "webhook.deleted", subscription, changes={"name": subscription.name})
    subscription.delete()


@transaction.atomic
def subscription_ping(*, actor: Any, subscription: WebhookSubscription) -> WebhookDelivery:
    """Queue a `ping` delivery (sent by the worker like any other)."""
    from tenfold.automation.workflow_services import require_build

    require_build(actor)
    if not subscription.enabled:
        raise Conflict(_("This subscription is disabled: enable it first."))
    delivery = enqueue(subscription, event="ping", key=f"ping:{secrets.token_hex(8)}",
                       data={"message": "ping", "subscription": subscription.name})
    audit.record(actor, "webhook.pinged", subscription, changes={"delivery_id": delivery.pk})
    return delivery


# --- Deliveries ----------------------------------------------------------------------------------


def enqueue(subscription: WebhookSubscription, *, event: str, key: str, data: dict[str, Any],
            client_id: int | None = None, occurred_at: datetime | None = None) -> WebhookDelivery:
    """Queue one delivery (once per subscription and key); it is sent after commit, or by the sweep."""
    now = timezone.now()
    delivery = WebhookDelivery(subscription=subscription, client_id=client_id, event=event, key=key,
                               next_attempt_at=now)
    try:
        with transaction.atomic():
            delivery.save(force_insert=True)
    except IntegrityError:
        return WebhookDelivery.objects.get(subscription=subscription, key=key)
    delivery.body = {"id": delivery.pk, "event": event, "occurred_at": (occurred_at or now).isoformat(),
                     "data": data}
    delivery.save(update_fields=["body"])
    transaction.on_commit(_kick)
    return delivery


def _kick() -> None:
    from tenfold.automation.tasks import deliver_webhooks

    try:
        deliver_webhooks.enqueue()
    except Exception:  # the schedule sends it within a minute
        logger.warning("could not enqueue webhook delivery; the schedule will send it", exc_info=True)


def on_event(event: OutboxEvent) -> None:
    """The outbox handler: queue the event for every enabled subscription to it."""
    for subscription in WebhookSubscription.objects.filter(enabled=True).order_by("pk"):
        if event.name in subscription.events:
            enqueue(subscription, event=event.name, key=f"event:{event.pk}", data=event.payload or {},
                    client_id=event.client_id, occurred_at=event.created_at)


def deliver_due(now: datetime | None = None, limit: int = 100) -> int:
    """Send due deliveries (each claimed by a conditional UPDATE); returns how many were attempted."""
    now = now or timezone.now()
    ids = list(WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now,
                                              subscription__enabled=True)
               .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
               .order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
    done = 0
    for delivery_id in ids:
        claimed = WebhookDelivery.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now), pk=delivery_id,
            status=DeliveryStatus.PENDING).update(claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
        if claimed:
            attempt(WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id))
            done += 1
    return done


def attempt(delivery: WebhookDelivery) -> WebhookAttempt:
    """One HTTP attempt, logged; success, a retry later, or the end of retries."""
    subscription = delivery.subscription
    body = json.dumps(delivery.body, sort_keys=True, separators=(",", ":")).encode()
    timestamp = int(time.time())
    headers = {"X-Tenfold-Event": delivery.event, "X-Tenfold-Delivery": str(delivery.pk),
               "X-Tenfold-Timestamp": str(timestamp), "X-Tenfold-Signature": sign(subscription.secret, timestamp, body)}
    started = time.monotonic()
    code: int | None = None
    error = ""
    try:
        code = post(subscription.url, body, headers)
        if not 200 <= code < 300:
            error = _("The receiver answered %(code)d.") % {"code": code}
    except ValidationError as exc:
        error = str(exc.message)
    except (OSError, http.client.HTTPException) as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    duration = int((time.monotonic() - started) * 1000)
    now = timezone.now()
    with transaction.atomic():
        number = delivery.attempts + 1
        log = WebhookAttempt.objects.create(delivery=delivery, number=number, at=now, status_code=code,
                                            duration_ms=duration, error=error[:500])
        fields: dict[str, Any] = {"attempts": number, "last_status_code": code, "last_error": error[:500],
                                  "claimed_until": None, "updated_at": now}
        if not error:
            fields.update(status=DeliveryStatus.SUCCEEDED, delivered_at=now, next_attempt_at=None)
            WebhookSubscription.objects.filter(pk=subscription.pk).update(consecutive_failures=0)
        else:
            if number >= MAX_ATTEMPTS:
                fields.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
            else:
                fields["next_attempt_at"] = now + backoff(number)
            _count_failure(subscription)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    return log


def _count_failure(subscription: WebhookSubscription) -> None:
    WebhookSubscription.objects.filter(pk=subscription.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    disabled = WebhookSubscription.objects.filter(
        pk=subscription.pk, enabled=True, consecutive_failures__gte=DISABLE_AFTER_FAILURES).update(
        enabled=False, disabled_reason=_("Disabled after %(n)d failed deliveries in a row.")
        % {"n": DISABLE_AFTER_FAILURES}, updated_at=timezone.now())
    if disabled:
        audit.record(None, "webhook.disabled", subscription, changes={"consecutive_failures": DISABLE_AFTER_FAILURES})
        events.emit("webhook.disabled", payload={"subscription_id": subscription.pk, "name": subscription.name,
                                                 "url": subscription.url})


def on_disabled(event: OutboxEvent) -> None:
    """Tell the owners and administrators that a subscription was disabled (the notice by email)."""
    from django.contrib.auth import get_user_model
    from django.core.mail import send_mail

    from tenfold.core.roles import Role

    to = sorted(get_user_model().objects.filter(role__in=[Role.OWNER, Role.ADMIN], is_active=True)
                .exclude(email="").values_list("email", flat=True))
    if not to:
        return
    payload = event.payload or {}
    send_mail(_("[Tenfold] Webhook disabled: %(name)s") % {"name": payload.get("name", "")},
              _("The webhook subscription %(name)s (%(url)s) failed %(n)d times in a row and was disabled. "
                "Check the receiver, then enable it again.") % {"name": payload.get("name", ""),
                                                               "url": payload.get("url", ""),
                                                               "n": DISABLE_AFTER_FAILURES},
              None, to, fail_silently=False)
