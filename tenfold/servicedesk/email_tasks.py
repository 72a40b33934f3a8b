"""The email channel's periodic work."""

from __future__ import annotations

from typing import Any

from django_tasks import task


@task()
def poll_mailbox() -> dict[str, Any]:
    """Fetch and apply the support mailbox's new messages (every minute; a message is applied once)."""
    from tenfold.servicedesk.mailbox import poll_mailbox as poll

    return {"applied": poll()}

