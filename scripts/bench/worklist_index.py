"""The reporting worklist benchmark's configuration and its 100,000 items, inserted directly into
the gateway's SQLite index (not through ingest): sites, skills, states and times as a busy
network has them, with nothing the review would act on at start (no scheduled item with a skill,
allocated items inside grace, past escalation and deadline already marked)."""
import json
import random
import sqlite3
import time

SKILLS = ["neuro", "chest", "msk", "body", "cardiac", "paeds"]
SITES = [f"SITE{i + 1:02d}" for i in range(20)]
ORIGINS = ["TRUST1", "TRUST2", "TRUST3", "TRUST4"]
DEADLINES = {3: 3600.0, 2: 4 * 3600.0, 1: 7 * 86400.0, 0: 28 * 86400.0}  # the defaults per class
GRACE = "12h"  # allocated items below were allocated within the last 6 h: none is stalled
ORPHAN_AFTER = 14 * 86400.0


def site_skills(i):
    """Two or three skills per site, so each skill has six to eight sites."""
    skills = [SKILLS[i % 6], SKILLS[(i + 2) % 6]]
    if i % 3 == 0:
        skills.append(SKILLS[(i + 3) % 6])
    return skills


def site_capacity(i):
    return 10 + 5 * (i % 4)


def sites_with(skill):
    return [SITES[i] for i in range(len(SITES)) if skill in site_skills(i)]


def config_yaml(workdir, port, http, reporting=True, level="info"):
    """The gateway's configuration: four source trusts (TRUST1 is the bench's storescu, AE BENCH),
    20 on-demand reporter sites (role reporter only: the sites retrieve, the gateway sends them
    nothing, so no peer has to listen on their ports) and, with reporting, six rules: five by
    StudyDescription and a last one for every other image."""
    lines = [f"gateway: {{ ae_title: NETGW, port: {port}, max_associations: 32 }}",
             f"storage: {{ path: {workdir}/gateway-storage, min_free_space: 0B }}",
             f"http: {{ port: {http} }}",
             f"logging: {{ level: {level}, format: json }}",
             "nodes:"]
    for n, origin in enumerate(ORIGINS):
        ae = "BENCH" if n == 0 else f"BENCH_{origin}"
        lines.append(f"  {origin}: {{ ae_title: {ae}, roles: [source] }}")
    for i, site in enumerate(SITES):
        lines.append(f"  {site}: {{ ae_title: {site}, host: 127.0.0.1, port: {20000 + i}, roles: [reporter], "
                     f"reporting: {{ skills: [{', '.join(site_skills(i))}], capacity: {site_capacity(i)}, on_demand: true }} }}")
    if reporting:
        lines += ["reporting:", f"  grace: {GRACE}", "  rules:"]
        for skill in SKILLS[:-1]:
            lines.append(f'    - {{ name: {skill}, when: {{ StudyDescription: "~(?i){skill}" }}, skill: {skill} }}')
        lines.append(f"    - {{ name: other-images, when: {{ category: image }}, skill: {SKILLS[-1]} }}")
    return "\n".join(lines) + "\n"


def explanation(rng, chosen, skill, decided):
    """An allocation decision as the gateway keeps it (Allocator.Decision.json: sorted keys, snake
    case, one candidate per site), so rows are as wide as the gateway's own (~5 KB)."""
    candidates = []
    for i, site in enumerate(SITES):
        has = skill in site_skills(i)
        open_effort = round(rng.uniform(200, 6000), 1)
        candidates.append({
            "capacity": float(site_capacity(i)), "eligible": has, "has_skill": has, "in_hours": True,
            "load_after": round((open_effort + 1) / site_capacity(i), 4), "note": "chosen" if site == chosen else
            (f"load after {(open_effort + 1) / site_capacity(i):.2f}, above 1.00" if has else f"does not report {skill}"),
            "open_effort": open_effort, "passed_over": False, "preferred": False, "reachable": True, "site": site})
    return json.dumps({"candidates": candidates, "chosen": chosen, "decided_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(decided)),
                       "reason": f"{chosen} has the lowest load after taking it (1.00 of its 10 per hour)"}, sort_keys=True,
                      separators=(",", ":"))


def populate(path, count, now, seed=11):
    """Inserts `count` items with their history. Returns the count per state and kind."""
    rng = random.Random(seed)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    tally = {}
    items, events = [], []
    next_id = (db.execute("SELECT COALESCE(MAX(id), 0) FROM worklist_item").fetchone()[0]) + 1
    for n in range(count):
        item_id = next_id + n
        skill = rng.choice(SKILLS)
        site = rng.choice(sites_with(skill))
        priority = rng.choices([3, 2, 1, 0], weights=[2, 8, 80, 10])[0]
        span = DEADLINES[priority]
        effort = rng.choice([0.2, 0.5, 1.0, 1.0, 1.0, 2.0])
        row = {"id": item_id, "studyUID": f"1.2.826.0.1.3680043.8.1055.90.{item_id}", "origin": rng.choice(ORIGINS),
               "patientID": f"P{rng.randrange(40000):06d}", "priority": priority, "skill": skill, "effort": effort,
               "rule": skill if skill != SKILLS[-1] else "other-images", "site": site, "state": "allocated",
               "allocatedAt": None, "startedAt": None, "reportedAt": None, "reportedBy": "", "returnedAt": None,
               "cancelledAt": None, "escalatedAt": None, "overdueAt": None, "orphan": None, "flag": "", "explanation": ""}
        r = rng.random()
        if r < 0.74:  # open: allocated or in progress, 5% of them overdue
            row["state"] = "in_progress" if r < 0.54 else "allocated"
            if rng.random() < 0.05:
                arrived = now - span - rng.uniform(60, 3 * 86400)
                kind = "open, overdue"
            else:  # deadline at least an hour away: nothing falls due while the bench runs
                arrived = now - rng.uniform(0, max(span - 3600, 60))
                kind = "open"
            row["allocatedAt"] = max(arrived + 5, now - rng.uniform(60, 6 * 3600))
            if row["state"] == "in_progress":
                row["startedAt"] = min(now, row["allocatedAt"] + rng.uniform(30, 1800))
            kind = f"{row['state']} ({kind})"
        elif r < 0.76:  # orphan: a study no rule matched and nobody reported
            arrived = now - ORPHAN_AFTER - rng.uniform(0, 30 * 86400)
            row.update(state="scheduled", skill="", effort=1.0, rule=None, site=None, priority=1, orphan="no_rule",
                       flag="matched no reporting rule")
            span = ORPHAN_AFTER
            kind = "orphan: no rule"
        elif r < 0.77:  # orphan: reported, the report never reached the origin
            row["state"] = "reported"
            row["reportedAt"] = now - ORPHAN_AFTER - rng.uniform(3600, 5 * 86400)
            arrived = row["reportedAt"] - rng.uniform(0.1, 0.9) * span
            row["orphan"] = "report_not_returned"
            kind = "orphan: report not returned"
        elif r < 0.78:
            row["state"] = "cancelled"
            arrived = now - rng.uniform(0, 20 * 86400)
            row["cancelledAt"] = arrived + 600
            kind = "cancelled"
        else:  # reported in the last 7 days, most reports home already
            row["reportedAt"] = now - rng.uniform(60, 7 * 86400 - 3600)
            turnaround = rng.uniform(0.05, 0.9) * span if rng.random() < 0.9 else rng.uniform(1.0, 1.5) * span
            arrived = row["reportedAt"] - turnaround
            row["state"] = "returned" if rng.random() < 0.8 else "reported"
            if row["state"] == "returned":
                row["returnedAt"] = row["reportedAt"] + rng.uniform(5, 120)
            row["reportedBy"] = f"dr{rng.randrange(200)}"
            kind = "reported in the last 7 days" if row["state"] == "reported" else "returned (reported in the last 7 days)"
        tally[kind] = tally.get(kind, 0) + 1
        row["arrivedAt"] = arrived
        row["deadline"] = arrived + span
        if row["rule"] is not None and row["state"] != "cancelled":
            if row["allocatedAt"] is None:
                row["allocatedAt"] = arrived + rng.uniform(1, 600)
                row["startedAt"] = row["allocatedAt"] + rng.uniform(30, 1800)
            # The review's marks, so it has nothing to catch up on: escalated past 75% of the time to
            # deadline (or within the next 20 minutes), overdue past the deadline.
            if arrived + 0.75 * span <= now + 1200:
                row["escalatedAt"] = min(now, arrived + 0.75 * span)
            if row["deadline"] <= now:
                row["overdueAt"] = min(now, row["deadline"] + 10)
            row["explanation"] = explanation(rng, site, skill, row["allocatedAt"])
        items.append(row)
        events.append((item_id, arrived, "created", row["origin"], "", f"rule {row['rule']}: skill {skill}, effort {effort}"))
        if row["allocatedAt"] is not None:
            events.append((item_id, row["allocatedAt"], "allocated", "gateway", site, f"{site} has the lowest load after taking it"))
        if row["startedAt"] is not None:
            events.append((item_id, row["startedAt"], "started", site, site, ""))
        if row["reportedAt"] is not None:
            events.append((item_id, row["reportedAt"], "reported", site, site, ""))
        if len(items) == 5000:
            _flush(db, items, events, now)
    _flush(db, items, events, now)
    db.commit()
    db.close()
    return tally


COLUMNS = ["id", "studyUID", "origin", "patientID", "priority", "skill", "effort", "rule", "arrivedAt", "deadline", "state",
           "site", "allocatedAt", "startedAt", "reportedAt", "reportedBy", "returnedAt", "cancelledAt", "escalatedAt",
           "overdueAt", "orphan", "flag", "explanation"]


def _flush(db, items, events, now):
    db.executemany(f"INSERT INTO worklist_item({', '.join(COLUMNS)}, updatedAt) VALUES ({', '.join('?' for _ in COLUMNS)}, ?)",
                   [[row[c] for c in COLUMNS] + [now] for row in items])
    db.executemany("INSERT INTO worklist_event(itemRef, time, event, actor, site, detail) VALUES (?, ?, ?, ?, ?, ?)", events)
    items.clear()
    events.clear()
