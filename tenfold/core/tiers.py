"""The plan-tier vocabulary shared by monitoring, catalog and contracts."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Tier(models.TextChoices):
    """Good / Better / Best: each tier includes the one below."""

    GOOD = "good", _("Good")
    BETTER = "better", _("Better")
    BEST = "best", _("Best")

    @classmethod
    def rank(cls, tier: str) -> int:
        """0 for Good, 1 for Better, 2 for Best."""
        return [cls.GOOD, cls.BETTER, cls.BEST].index(cls(tier))

    @classmethod
    def includes(cls, tier: str, other: str) -> bool:
        """Whether `tier` includes everything of `other`."""
        return cls.rank(tier) >= cls.rank(other)
