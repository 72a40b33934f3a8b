"""Demo data of the email channel and surveys: client mail domains, tickets opened by email (through the
real inbound path), technician replies, closed tickets with survey answers spread over three months, and
one message waiting in triage."""

from __future__ import annotations

import random
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from django.apps import apps
from django.utils import timezone

EMAILS = [
    ("Imprimante hors ligne", "Bonjour,\n\nL'imprimante de l'accueil n'imprime plus depuis ce matin.\n\nMerci"),
    ("Mot de passe expiré", "Bonjour, mon mot de passe Windows a expiré et je ne peux plus me connecter."),
    ("VPN impossible depuis la maison", "Le VPN refuse la connexion : « délai dépassé ». Pouvez-vous regarder ?"),
    ("Nouvel arrivant lundi", "Bonjour, nous accueillons une nouvelle assistante lundi : poste, messagerie, accès."),
    ("Messagerie lente", "Outlook met plusieurs minutes à s'ouvrir sur mon poste."),
    ("Écran qui clignote", "Mon deuxième écran clignote par intermittence."),
    ("Partage réseau inaccessible", "Le lecteur P: n'apparaît plus sur les postes du secrétariat."),
    ("Devis licences", "Pourriez-vous nous faire un devis pour cinq licences supplémentaires ?"),
]
COMMENTS = ["Très réactif, merci !", "Problème réglé rapidement.", "", "Un peu long mais efficace.",
            "Parfait, explications claires.", ""]


def seed_servicedesk_email(rng: random.Random, clients: list[Any], technicians: list[Any]) -> None:
    """Email-sourced tickets and survey answers for the first clients."""
    if not apps.is_installed("tenfold.servicedesk") or not technicians:
        return
    from tenfold.servicedesk.email_inbound import apply_email
    from tenfold.servicedesk.models import Ticket, TicketStatus
    from tenfold.servicedesk.models_email import ClientEmailDomain
    from tenfold.servicedesk.models_surveys import SurveyResponse
    from tenfold.servicedesk.services import ticket_reply, ticket_set_status
    from tenfold.servicedesk.surveys import open_survey, survey_answer

    now = timezone.now()
    for index, client in enumerate(clients[:6]):
        contacts = list(client.contacts.exclude(email="").order_by("pk")[:3])
        if not contacts:
            continue
        domain = contacts[0].email.rpartition("@")[2]
        ClientEmailDomain.objects.get_or_create(domain=domain, defaults={"client": client})
        for n in range(3):
            subject, body = EMAILS[(index * 3 + n) % len(EMAILS)]
            contact = contacts[n % len(contacts)]
            msg = EmailMessage()
            msg["From"] = f"{contact.full_name} <{contact.email}>"
            msg["To"] = "support@demo-msp.example"
            msg["Subject"] = subject
            msg["Message-ID"] = f"<demo-{client.pk}-{n}@{domain}>"
            msg.set_content(body)
            record = apply_email(msg.as_bytes(), channel="imap")
            ticket = Ticket.objects.filter(pk=record.ticket_id).first() if record.ticket_id else None
            if ticket is None:
                continue
            tech = technicians[(index + n) % len(technicians)]
            Ticket.objects.filter(pk=ticket.pk).update(assignee=tech)
            ticket.refresh_from_db()
            ticket_reply(actor=tech, ticket=ticket, body="Bonjour, nous prenons en charge votre demande.",
                         public=True)
            if n == 2:
                continue  # stays open
            ticket_set_status(actor=tech, ticket=ticket, status=TicketStatus.CLOSED)
            survey = open_survey(ticket)
            created = now - timedelta(days=rng.randint(1, 85))
            SurveyResponse.objects.filter(pk=survey.pk).update(created_at=created, sent_at=created,
                                                               expires_at=created + timedelta(days=14))
            if rng.random() < 0.7:
                survey.refresh_from_db()
                survey.expires_at = now + timedelta(days=1)
                SurveyResponse.objects.filter(pk=survey.pk).update(expires_at=survey.expires_at)
                survey_answer(survey=survey, data={
                    "professionalism": rng.randint(3, 5), "accuracy": rng.randint(3, 5), "speed": rng.randint(2, 5),
                    "comment": rng.choice(COMMENTS)})
                SurveyResponse.objects.filter(pk=survey.pk).update(
                    answered_at=created + timedelta(hours=rng.randint(1, 48)),
                    expires_at=created + timedelta(days=14))
    stray = EmailMessage()
    stray["From"] = "Jean Nouveau <jean@nouveau-client.example>"
    stray["To"] = "support@demo-msp.example"
    stray["Subject"] = "Demande d'information sur vos services"
    stray["Message-ID"] = "<demo-triage-1@nouveau-client.example>"
    stray.set_content("Bonjour, nous cherchons un prestataire informatique pour nos 12 postes.")
    apply_email(stray.as_bytes(), channel="smtp")
