#!/usr/bin/env python3
"""Checks a `trackwatch report --format json` against a browser scenario's
truth file (written by the lab from its servers' logs, not from the capture).

  report-vs-truth.py TRUTH.json REPORT.json

The report must hold one device, with the scenario's client address, on one
site (the scenario's base URL's host), and list every tracker host of the
truth file's summary (before and after the consent click), each with the
company the truth names (or its owner: "Xandr/Microsoft" is either, and
Disconnect names Hotjar by its owner, Contentsquare), ISO 8601 times with milliseconds, at least one list and
count; and no host the truth file does not call a tracker. The CNAME of a
cloaked tracker must be reported. Prints one line per tracker host checked
and exits 1 on any failure.
"""
import json
import sys
from urllib.parse import urlparse

OWNERS = {"hotjar": {"contentsquare"}}


def main():
    truth = json.load(open(sys.argv[1]))
    report = json.load(open(sys.argv[2]))
    s = truth["summary"]
    want = set(s["before_click"]["tracker_hosts"]) | set(s["after_click"]["tracker_hosts"])
    info = {t["host"]: t for t in truth["trackers"]}
    site = urlparse(truth["base_url"]).hostname
    client = truth["network"]["client"]
    fails = []
    devices = report["devices"]
    if len(devices) != 1 or client not in devices[0]["addresses"]:
        fails.append("want one device with address %s: %r" % (client, devices))
    sites = devices[0]["sites"] if devices else []
    if [x["site"] for x in sites] != [site]:
        fails.append("want the one site %s: %r" % (site, [x["site"] for x in sites]))
    got = {t["host"]: t for x in sites for t in x["trackers"]}
    for host in sorted(want - set(got)):
        fails.append("missing tracker " + host)
    for host in sorted(set(got) - set(info)):
        fails.append("not a tracker in the truth file: " + host)
    for host in sorted(want & set(got)):
        t = got[host]
        entity = (t["entity"] or "").lower()
        # "Xandr/Microsoft": a company and its owner; either is right.
        orgs = set(info[host]["org"].lower().split("/"))
        if entity not in orgs and not any(entity in OWNERS.get(o, set()) for o in orgs):
            fails.append("%s: company %r, truth %r" % (host, t["entity"], info[host]["org"]))
        if not t["lists"] or t["count"] < 1 or t["first_seen"] > t["last_seen"]:
            fails.append("%s: %r" % (host, t))
        for key in ("first_seen", "last_seen"):
            v = t[key]
            if len(v) != 24 or v[10] != "T" or v[19] != "." or not v.endswith("Z"):
                fails.append("%s: %s %r is not ISO 8601 UTC with milliseconds" % (host, key, v))
        if info[host].get("cname") and t.get("cname") != info[host]["cname"]:
            fails.append("%s: CNAME %r, truth %r" % (host, t.get("cname"), info[host]["cname"]))
        print("%-30s %-14s %s" % (host, t["entity"], ",".join(t["lists"])))
    for f in fails:
        print("FAIL " + f)
    print("%d tracker hosts in the truth file, %d in the report, %d failures"
          % (len(want), len(got), len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
