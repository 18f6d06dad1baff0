#!/usr/bin/env python3
"""Generates the HR files bundled with `tenure demo`: hr-initial.csv (the workforce as of 2026-11-27) and
hr-later.csv (the same workforce as of 2027-01-04).

The output is deterministic (a fixed random seed, no clock): running `python3 generate.py` in this folder rewrites
both files byte for byte. The interesting workers (collisions, leavers, rehire, conversion, movers...) have fixed
employee IDs listed in SPECIAL below and explained in README.md; the rest of the org is filled in from name pools.
sandbox-seed.toml holds the pre-existing accounts whose employee IDs appear here (100010, 100033, 100045, 100077,
100120); keep the two in step when changing names or IDs.
"""

import csv
import random
import sys
from pathlib import Path

HEADERS = [
    "Employee ID", "First Name", "Last Name", "Preferred First Name", "Job Title", "Department", "Division",
    "Cost Center", "Office", "City", "Country", "Usage Location", "Company", "Employee Type", "Manager ID",
    "Start Date", "Last Day", "Status", "Leave Type", "Leave Start", "Leave End", "Mobile", "Time Zone",
    "Previous ID", "Keep Mailbox",
]

RNG = random.Random(20261127)

# country code -> (country name, company, mobile prefix, {city: time zone})
COUNTRIES = {
    "DE": ("Germany", "Contoso Deutschland GmbH", "+49 151",
           {"Berlin": "Europe/Berlin", "Munich": "Europe/Berlin", "Hamburg": "Europe/Berlin"}),
    "FR": ("France", "Contoso France SAS", "+33 6", {"Paris": "Europe/Paris", "Lyon": "Europe/Paris"}),
    "US": ("United States", "Contoso Inc.", "+1 212",
           {"New York": "America/New_York", "Austin": "America/Chicago", "Seattle": "America/Los_Angeles"}),
    "GB": ("United Kingdom", "Contoso UK Ltd", "+44 7700", {"London": "Europe/London", "Manchester": "Europe/London"}),
    "SE": ("Sweden", "Contoso Sverige AB", "+46 70", {"Stockholm": "Europe/Stockholm", "Gothenburg": "Europe/Stockholm"}),
    "ES": ("Spain", "Contoso Iberia S.L.", "+34 612", {"Madrid": "Europe/Madrid", "Barcelona": "Europe/Madrid"}),
    "PL": ("Poland", "Contoso Polska sp. z o.o.", "+48 501", {"Warsaw": "Europe/Warsaw", "Kraków": "Europe/Warsaw"}),
}

GIVEN = {
    "DE": ["Björn", "Lena", "Jörg", "Sören", "Käthe", "Uwe", "Maximilian", "Sophie", "Lukas", "Hannah", "Felix",
           "Marie", "Jonas", "Leonie", "Tobias", "Katharina", "Matthias", "Sabine", "Stefan", "Anja", "Dörte",
           "Günther", "Ute", "Mia", "Paul", "Jürgen", "Elisabeth", "Alexander"],
    "FR": ["François", "Amélie", "Hélène", "Léa", "Chloé", "Étienne", "Jérôme", "Céline", "Benoît", "Anaïs",
           "Noël", "Gaël", "Maëlle", "Théo", "Camille", "Louis", "Inès", "Raphaël", "Jean-Luc", "Zoë"],
    "SE": ["Åsa", "Björn", "Märta", "Göran", "Sigrún", "Oskar", "Elin", "Astrid", "Linnéa", "Håkan", "Nils",
           "Freja", "Kjell", "Maja", "Ólafur", "Søren", "Ingvild"],
    "ES": ["José", "María José", "Begoña", "Íñigo", "Martín", "Ángel", "Sofía", "Álvaro", "Nuria", "Raúl",
           "Carmen", "Jesús", "Paloma", "Ainhoa", "Javier", "Montserrat"],
    "PL": ["Łukasz", "Małgorzata", "Paweł", "Agnieszka", "Wojciech", "Zofia", "Krzysztof", "Bartłomiej", "Józef",
           "Grzegorz", "Katarzyna", "Michał", "Ewa", "Jędrzej"],
    "EN": ["Oliver", "Amelia", "Harry", "Isla", "George", "Emily", "Jack", "Charlotte", "Thomas", "Grace", "James",
           "Olivia", "Michael", "Emma", "William", "Ava", "Daniel", "Chloe", "Ethan", "Madison", "Seán", "Siobhán",
           "Niamh", "Connor", "Priya", "Rahul", "Wei", "Mei", "Aaliyah", "Jonathan"],
}
FAMILY = {
    "DE": ["Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schäfer", "Koch", "Bauer",
           "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann",
           "Hartmann", "Lange", "Köhler", "Groß", "Jäger", "Vogel", "Fuchs", "Böhm", "Krämer", "Strauß", "von Bülow"],
    "FR": ["Dubois", "Lefèvre", "Moreau", "Girard", "Rousseau", "Fontaine", "Chevalier", "Mercier", "Dupont",
           "Lambert", "Bonnet", "Garnier", "Faure", "André", "Roux", "Lemaître", "Côté", "Da Silva", "Le Guen",
           "N'Diaye"],
    "SE": ["Åberg", "Söderström", "Öberg", "Bergström", "Johansson", "Nyström", "Ekström", "Holmgren", "Wåhlin",
           "Sandberg", "Lundgren", "Kjærgaard", "Þórsson", "Østergaard", "Ahlgren", "Sjöberg"],
    "ES": ["García", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Jiménez", "Ruiz",
           "Hernández", "Muñoz", "Álvarez", "Peña", "Ibáñez", "García López", "de la Fuente"],
    "PL": ["Kowalski", "Nowak", "Wiśniewski", "Wójcik", "Kamiński", "Lewandowski", "Zieliński", "Szymański",
           "Woźniak", "Dąbrowski", "Kozłowski", "Jankowski", "Mazur", "Krawczyk", "Żak", "Błaszczyk"],
    "EN": ["Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright", "Thompson",
           "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke", "O'Brien",
           "O'Connor", "McAllister", "Patel", "Nguyen", "Chen", "Okafor", "Miller", "Davis", "Anderson"],
}
POOL = {"DE": "DE", "FR": "FR", "SE": "SE", "ES": "ES", "PL": "PL", "GB": "EN", "US": "EN"}
PREFERRED = {"Maximilian": "Max", "Katharina": "Kathi", "Alexander": "Alex", "Elisabeth": "Lisa",
             "Jonathan": "Jon", "Małgorzata": "Gosia", "Montserrat": "Montse", "Bartłomiej": "Bartek"}

DEPARTMENTS = {  # department -> (division, cost center prefix, manager title, staff titles)
    "Sales": ("Go-to-Market", "4100", "Sales Manager",
              ["Account Executive", "Account Executive", "Senior Account Executive",
               "Sales Development Representative", "Solutions Consultant"]),
    "Marketing": ("Go-to-Market", "4200", "Marketing Manager",
                  ["Marketing Coordinator", "Content Marketing Specialist", "Product Marketing Manager",
                   "Graphic Designer"]),
    "Engineering": ("Product & Technology", "5100", "Engineering Manager",
                    ["Software Engineer", "Software Engineer", "Senior Software Engineer", "Staff Engineer",
                     "QA Engineer", "Site Reliability Engineer"]),
    "Support": ("Product & Technology", "5200", "Support Manager",
                ["Support Engineer", "Support Engineer", "Senior Support Engineer", "Customer Success Manager"]),
    "Finance": ("Corporate", "6100", "Finance Manager",
                ["Accountant", "Financial Analyst", "Payroll Specialist", "Controller"]),
    "People": ("Corporate", "6200", "People Partner Lead",
               ["HR Business Partner", "Recruiter", "People Operations Specialist"]),
    "Operations": ("Corporate", "6300", "Operations Manager",
                   ["IT Administrator", "Facilities Coordinator", "Procurement Specialist", "Office Manager"]),
}
INTERN_TITLE = {"Engineering": "Software Engineering Intern", "Marketing": "Marketing Intern",
                "Sales": "Sales Intern", "Finance": "Finance Intern"}

rows = {}          # employee ID -> row dict (file 1)
teams = []         # (department, manager ID, [staff IDs])
used_names = set()
reserved = set()
next_employee = [100009]
next_contractor = [900001]


def city_country(city):
    for code, (_, _, _, cities) in COUNTRIES.items():
        if city in cities:
            return code
    raise KeyError(city)


def allocate(contractor=False):
    counter = next_contractor if contractor else next_employee
    while counter[0] in reserved:
        counter[0] += 1
    value = counter[0]
    counter[0] += 1
    return str(value)


def random_name(country):
    pool = POOL[country]
    while True:
        given, family = RNG.choice(GIVEN[pool]), RNG.choice(FAMILY[pool])
        if (given, family) not in used_names:
            return given, family


def random_date(start_year, end):
    year = RNG.randint(start_year, int(end[:4]))
    month = RNG.randint(1, 12)
    day = RNG.randint(1, 28)
    text = f"{year:04d}-{month:02d}-{day:02d}"
    return min(text, end)


def mobile(country):
    prefix = COUNTRIES[country][2]
    return f"{prefix} {RNG.randint(100, 999)} {RNG.randint(1000, 9999)}"


def add(emp_id, given, family, department, title, city, manager, employee_type="Employee", start=None,
        preferred=None, **extra):
    country = city_country(city)
    name, company, _, cities = COUNTRIES[country]
    division, cc, _, _ = DEPARTMENTS[department]
    used_names.add((given, family))
    if preferred is None and given in PREFERRED and RNG.random() < 0.5:
        preferred = PREFERRED[given]
    row = {h: "" for h in HEADERS}
    row.update({
        "Employee ID": emp_id, "First Name": given, "Last Name": family, "Preferred First Name": preferred or "",
        "Job Title": title, "Department": department, "Division": division, "Cost Center": f"{cc}-{country}",
        "Office": f"{city} Office", "City": city, "Country": name, "Usage Location": country, "Company": company,
        "Employee Type": employee_type, "Manager ID": manager or "",
        "Start Date": start or random_date(2012, "2026-10-30"), "Status": "active",
        "Mobile": mobile(country) if RNG.random() < 0.85 else "", "Time Zone": cities[city],
    })
    row.update(extra)
    assert emp_id not in rows, emp_id
    rows[emp_id] = row
    return emp_id


# ---- the interesting workers (fixed IDs; see README.md) -------------------------------------------------------
SPECIAL = {
    # leadership
    "100001": ("Jürgen", "Weiß"), "100002": ("Amélie", "Rousseau"), "100003": ("Søren", "Kjærgaard"),
    "100004": ("Charlotte", "Hughes"), "100005": ("Emily", "Carter"), "100006": ("José", "García"),
    "100007": ("Małgorzata", "Wiśniewska"), "100008": ("Thorsten", "Groß"),
    # pre-existing accounts in sandbox-seed.toml
    "100010": ("Marc", "Dubois"), "100033": ("Lucía", "Fernández"), "100045": ("Ingrid", "Lindqvist"),
    "100077": ("Henrik", "Dahl"), "100120": ("Oliver", "Bennett"),
    # collisions
    "100150": ("Anna", "Müller"), "100151": ("Anna", "Müller"), "100303": ("Anna", "Mueller"),
    "100170": ("John", "Smith"), "100171": ("John", "Smith"), "100307": ("John", "Smith"),
    # leave
    "100140": ("Léa", "Moreau"), "100160": ("Göran", "Sjöberg"),
    # leavers known in the first file
    "100088": ("Käthe", "Brandt"), "100199": ("Madison", "Reyes"),
    "100261": ("Niamh", "Gallagher"), "100262": ("Paweł", "Nowicki"), "100263": ("Begoña", "Etxeberria"),
    "900020": ("Ólafur", "Gunnarsson"),
    # contractor later converted to an employee (new ID 100313 in the second file)
    "900007": ("Wojciech", "Zając"),
    # other names worth seeing through the naming rules
    "100210": ("Ægir", "Þórsson"), "100211": ("Zoë", "Lefèvre"), "100212": ("François", "L'Hôte"),
    "100213": ("Łukasz", "Żółkiewski"), "100214": ("María José", "García López"),
}
reserved.update(int(key) for key in SPECIAL)
reserved.update(range(100300, 100320))


def person(emp_id, department, title, city, manager, **kw):
    given, family = SPECIAL[emp_id]
    return add(emp_id, given, family, department, title, city, manager, **kw)


def filler(department, title, city, manager, employee_type="Employee", **kw):
    given, family = random_name(city_country(city))
    emp_id = allocate(contractor=employee_type == "Contractor")
    return add(emp_id, given, family, department, title, city, manager, employee_type=employee_type, **kw)


ceo = person("100001", "Operations", "Chief Executive Officer", "Berlin", None, start="2012-03-01")
vps = {
    "Sales": person("100002", "Sales", "VP Sales", "Paris", ceo, start="2014-06-02"),
    "Engineering": person("100003", "Engineering", "VP Engineering", "Stockholm", ceo, start="2013-09-16"),
    "Finance": person("100004", "Finance", "Chief Financial Officer", "London", ceo, start="2016-01-11"),
    "Marketing": person("100005", "Marketing", "VP Marketing", "New York", ceo, start="2018-04-03"),
    "Support": person("100006", "Support", "VP Customer Support", "Madrid", ceo, start="2015-02-02"),
    "People": person("100007", "People", "VP People", "Warsaw", ceo, start="2019-10-01", preferred="Gosia"),
    "Operations": person("100008", "Operations", "VP Operations", "Munich", ceo, start="2014-01-06"),
}
directors = {
    "Sales EMEA": filler("Sales", "Sales Director EMEA", "Paris", vps["Sales"]),
    "Sales Americas": filler("Sales", "Sales Director Americas", "New York", vps["Sales"]),
    "Eng Platform": filler("Engineering", "Director of Engineering, Platform", "Berlin", vps["Engineering"]),
    "Eng Product": filler("Engineering", "Director of Engineering, Product", "Kraków", vps["Engineering"]),
}

# (department, city, reports to, staff count, contractors, interns)
TEAM_PLAN = [
    ("Sales", "Berlin", "Sales EMEA", 10, 0, 1), ("Sales", "Paris", "Sales EMEA", 8, 0, 0),
    ("Sales", "London", "Sales EMEA", 9, 0, 0), ("Sales", "Stockholm", "Sales EMEA", 6, 0, 0),
    ("Sales", "Madrid", "Sales EMEA", 6, 0, 0), ("Sales", "Warsaw", "Sales EMEA", 5, 0, 0),
    ("Sales", "New York", "Sales Americas", 10, 0, 0), ("Sales", "Austin", "Sales Americas", 8, 1, 0),
    ("Engineering", "Berlin", "Eng Platform", 10, 2, 1), ("Engineering", "Munich", "Eng Platform", 8, 1, 0),
    ("Engineering", "Stockholm", "Eng Platform", 8, 1, 0), ("Engineering", "Seattle", "Eng Platform", 9, 2, 1),
    ("Engineering", "Kraków", "Eng Product", 9, 3, 1), ("Engineering", "Warsaw", "Eng Product", 7, 1, 0),
    ("Engineering", "Barcelona", "Eng Product", 8, 1, 0), ("Engineering", "Manchester", "Eng Product", 7, 1, 0),
    ("Support", "Madrid", None, 8, 0, 0), ("Support", "Hamburg", None, 7, 1, 0),
    ("Support", "Austin", None, 7, 1, 0), ("Support", "Gothenburg", None, 6, 0, 0),
    ("Marketing", "New York", None, 7, 1, 1), ("Marketing", "Paris", None, 6, 0, 0),
    ("Marketing", "London", None, 5, 1, 0),
    ("Finance", "London", None, 7, 0, 1), ("Finance", "Berlin", None, 5, 0, 0), ("Finance", "New York", None, 4, 0, 0),
    ("People", "Warsaw", None, 4, 0, 0), ("People", "Berlin", None, 4, 0, 0), ("People", "New York", None, 3, 0, 0),
    ("Operations", "Munich", None, 6, 1, 0), ("Operations", "Stockholm", None, 4, 0, 0),
    ("Operations", "Lyon", None, 3, 0, 0), ("Operations", "Seattle", None, 4, 0, 0),
]

# Special staff placed in particular teams: (department, city) -> [(ID, title, extra columns)]
PLACED = {
    ("Sales", "Berlin"): [("100088", "Senior Account Executive",
                           {"Last Day": "2026-12-11", "Keep Mailbox": "yes", "Start Date": "2017-05-02"})],
    ("Sales", "New York"): [("100170", "Account Executive", {})],
    ("Engineering", "Berlin"): [("100150", "Software Engineer", {})],
    ("Engineering", "Manchester"): [("100171", "Senior Software Engineer", {})],
    ("Engineering", "Stockholm"): [
        ("100160", "Staff Engineer", {"Status": "leave", "Leave Type": "sabbatical",
                                      "Leave Start": "2026-11-02", "Leave End": "2027-03-31"}),
        ("100210", "Site Reliability Engineer", {})],
    ("Engineering", "Kraków"): [("900007", "Software Engineer", {"Employee Type": "Contractor",
                                                                  "Start Date": "2025-09-01"}),
                                ("100213", "Senior Software Engineer", {})],
    ("Engineering", "Warsaw"): [("100262", "QA Engineer", {"Status": "terminated", "Last Day": "2026-11-13"})],
    ("Engineering", "Barcelona"): [("100214", "Software Engineer", {})],
    ("Support", "Madrid"): [("100033", "Support Engineer", {"Start Date": "2026-11-23"}),
                            ("100263", "Support Engineer", {"Status": "terminated", "Last Day": "2026-11-25"})],
    ("Support", "Gothenburg"): [("100045", "Senior Support Engineer", {"Start Date": "2019-03-04"})],
    ("Support", "Austin"): [("100199", "Customer Success Manager", {"Last Day": "2026-12-18"})],
    ("Marketing", "Paris"): [("100140", "Content Marketing Specialist",
                              {"Status": "leave", "Leave Type": "parental", "Leave Start": "2026-09-07",
                               "Leave End": "2026-12-31"}),
                             ("100211", "Graphic Designer", {})],
    ("Marketing", "London"): [("100261", "Marketing Coordinator", {"Status": "terminated",
                                                                   "Last Day": "2026-10-30"})],
    ("Finance", "London"): [("100120", "Financial Analyst", {"Start Date": "2020-07-01"})],
    ("Finance", "Berlin"): [("100151", "Accountant", {})],
    ("Operations", "Stockholm"): [("100077", "IT Administrator", {"Status": "terminated", "Last Day": "2026-11-20",
                                                                  "Keep Mailbox": "yes",
                                                                  "Start Date": "2018-08-13"}),
                                  ("900020", "Facilities Coordinator", {"Employee Type": "Contractor",
                                                                        "Status": "terminated",
                                                                        "Last Day": "2026-11-14"})],
    ("Operations", "Lyon"): [("100212", "Office Manager", {})],
}
MANAGER_OF_TEAM = {("Sales", "Paris"): "100010"}  # Marc Dubois, a pre-existing account

for department, city, boss, size, contractors, interns in TEAM_PLAN:
    division, cc, manager_title, titles = DEPARTMENTS[department]
    above = directors[boss] if boss else vps[department]
    if (department, city) in MANAGER_OF_TEAM:
        manager = person(MANAGER_OF_TEAM[(department, city)], department, manager_title, city, above,
                         start="2016-10-03")
    else:
        manager = filler(department, manager_title, city, above)
    staff = []
    for emp_id, title, extra in PLACED.get((department, city), []):
        staff.append(person(emp_id, department, title, city, manager, **extra))
    for _ in range(size):
        staff.append(filler(department, RNG.choice(titles), city, manager))
    for _ in range(contractors):
        staff.append(filler(department, RNG.choice(titles), city, manager, employee_type="Contractor",
                            **{"Start Date": random_date(2024, "2026-10-30")}))
    for _ in range(interns):
        staff.append(filler(department, INTERN_TITLE[department], city, manager, employee_type="Intern",
                            **{"Start Date": random_date(2026, "2026-10-15")}))
    teams.append((department, city, manager, staff))


def team(department, city):
    return next(t for t in teams if t[0] == department and t[1] == city)


# A few German rows without a time zone: the policy's default_time_zone applies.
for emp_id in [t for t in team("Finance", "Berlin")[3] if t not in SPECIAL][:2]:
    rows[emp_id]["Time Zone"] = ""

# ---- future hires (first file): start dates after 2026-11-27 ------------------------------------------------------
FUTURE = [  # (ID, department, city, title, start, status)
    ("100301", "Sales", "London", "Account Executive", "2026-12-01", "pre-hire"),
    ("100302", "Engineering", "Berlin", "Software Engineer", "2026-12-01", "pre-hire"),
    ("100303", "People", "Berlin", "Recruiter", "2026-12-07", "pre-hire"),
    ("100304", "Support", "Hamburg", "Support Engineer", "2026-12-07", ""),
    ("100305", "Finance", "New York", "Financial Analyst", "2026-12-14", "pre-hire"),
    ("100306", "Marketing", "New York", "Marketing Coordinator", "2026-12-14", ""),
    ("100307", "Support", "Austin", "Support Engineer", "2027-01-04", "pre-hire"),
    ("100308", "Engineering", "Kraków", "QA Engineer", "2027-01-04", ""),
    ("100309", "Sales", "Madrid", "Sales Development Representative", "2027-01-11", "pre-hire"),
    ("100310", "Engineering", "Seattle", "Site Reliability Engineer", "2027-01-15", "pre-hire"),
]
FUTURE_NAMES = {"100301": ("Isla", "Fraser"), "100302": ("Jonas", "Weißenborn"), "100304": ("Dörte", "Öztürk"),
                "100305": ("Aaliyah", "Brooks"), "100306": ("Seán", "Ó Briain"), "100308": ("Zofia", "Wróbel"),
                "100309": ("Íñigo", "Urquijo"), "100310": ("Mei", "Takahashi")}
SPECIAL.update(FUTURE_NAMES)
for emp_id, department, city, title, start, status in FUTURE:
    manager = team(department, city)[2]
    given, family = SPECIAL[emp_id]
    add(emp_id, given, family, department, title, city, manager, start=start, Status=status)

initial = {k: dict(v) for k, v in rows.items()}

# ---- the second file: the same workforce on 2027-01-04 --------------------------------------------------------------
later = {k: dict(v) for k, v in rows.items()}
for emp_id, *_ in FUTURE:
    if later[emp_id]["Start Date"] <= "2027-01-04":
        later[emp_id]["Status"] = "active"
for emp_id in ["100088", "100199"]:  # leavers whose last day was still ahead on 2026-11-27
    later[emp_id]["Status"] = "terminated"
later["100140"].update({"Status": "active", "Leave Type": "", "Leave Start": "", "Leave End": ""})

ordinary = {k for k, v in rows.items() if k not in SPECIAL and v["Status"] == "active"
            and v["Employee Type"] != "Intern" and not v["Last Day"]}
managers = {v["Manager ID"] for v in rows.values()}


def pick(department, city, skip=0, contractor=False):
    candidates = [s for s in team(department, city)[3] if s in ordinary and s not in managers
                  and (rows[s]["Employee Type"] == "Contractor") == contractor]
    chosen = candidates[skip]
    ordinary.discard(chosen)
    return chosen


movers = {}
# Promotion: a Berlin engineer becomes an engineering manager and four of the team move under them.
promoted = pick("Engineering", "Berlin")
later[promoted].update({"Job Title": "Engineering Manager", "Manager ID": directors["Eng Platform"]})
movers[promoted] = "promoted to Engineering Manager (now reports to the Platform director)"
for _ in range(4):
    report = pick("Engineering", "Berlin")
    later[report]["Manager ID"] = promoted
    movers[report] = f"new manager {promoted} (the newly promoted engineering manager)"
# Support -> Sales in Madrid.
mover = pick("Support", "Madrid")
later[mover].update({"Department": "Sales", "Division": "Go-to-Market", "Cost Center": "4100-ES",
                     "Job Title": "Solutions Consultant", "Manager ID": team("Sales", "Madrid")[2]})
movers[mover] = "Support -> Sales (Solutions Consultant), new manager"
# Title change only.
mover = pick("Sales", "New York")
later[mover]["Job Title"] = "Senior Account Executive"
movers[mover] = "promoted to Senior Account Executive (same manager)"
# Relocation Barcelona -> Berlin: country, usage location, time zone, company, cost center and manager change.
mover = pick("Engineering", "Barcelona")
berlin = dict(rows[team("Engineering", "Berlin")[2]])
later[mover].update({k: berlin[k] for k in ["Office", "City", "Country", "Usage Location", "Company", "Time Zone"]})
later[mover].update({"Cost Center": "5100-DE", "Manager ID": team("Engineering", "Berlin")[2],
                     "Mobile": mobile("DE")})
movers[mover] = "relocated Barcelona -> Berlin (usage location ES -> DE, new manager)"
# Title change in Marketing.
mover = pick("Marketing", "New York")
later[mover]["Job Title"] = "Product Marketing Manager"
movers[mover] = "new job title Product Marketing Manager"
# Finance -> Operations.
mover = pick("Finance", "New York")
later[mover].update({"Department": "Operations", "Cost Center": "6300-US", "Job Title": "Procurement Specialist",
                     "Office": "Seattle Office", "City": "Seattle", "Time Zone": "America/Los_Angeles",
                     "Manager ID": team("Operations", "Seattle")[2]})
movers[mover] = "Finance -> Operations, moved New York -> Seattle, new manager"

# New leavers with a last day in December.
new_leavers = {}
for (department, city, contractor), last_day, keep in [
    (("Sales", "London", False), "2026-12-02", "yes"), (("Engineering", "Munich", False), "2026-12-04", ""),
    (("Support", "Hamburg", False), "2026-12-11", ""), (("Marketing", "Paris", False), "2026-12-15", ""),
    (("Engineering", "Seattle", True), "2026-12-18", ""), (("Sales", "Stockholm", False), "2026-12-22", ""),
    (("Finance", "London", False), "2026-12-31", ""), (("Operations", "Munich", False), "2026-12-31", ""),
]:
    leaver = pick(department, city, contractor=contractor)
    later[leaver].update({"Status": "terminated", "Last Day": last_day, "Keep Mailbox": keep})
    new_leavers[leaver] = (last_day, keep)

# Contractor 900007 becomes employee 100313.
converted = dict(later.pop("900007"))
converted.update({"Employee ID": "100313", "Employee Type": "Employee", "Start Date": "2027-01-04",
                  "Previous ID": "900007", "Company": "Contoso Polska sp. z o.o."})
later["100313"] = converted
# Two new hires.
for emp_id, (given, family), department, city, title, start, status in [
    ("100311", ("Linnéa", "Åkesson"), "Engineering", "Stockholm", "Software Engineer", "2027-01-11", "pre-hire"),
    ("100312", ("Renée", "Beaumont"), "Marketing", "Paris", "Content Marketing Specialist", "2027-02-01", ""),
]:
    add(emp_id, given, family, department, title, city, team(department, city)[2], start=start,
        Status=status)
    later[emp_id] = rows.pop(emp_id)


def write(path, data):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADERS, lineterminator="\n")
        writer.writeheader()
        for key in sorted(data, key=lambda k: (k.startswith("9"), k)):
            writer.writerow(data[key])


here = Path(__file__).resolve().parent
write(here / "hr-initial.csv", initial)
write(here / "hr-later.csv", later)

summary = sys.stderr
print(f"hr-initial.csv: {len(initial)} rows; hr-later.csv: {len(later)} rows", file=summary)
print("movers:", file=summary)
for k, v in movers.items():
    print(f"  {k} {later[k]['First Name']} {later[k]['Last Name']}: {v}", file=summary)
print("new leavers:", file=summary)
for k, (day, keep) in new_leavers.items():
    print(f"  {k} {later[k]['First Name']} {later[k]['Last Name']} ({later[k]['Employee Type']}): last day {day}"
          f"{' keep mailbox' if keep else ''}", file=summary)
