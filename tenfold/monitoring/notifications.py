"""E-mail notifications of raised critical alerts to the service managers (through the outbox)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.utils.translation import gettext as _

from tenfold.core.roles import Role

logger = logging.getLogger("tenfold.monitoring")


def recipients() -> list[str]:
    """Active service managers with an e-mail address."""
    return sorted(get_user_model().objects.filter(role=Role.SERVICE_MANAGER, is_active=True)
                  .exclude(email="").values_list("email", flat=True))


def on_alert_raised(event: Any) -> None:
    """Mail a raised critical alert to the service managers (an `alert.raised` handler).

    Applied once per event by the outbox; a failure to reach the mail server raises, so the outbox
    retries it later with backoff."""
    from tenfold.monitoring.models import Alert, AlertStatus, Severity

    payload = event.payload or {}
    if payload.get("severity") != Severity.CRITICAL:
        return
    alert = Alert.objects.select_related("client", "device").filter(pk=int(payload.get("alert_id") or 0)).first()
    if alert is None or alert.status == AlertStatus.RESOLVED or alert.muted:
        return
    to = recipients()
    if not to:
        return
    base = getattr(settings, "TENFOLD_BASE_URL", "").rstrip("/")
    subject = _("[Tenfold] Critical alert: %(title)s") % {"title": alert.title}
    body = _("Client: %(client)s\nDevice: %(device)s\nOpened: %(opened)s\n\n%(message)s\n\n%(url)s") % {
        "client": alert.client.name, "device": alert.device.name,
        "opened": alert.opened_at.isoformat(timespec="seconds"), "message": alert.message,
        "url": f"{base}/monitoring/alerts/{alert.pk}/"}
    send_mail(subject, body, None, to, fail_silently=False)
    logger.info("alert %s: critical notification sent to %d service manager(s)", alert.pk, len(to))
