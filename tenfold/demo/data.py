"""Fixed material for the demo MSP: names, cities, roles. Deterministic choices come from a seeded RNG."""

from __future__ import annotations

ORGANIZATION_NAME = "Atelier Numérique Services"
DEMO_PASSWORD = "demo-tenfold-2026"
STAFF_DOMAIN = "atelier-numerique.example"

# (email local part, first name, last name, role, job title, hourly cost, bill rate, restricted client count)
STAFF = [
    ("owner", "Hélène", "Garnier", "owner", "Managing director", "62.00", "120.00", 0),
    ("admin", "Julien", "Moreau", "admin", "Operations lead", "48.00", "95.00", 0),
    ("service", "Sophie", "Lambert", "service_manager", "Service desk manager", "42.00", "90.00", 0),
    ("tech", "Karim", "Benali", "technician", "Senior technician", "34.00", "85.00", 0),
    ("tech2", "Lucie", "Fontaine", "technician", "Technician", "29.00", "75.00", 0),
    ("tech3", "Thomas", "Petit", "technician", "Field technician", "27.00", "75.00", 3),
    ("sales", "Camille", "Rousseau", "account_manager", "Account manager", "38.00", "0.00", 0),
    ("sales2", "Antoine", "Mercier", "account_manager", "Account manager", "36.00", "0.00", 0),
    ("finance", "Nathalie", "Girard", "finance", "Finance & billing", "35.00", "0.00", 0),
]

CLIENTS = [
    ("Boulangerie Martin SARL", "boulangerie-martin", "active", "Artisan bakery, 3 shops."),
    ("Cabinet Dupuis Avocats", "cabinet-dupuis", "active", "Law firm; confidentiality matters most."),
    ("Clinique Vétérinaire des Tilleuls", "clinique-tilleuls", "active", "Vet clinic with imaging workstation."),
    ("Transports Lefèvre & Fils", "transports-lefevre", "active", "Haulage company, 40 drivers on tablets."),
    ("Agence Immobilière Horizon", "agence-horizon", "active", "Three agencies, mostly laptops."),
    ("Pharmacie du Centre", "pharmacie-centre", "active", "Pharmacy; regulated data."),
    ("Bureau d'Études Structura", "structura", "active", "Engineering office, CAD workstations."),
    ("Hôtel Les Terrasses", "hotel-terrasses", "active", "Hotel, 45 rooms, guest Wi-Fi."),
    ("Expertise Comptable Roux", "roux-expertise", "active", "Accounting firm, busy season Jan–May."),
    ("Menuiserie Blanc", "menuiserie-blanc", "prospect", "Carpentry workshop, asked for a quote."),
    ("École Montessori Les Lucioles", "lucioles", "prospect", "Private school, 12 staff."),
    ("Garage Perrin Automobiles", "garage-perrin", "former", "Left after the owner retired."),
]

CITIES = [
    ("Lyon", "69002"), ("Villeurbanne", "69100"), ("Grenoble", "38000"), ("Annecy", "74000"),
    ("Chambéry", "73000"), ("Saint-Étienne", "42000"), ("Valence", "26000"), ("Bourg-en-Bresse", "01000"),
]
STREETS = ["rue de la République", "avenue Jean Jaurès", "boulevard des Belges", "rue Victor Hugo",
           "place Bellecour", "rue du Président Carnot", "quai Saint-Antoine", "rue Garibaldi"]
SITE_NAMES = ["Head office", "Workshop", "Warehouse", "Branch"]
FIRST_NAMES = ["Claire", "Marc", "Isabelle", "Pierre", "Émilie", "Nicolas", "Aurélie", "François", "Manon",
               "Olivier", "Chloé", "Sébastien", "Julie", "Laurent", "Sarah", "Mathieu", "Céline", "Hugo"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Michel",
              "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André"]
JOB_TITLES = ["Office manager", "Accountant", "Receptionist", "Operations manager", "Assistant",
              "IT referent", "Sales lead"]

# The client whose service slips over the last year of the demo history (checks, alerts, patches, SLA).
WORSENING_CLIENT = "Hôtel Les Terrasses"
