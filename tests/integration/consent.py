#!/usr/bin/env python3
"""Consent phases against the browser scenarios' truth files.

The four scenarios in tests/data (browser-*.pcap, from shared/e2e/gen.sh): a
headless browser opens news.example, answers its OneTrust banner (accept or
reject), and opens a second page. The truth files are written from the
servers' logs and the browser driver, never from the capture.

1. Plain-HTTP publisher (accept-http, reject-http): the consent cookies are on
   the wire, so trackwatchd must find the decision by itself (no mark): the
   report's consent for news.example holds the truth's action, read from a
   consent rule (not the operator), first seen after the click; and the
   tracker hosts of before_consent and after_<action> equal the truth's
   summary.before_click / summary.after_click tracker_hosts.
2. HTTPS publisher (accept, reject): the consent cookies are inside TLS, so
   the operator marks the click (`trackwatch consent mark --at`
   consent.click_t); the tracker hosts per phase equal the truth's.
2b. All four with their TLS key logs (browser-NAME.keylog, written by
   Chromium through SSLKEYLOGFILE) and no mark: trackwatchd decrypts the
   HTTPS (issue 8) and finds the decision by itself from the decrypted
   consent cookies and parameters, first seen after the click; the tracker
   hosts, the cookies sent (name->host) and the cookies set by Set-Cookie
   (name@domain) of before_consent and after_<action> equal the truth's.
3. Identifier syncing, on a capture made here (make-store-captures.py sync):
   one value set as a cookie by ad.doubleclick.net (Google) and handed to
   ib.adnxs.com (Microsoft) in a URL is reported once, with both companies,
   as its keyed hash; a cookie seen at one company only is not.
4. Cases a review found (each failed once): a site name holding escape
   sequences is escaped in the verdict; a mark on an old capture survives
   retention (store.max_days) on the next run; a mark's --site is reduced to
   its registrable domain and --device takes a configured name in any case.
5. The sensor's own privacy: no cookie value of the truth (as sent or set)
   and no identifier of the cookie sync (the uid ib.adnxs.com hands to
   news.example) is in the database file, the key-less JSONL, the report or
   the timeline, decrypted from HTTPS or not; no secret of the key log is in
   any of them, nor in the daemon's messages; with --keep-identifiers the JSONL has them (the check can
   fail). The database's key file is mode 0600.

usage: consent.py TRACKWATCHD TRACKWATCH DATA_DIR
"""
import json
import os
import stat
import subprocess
import sys
import tempfile
from datetime import datetime

failures = []
checks = 0


def check(ok, msg):
    global checks
    checks += 1
    if not ok:
        failures.append(msg)
        print("FAIL: " + msg)


def run(*args, **kw):
    return subprocess.run(list(args), check=True, capture_output=True, text=True, **kw).stdout


def report(cli, db):
    out = run(cli, "report", "--db", db, "--device", "10.99.0.2", "--site", "news.example",
              "--format", "json")
    doc = json.loads(out)
    sites = [s for d in doc["devices"] for s in d["sites"] if s["site"] == "news.example"]
    return sites[0] if sites else None


def compare(name, got, want):
    got, want = set(got), set(want)
    check(got == want, "%s: missing %s, extra %s" % (name, sorted(want - got), sorted(got - want)))


def scenario(daemon, cli, data, tmp, name, plain, keys=False):
    truth = json.load(open(os.path.join(data, "browser-%s.truth.json" % name)))
    action = truth["consent"]["action"]
    click = truth["consent"]["click_t"]
    db = os.path.join(tmp, name + (".keys" if keys else "") + ".db")
    extra = ["-k", os.path.join(data, "browser-%s.keylog" % name)] if keys else []
    run(daemon, "-q", "-r", os.path.join(data, "browser-%s.pcap" % name), "--db", db, *extra)
    if keys:
        name += " (decrypted)"
        plain = True
    if not plain:
        out = run(cli, "consent", "mark", "--db", db, "--device", "10.99.0.2", "--site",
                  "news.example", "--at", "%.3f" % click, action)
        check(out.startswith("recorded %s" % action), "%s: consent mark says %r" % (name, out))
    site = report(cli, db)
    check(site is not None, "%s: no site news.example in the report" % name)
    if site is None:
        return db
    decisions = [c for c in site["consent"] if c["decision"] in ("accept", "reject", "partial")]
    check(len(decisions) >= 1, "%s: no consent decision in %s" % (name, site["consent"]))
    if decisions:
        first = decisions[0]
        check(first["decision"] == action, "%s: first decision %s, truth %s" %
              (name, first["decision"], action))
        if plain:
            check(first["source"] != "operator", "%s: decision not read on the wire" % name)
            # The first evidence is a request after the click, within a few seconds.
            seen = (datetime.strptime(first["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")
                    - datetime(1970, 1, 1)).total_seconds()
            check(click <= seen <= click + 5, "%s: evidence at %s, click at %.3f" %
                  (name, first["ts"], click))
        else:
            check(first["source"] == "operator", "%s: the mark is not the first decision" % name)
    phases = site["phases"]
    compare(name + " before_consent tracker hosts", phases["before_consent"]["tracker_hosts"],
            truth["summary"]["before_click"]["tracker_hosts"])
    compare(name + " after_%s tracker hosts" % action, phases["after_" + action]["tracker_hosts"],
            truth["summary"]["after_click"]["tracker_hosts"])
    other = "reject" if action == "accept" else "accept"
    check(not phases["after_" + other]["tracker_hosts"], "%s: hosts after %s" % (name, other))
    if keys:
        # URL rules apply to decrypted requests: EasyPrivacy's ||facebook.com/tr/ (the pixel
        # www.facebook.com/tr/?id=...), where no EasyPrivacy rule names the host alone.
        lists = {t["host"]: t["lists"] for t in site["trackers"]}
        check("easyprivacy" in lists.get("www.facebook.com", []),
              "%s: www.facebook.com/tr/ not matched by EasyPrivacy: %s" % (name, lists.get("www.facebook.com")))
        for ours, theirs, phase in (("before_consent", "before_click", "before"),
                                    ("after_" + action, "after_click", "after")):
            compare("%s %s cookies sent" % (name, ours), phases[ours]["cookies_sent"],
                    truth["summary"][theirs]["cookies_sent"])
            # Set-Cookie headers only: document.cookie writes are not on the wire.
            compare("%s %s cookies set" % (name, ours), phases[ours]["cookies_set"],
                    ["%s@%s" % (c["name"], c["domain"]) for c in truth["cookies"]["set"]
                     if c["via"] == "Set-Cookie" and c["phase"] == phase])
    check(site.get("verdict", "").startswith("news.example: before any consent"),
          "%s: verdict %r" % (name, site.get("verdict")))
    return db


def privacy(daemon, cli, data, tmp, dbs):
    truth = json.load(open(os.path.join(data, "browser-reject-http.truth.json")))
    secrets = set()
    for c in truth["cookies"]["set"]:
        header = c.get("header") or ""
        value = header.split(";", 1)[0].split("=", 1)[-1]
        # Not identifiers: dates, epoch times (which the outputs' own times
        # contain), and the TC string, a consent record kept in gdpr_consent.
        if (len(value) >= 8 and not value.startswith("20") and not value.isdigit()
                and value != truth["consent"]["tc_string"]):
            secrets.add(value)
    uid = None
    for r in truth["requests"]:
        if r["uri"].startswith("/px/sync?") and "uid=" in r["uri"]:
            uid = r["uri"].split("uid=", 1)[1].split("&", 1)[0]
    check(uid is not None, "privacy: no cookie-sync uid in the truth")
    if uid:
        secrets.add(uid)
    check(len(secrets) >= 10, "privacy: only %d values to look for" % len(secrets))
    print("privacy: looking for %d raw values (the uid %s among them)" % (len(secrets), uid))
    pcap = os.path.join(data, "browser-reject-http.pcap")
    db = dbs["reject-http"]
    outputs = {
        "database": open(db, "rb").read() + (open(db + "-wal", "rb").read()
                                              if os.path.exists(db + "-wal") else b""),
        "jsonl": run(daemon, "-q", "-r", pcap, "--jsonl", "-").encode(),
        "text": run(daemon, "-q", "-r", pcap).encode(),
        "report": run(cli, "report", "--db", db, "--format", "json").encode(),
        "timeline": run(cli, "timeline", "--db", db, "--format", "json").encode(),
        "timeline csv": run(cli, "timeline", "--db", db, "--format", "csv").encode(),
    }
    # Decrypted, the HTTPS cookies are read too: still hashed. And the key log's secrets
    # reach neither the database nor any output nor the messages.
    keylog = os.path.join(data, "browser-reject-http.keylog")
    kdb = dbs["reject-http (keys)"]
    err = subprocess.run([daemon, "-r", pcap, "-k", keylog, "--jsonl", "/dev/null"],
                         capture_output=True, text=True).stderr
    outputs.update({
        "database (decrypted)": open(kdb, "rb").read() + (open(kdb + "-wal", "rb").read()
                                                          if os.path.exists(kdb + "-wal") else b""),
        "jsonl (decrypted)": run(daemon, "-q", "-r", pcap, "-k", keylog, "--jsonl", "-").encode(),
        "text (decrypted)": run(daemon, "-q", "-r", pcap, "-k", keylog).encode(),
        "report (decrypted)": run(cli, "report", "--db", kdb, "--format", "json").encode(),
        "messages (decrypted)": err.encode(),
    })
    key_secrets = set()
    for line in open(keylog):
        parts = line.split()
        if len(parts) == 3 and not line.startswith("#"):
            key_secrets.add(parts[2].lower())
            key_secrets.add(parts[2].upper())
    check(len(key_secrets) >= 20, "privacy: only %d key log secrets" % len(key_secrets))
    for what, blob in outputs.items():
        leaked = sorted(s for s in secrets if s.encode() in blob)
        check(not leaked, "privacy: %s holds raw values %s" % (what, leaked[:5]))
        leaked = [k for k in key_secrets if k.encode() in blob]
        check(not leaked, "privacy: %s holds a key log secret" % what)
    kept = run(daemon, "-q", "--keep-identifiers", "-r", pcap, "--jsonl", "-")
    check(uid is not None and uid in kept, "privacy: --keep-identifiers does not keep the uid")
    mode = stat.S_IMODE(os.stat(db + ".key").st_mode)
    check(mode == 0o600, "privacy: key file mode %o" % mode)


def syncing(daemon, cli, tmp):
    here = os.path.dirname(os.path.abspath(__file__))
    pcap = os.path.join(tmp, "sync.pcap")
    run(sys.executable, os.path.join(here, "make-store-captures.py"), "sync", pcap)
    value = open(pcap + ".value").read()
    db = os.path.join(tmp, "sync.db")
    run(daemon, "-q", "-r", pcap, "--db", db)
    doc = json.loads(run(cli, "report", "--db", db, "--format", "json"))
    synced = [v for d in doc["devices"] for v in d["syncing"]]
    check(len(synced) == 1, "syncing: %d values, want 1: %s" % (len(synced), synced))
    if synced:
        seen = {(x["entity"], x["host"], x["as"], x["name"]) for x in synced[0]["seen"]}
        want = {("Google", "ad.doubleclick.net", "cookie", "id"),
                ("Microsoft", "ib.adnxs.com", "parameter", "uid")}
        check(seen == want, "syncing: seen %s, want %s" % (sorted(seen), sorted(want)))
        check(synced[0]["value"] != value and len(synced[0]["value"]) == 32,
              "syncing: the value is not its keyed hash: %r" % synced[0]["value"])
    text = run(cli, "report", "--db", db)
    check("Identifier syncing" in text and "parameter uid at ib.adnxs.com (Microsoft)" in text,
          "syncing: not in the text report")
    check(value.encode() not in open(db, "rb").read(), "syncing: the raw value is in the database")


def review_cases(daemon, cli, data, tmp):
    here = os.path.dirname(os.path.abspath(__file__))
    maker = os.path.join(here, "make-store-captures.py")
    # A site name with escape sequences: escaped in the text verdict, valid JSON.
    pcap = os.path.join(tmp, "hostile-site.pcap")
    run(sys.executable, maker, "hostile-site", pcap)
    db = os.path.join(tmp, "hostile-site.db")
    run(daemon, "-q", "-r", pcap, "--db", db)
    text = subprocess.run([cli, "report", "--db", db], check=True, capture_output=True).stdout
    check(b"\x1b" not in text and b"\\x1b[2j\\x1b[31mevil.com: before any consent" in text,
          "review: the verdict does not escape the site: %r" % text[-400:])
    doc = json.loads(run(cli, "report", "--db", db, "--format", "json"))
    verdicts = [s["verdict"] for d in doc["devices"] for s in d["sites"]]
    check(any("after accept (from onetrust:OptanonConsent" in v for v in verdicts),
          "review: hostile site: %s" % verdicts)
    # A mark on an old capture (2023) and retention of 30 days: the mark stays.
    sync = os.path.join(tmp, "old.pcap")
    run(sys.executable, maker, "sync", sync)
    conf = os.path.join(tmp, "retain.yaml")
    open(conf, "w").write("store:\n  max_days: 30\n")
    db = os.path.join(tmp, "retain.db")
    run(daemon, "-q", "-c", conf, "-r", sync, "--db", db)
    run(cli, "consent", "mark", "--db", db, "--device", "10.0.0.2", "--site", "news.example",
        "--at", "1700000000.2", "reject")
    run(daemon, "-q", "-c", conf, "-r", sync, "--db", db, "--force")
    doc = json.loads(run(cli, "report", "--db", db, "--format", "json"))
    sources = [c["source"] for d in doc["devices"] for s in d["sites"] for c in s["consent"]]
    check("operator" in sources, "review: the mark is gone after a run with max_days: %s" % sources)
    # --site as a host, --device as a configured name in another case.
    conf = os.path.join(tmp, "names.yaml")
    open(conf, "w").write("devices:\n  10.99.0.2: Test-Laptop\n")
    db = os.path.join(tmp, "names.db")
    run(daemon, "-q", "-c", conf, "-r", os.path.join(data, "browser-accept.pcap"), "--db", db)
    truth = json.load(open(os.path.join(data, "browser-accept.truth.json")))
    out = run(cli, "consent", "mark", "--db", db, "--device", "test-laptop", "--site",
              "WWW.News.Example.", "--at", "%.3f" % truth["consent"]["click_t"], "accept")
    check(" on news.example at " in out, "review: the mark's site is not news.example: %r" % out)
    site = report(cli, db)
    compare("review: marked by name, after_accept tracker hosts",
            site["phases"]["after_accept"]["tracker_hosts"] if site else [],
            truth["summary"]["after_click"]["tracker_hosts"])


def main():
    daemon, cli, data = sys.argv[1:4]
    with tempfile.TemporaryDirectory() as tmp:
        dbs = {}
        for name, plain in (("accept-http", True), ("reject-http", True), ("accept", False),
                            ("reject", False)):
            dbs[name] = scenario(daemon, cli, data, tmp, name, plain)
            dbs[name + " (keys)"] = scenario(daemon, cli, data, tmp, name, plain, keys=True)
        syncing(daemon, cli, tmp)
        review_cases(daemon, cli, data, tmp)
        privacy(daemon, cli, data, tmp, dbs)
    print("consent: %d checks, %d failed" % (checks, len(failures)))
    sys.exit(1 if failures else 0)


main()
