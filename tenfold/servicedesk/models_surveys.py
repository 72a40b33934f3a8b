"""Satisfaction surveys: one per closed ticket, sent to its contact, answered once."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tenfold.core.models import TimeStampedModel
from tenfold.core.tenancy import ClientOwnedQuerySet

SCORE_VALIDATORS = [MinValueValidator(1), MaxValueValidator(5)]


class SurveyResponse(TimeStampedModel):
    """The survey of one closed ticket: sent to the contact, then (maybe) answered with three 1–5 scores.

    The technician is the ticket's assignee when it closed: the results roll up per technician."""

    client = models.ForeignKey("clients.Client", verbose_name=_("client"), on_delete=models.CASCADE,
                               related_name="+")
    ticket = models.OneToOneField("servicedesk.Ticket", verbose_name=_("ticket"), on_delete=models.CASCADE,
                                  related_name="survey")
    contact = models.ForeignKey("clients.Contact", verbose_name=_("contact"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    technician = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("technician"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True, db_index=True)
    professionalism = models.PositiveSmallIntegerField(_("professionalism"), null=True, blank=True,
                                                       validators=SCORE_VALIDATORS)
    accuracy = models.PositiveSmallIntegerField(_("accuracy"), null=True, blank=True, validators=SCORE_VALIDATORS)
    speed = models.PositiveSmallIntegerField(_("speed"), null=True, blank=True, validators=SCORE_VALIDATORS)
    comment = models.TextField(_("comment"), blank=True)
    answered_by_user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("answered by"), null=True,
                                         blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = ClientOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        constraints = [models.CheckConstraint(
            condition=models.Q(answered_at__isnull=True) | (
                models.Q(professionalism__gte=1, professionalism__lte=5, accuracy__gte=1, accuracy__lte=5,
                         speed__gte=1, speed__lte=5)),
            name="servicedesk_survey_scores_1_5",
            violation_error_message=_("Each score is between 1 and 5."))]

    def __str__(self) -> str:
        return f"{self.ticket_id}"

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None

    @property
    def average(self) -> float | None:
        if not self.is_answered:
            return None
        return round(((self.professionalism or 0) + (self.accuracy or 0) + (self.speed or 0)) / 3, 2)
