"""Template context shared by every page: the navigation the user may see."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tenfold.core.navigation import navigation_for


def shell(request: HttpRequest) -> dict[str, Any]:
    """Navigation entries and the organization name."""
    from tenfold.core.selectors import organization

    user = getattr(request, "user", None)
    return {
        "nav_items": navigation_for(user, request.path) if user is not None else [],
        "organization_name": organization().name if user is not None and user.is_authenticated else "Tenfold",
    }
