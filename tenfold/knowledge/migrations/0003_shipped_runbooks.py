"""The runbooks shipped with Tenfold: the company-wide "how we work" standard and four task templates
(workstation setup, security baseline, application deployment, new user onboarding), with their categories.
Each is version 1 of an ordinary runbook: the MSP edits it like any other (every save is a new version).
Existing rows with the same slug are left alone, so the migration never overwrites an MSP's edits."""

from django.db import migrations
from django.utils import timezone

CATEGORIES = [
    ("company", "Company", "How the MSP works, for everyone.", 0),
    ("workstations", "Workstations", "Set-up and care of client computers.", 10),
    ("security", "Security", "Baselines and hardening.", 20),
    ("applications", "Applications", "Installing and updating business software.", 30),
    ("users", "Users", "Arrivals, changes and departures of client staff.", 40),
]

RUNBOOKS = [
    {
        "slug": "how-we-work", "title": "How we work", "kind": "how_we_work", "category": "company",
        "body": """Our standard for every piece of work, for every client.

## Tickets
- **Every piece of work has a ticket.** A phone call, an e-mail, an alert: open or link a ticket before you
  start, so the time, the client and the history are in one place.
- **Acknowledge fast, then keep the client informed.** The first response target of the client's SLA is a
  promise; a status change to *waiting on client* says what we wait for.
- **Write for the next technician.** Ten seconds describing what you found and what you did saves the next
  one ten minutes. Resolution notes say the cause and the fix, not "fixed".

## Time
- Log time on the ticket as you go (use the timer). Billable or not is decided by the contract, not by you.

## Documentation
- Changed something at a client? Update the client's documentation (network, key applications) the same
  day and mark it reviewed when you checked the whole page.
- Passwords live in the vault, never in tickets, notes or e-mails. Revealing one is recorded.

## Procedures
- Follow the runbook when there is one; when it is wrong, fix the runbook (a new version is kept, the old
  one stays in the history).
""",
        "steps": [],
    },
    {
        "slug": "workstation-setup", "title": "Workstation setup", "kind": "template", "category": "workstations",
        "body": """Prepare a new Windows or macOS workstation for a client user.

## Before you start
- The ticket names the user, the site and the device's asset tag.
- The client's documentation lists the standard software (key applications) and the network.

## Notes
- Name the computer `<CLIENT>-<SITE>-<ASSET TAG>`.
- Keep the disk encryption recovery key in the vault, under the client.
""",
        "steps": [
            ("Record the serial number and asset tag on the device", True),
            ("Install operating system updates until none remain", True),
            ("Rename the computer following the naming rule", True),
            ("Join the domain or enrol the device in device management", True),
            ("Install the Tenfold agent with the client's enrolment token", True),
            ("Enable disk encryption and store the recovery key in the vault", True),
            ("Install the client's standard applications", True),
            ("Configure the printers of the user's site", False),
            ("Sign in as the user and check e-mail, files and printing", True),
        ],
    },
    {
        "slug": "security-baseline", "title": "Security baseline", "kind": "template", "category": "security",
        "body": """The minimum security settings of every managed device and account.

## Scope
All workstations and servers under a managed-services contract. Deviations are written in the client's
documentation with the reason and who accepted them.
""",
        "steps": [
            ("Antivirus installed, running and reporting to the console", True),
            ("Firewall enabled on every network profile", True),
            ("Disk encryption enabled; recovery key in the vault", True),
            ("Automatic patching policy applied (see the client's baseline)", True),
            ("Local administrator password unique and stored in the vault", True),
            ("Multi-factor authentication enforced for e-mail and remote access", True),
            ("Screen locks after 10 minutes of inactivity", True),
            ("Backups of the device or its data verified by a test restore", False),
        ],
    },
    {
        "slug": "application-deployment", "title": "Application deployment", "kind": "template",
        "category": "applications",
        "body": """Install or update a business application for a client.

## Plan
- Check the vendor's requirements and the licence count against the client's documentation.
- Agree a window with the client for anything that needs a restart or downtime.

## Roll back
Keep the previous installer and the data backup until the client confirms the new version works.
""",
        "steps": [
            ("Check requirements and licences", True),
            ("Back up the application's data and settings", True),
            ("Install on one pilot device and test with a key user", True),
            ("Deploy to the remaining devices", True),
            ("Update the key applications page of the client's documentation", True),
            ("Confirm with the client and record the version in the ticket", True),
        ],
    },
    {
        "slug": "new-user-onboarding", "title": "New user onboarding", "kind": "template", "category": "users",
        "body": """Give a new member of the client's staff everything they need on day one.

## Information needed
Name, job title, start date, manager, site, the groups and shared mailboxes they need, and the device
they will use (a workstation setup ticket if a new one is needed).
""",
        "steps": [
            ("Create the user account with the client's naming rule", True),
            ("Assign licences (e-mail, office suite)", True),
            ("Add to the groups, shared mailboxes and distribution lists", True),
            ("Enrol multi-factor authentication with the user", True),
            ("Prepare or assign the workstation", True),
            ("Add the user as a contact of the client in Tenfold", False),
            ("Send the welcome e-mail with how to reach the service desk", True),
        ],
    },
]


def install(apps, schema_editor):
    Category = apps.get_model("knowledge", "RunbookCategory")
    Runbook = apps.get_model("knowledge", "Runbook")
    Step = apps.get_model("knowledge", "RunbookStep")
    Version = apps.get_model("knowledge", "RunbookVersion")
    Document = apps.get_model("knowledge", "SearchDocument")
    categories = {}
    for slug, name, description, position in CATEGORIES:
        categories[slug], _created = Category.objects.get_or_create(
            slug=slug, defaults={"name": name, "description": description, "position": position})
    now = timezone.now()
    for spec in RUNBOOKS:
        if Runbook.objects.filter(slug=spec["slug"]).exists():
            continue
        runbook = Runbook.objects.create(slug=spec["slug"], title=spec["title"], kind=spec["kind"],
                                         category=categories[spec["category"]], body_markdown=spec["body"],
                                         current_version=1, created_at=now)
        for position, (text, required) in enumerate(spec["steps"], start=1):
            Step.objects.create(runbook=runbook, position=position, text=text, required=required)
        Version.objects.create(runbook=runbook, number=1, title=spec["title"], body_markdown=spec["body"],
                               summary="Shipped with Tenfold", created_at=now,
                               steps=[{"position": i, "text": t, "required": r}
                                      for i, (t, r) in enumerate(spec["steps"], start=1)])
        Document.objects.create(kind="runbook", object_id=runbook.pk, client=None, title=spec["title"],
                                body=spec["body"] + "\n" + "\n".join(t for t, _r in spec["steps"]),
                                url=f"/knowledge/runbooks/{runbook.pk}/", updated_at=now)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0002_search_index")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
