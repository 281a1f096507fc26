#!/usr/bin/env python3
"""Derives duckduckgo/entities.json from DuckDuckGo's Tracker Data Set.

    blocklists/data/make-tds-entities.py extension-tds.json > blocklists/data/duckduckgo/entities.json

The result is a Tracker Data Set (the `tds` list format) with no trackers:
only which company each domain belongs to ("domains", resolved to the
company shown, as trackwatch resolves it from the full file: an owner's
owner by its displayName) and the "cnames" table of first-party names that
are aliases of trackers. It gives names the other default lists leave
without a company (www.googletagmanager.com: Google) and no verdict of its
own. CC BY-NC-SA 4.0, as its source (see duckduckgo/LICENSE).
"""
import json
import sys

tds = json.load(open(sys.argv[1], encoding="utf-8"))
entities = tds.get("entities", {})


def display(name):
    return entities.get(name, {}).get("displayName") or name


# An owner that is owned (Google Ads by Google LLC) is shown as its owner.
owned = {}
for tracker in tds.get("trackers", {}).values():
    owner = tracker.get("owner") or {}
    if owner.get("ownedBy") and owner.get("name"):
        owned.setdefault(owner["name"], display(owner["ownedBy"]))

domains = {}
for domain, name in sorted(tds.get("domains", {}).items()):
    if isinstance(name, str) and name:
        domains[domain] = owned.get(name) or display(name)

companies = sorted(set(domains.values()))
out = {
    "readme": "Derived from DuckDuckGo's Tracker Data Set by trackwatch's "
              "blocklists/data/make-tds-entities.py: companies of domains and CNAME "
              "aliases only. CC BY-NC-SA 4.0, Duck Duck Go, Inc.",
    "_builtWith": tds.get("_builtWith", {}),
    "trackers": {},
    "entities": {c: {"displayName": c} for c in companies},
    "domains": domains,
    "cnames": dict(sorted(tds.get("cnames", {}).items())),
}
json.dump(out, sys.stdout, ensure_ascii=False, indent=0, separators=(",", ":"))
sys.stdout.write("\n")
