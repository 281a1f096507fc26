#!/usr/bin/env python3
"""Cuts small excerpts of the real tracker lists for tests/data/lists/.

Usage: make-list-excerpts.py SHARED_LISTS_DIR [OUT_DIR]

SHARED_LISTS_DIR holds disconnect/{services,entities}.json,
duckduckgo/extension-tds.v6.json and open-cookie-database/open-cookie-database.csv
(see its LICENSES.md). OUT_DIR defaults to tests/data/lists beside this script.
The excerpts keep each file's structure and every field of the entries kept;
they only drop entries and trim long domain lists, so that the parsers see
real data (with its oddities: a Disconnect "domain" with a path, a cookie
name with a trailing tab, a quoted CSV field holding a quote) in a few KB.
The output is deterministic: running it again on the same lists gives the
same bytes.
"""
import csv
import json
import os
import shutil
import sys

# Disconnect: the entities kept and, for the big ones, the domains kept.
DC_ENTITIES = {"Google", "Meta", "Bytedance", "OneTrust", "Didomi", "Adobe", "Fullstory",
               "ItIsATracker"}
DC_GOOGLE_DOMAINS = {
    "doubleclick.net", "google-analytics.com", "googleadservices.com",
    "googlesyndication.com", "googletagmanager.com", "google.com", "youtube.com",
    "gstatic.com", "googleapis.com", "recaptcha.net", "2mdn.net",
    "google.com/pagead/1p-user-list",  # a "domain" with a path: skipped by the parser
}
DC_ADOBE_DOMAINS = {"omtrdc.net", "demdex.net", "adobedc.net", "typekit.net", "adobe.com"}

# TDS: the trackers kept, and the CNAMEs kept (chosen to point at kept trackers).
TDS_TRACKERS = ["google-analytics.com", "doubleclick.net", "googletagmanager.com",
                "facebook.net", "tiktok.com", "adobedc.net", "instagram.com"]
TDS_CNAMES = 3
TDS_EXCEPTION_DOMAINS = 6   # of a rule's long "exceptions"/"options" lists

# Open Cookie Database: the names kept (all their rows), then the first rows up to ROWS.
OCD_NAMES = {"_ga", "_ga_", "_gid", "_gcl_au", "IDE", "__gads", "_fbp", "fr", "OptanonConsent",
             "OptanonAlertBoxClosed", "euconsent-v2", "CookieConsent", "consentUUID",
             "didomi_token", "_ttp", "tt_webid", "ce_need_secure_cookie\t"}
OCD_ROWS = 30

def disconnect(src, out):
    with open(os.path.join(src, "disconnect", "services.json"), encoding="utf-8") as f:
        services = json.load(f)
    cats = {}
    for cat, entries in services["categories"].items():
        kept = []
        for entry in entries:
            for name, body in entry.items():
                if name not in DC_ENTITIES:
                    continue
                nb = {}
                for k, v in body.items():
                    if isinstance(v, list):
                        if name == "Google":
                            v = [d for d in v if d in DC_GOOGLE_DOMAINS]
                        elif name == "Adobe":
                            v = [d for d in v if d in DC_ADOBE_DOMAINS]
                        if not v:
                            continue
                    nb[k] = v
                if any(isinstance(v, list) for v in nb.values()):
                    kept.append({name: nb})
        if kept:
            cats[cat] = kept
    write_json(os.path.join(out, "disconnect-services.json"),
               {"license": services["license"], "categories": cats})

    with open(os.path.join(src, "disconnect", "entities.json"), encoding="utf-8") as f:
        entities = json.load(f)
    ents = {}
    for name, body in entities["entities"].items():
        if name not in DC_ENTITIES:
            continue
        nb = {}
        for part, domains in body.items():
            if name == "Google":
                domains = [d for d in domains if d in DC_GOOGLE_DOMAINS]
            elif name == "Adobe":
                domains = [d for d in domains if d in DC_ADOBE_DOMAINS]
            elif len(domains) > 12:
                domains = domains[:12]
            nb[part] = domains
        ents[name] = nb
    write_json(os.path.join(out, "disconnect-entities.json"),
               {"license": entities["license"], "entities": ents})


def tds(src, out):
    with open(os.path.join(src, "duckduckgo", "extension-tds.v6.json"), encoding="utf-8") as f:
        data = json.load(f)
    trackers = {}
    for key in TDS_TRACKERS:
        t = json.loads(json.dumps(data["trackers"][key]))
        for rule in t.get("rules", []):
            for part in ("exceptions", "options"):
                if "domains" in rule.get(part, {}):
                    rule[part]["domains"] = rule[part]["domains"][:TDS_EXCEPTION_DOMAINS]
        trackers[key] = t
    owners = set()
    for t in trackers.values():
        owners.add(t["owner"]["name"])
        if "ownedBy" in t["owner"]:
            owners.add(t["owner"]["ownedBy"])
    kept_domains = set(trackers) | {"google.com", "youtube.com", "facebook.com", "tiktokcdn.com",
                                    "adobe.com"}
    entities = {}
    for name in sorted(owners):
        if name not in data["entities"]:
            continue
        e = dict(data["entities"][name])
        e["domains"] = [d for d in e.get("domains", []) if d in kept_domains]
        entities[name] = e
    domains = {d: e for d, e in data["domains"].items() if d in kept_domains and e in entities}
    cnames = {}
    for name, target in data["cnames"].items():
        if len(cnames) >= TDS_CNAMES:
            break
        if any(target == t or target.endswith("." + t) for t in trackers):
            cnames[name] = target
    doc = {"_builtWith": data.get("_builtWith"), "readme": data.get("readme"),
           "trackers": trackers, "entities": entities, "domains": domains, "cnames": cnames}
    write_json(os.path.join(out, "tds.json"), doc, indent=4)


def cookiedb(src, out):
    # The database has no field with a line end in it: a record is a line, and
    # the excerpt keeps the lines as they are, with their original quoting.
    path = os.path.join(src, "open-cookie-database", "open-cookie-database.csv")
    with open(path, encoding="utf-8", newline="") as f:
        lines = f.read().splitlines(keepends=True)
    rows = [next(csv.reader([line])) for line in lines]
    assert all(len(r) == len(rows[0]) for r in rows), "a record spans lines"
    name_col = rows[0].index("Cookie / Data Key name")
    kept = [i for i in range(1, len(rows)) if rows[i][name_col] in OCD_NAMES]
    # A row with a quote inside a field ("" in quotes), if there is one.
    kept += [i for i in range(1, len(rows))
             if any('"' in field for field in rows[i]) and i not in kept][:1]
    for i in range(1, len(rows)):
        if len(kept) >= OCD_ROWS:
            break
        if i not in kept:
            kept.append(i)
    with open(os.path.join(out, "open-cookie-database.csv"), "w", encoding="utf-8", newline="") as f:
        f.write(lines[0])
        for i in sorted(kept):
            f.write(lines[i])


def write_json(path, doc, indent=2):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=indent, ensure_ascii=False)
        f.write("\n")


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    src = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) == 3 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "lists")
    os.makedirs(out, exist_ok=True)
    disconnect(src, out)
    tds(src, out)
    cookiedb(src, out)
    # Each excerpt keeps its licence beside it.
    for name in ("disconnect", "duckduckgo", "open-cookie-database"):
        shutil.copyfile(os.path.join(src, name, "LICENSE"), os.path.join(out, name + "-LICENSE"))


if __name__ == "__main__":
    main()
