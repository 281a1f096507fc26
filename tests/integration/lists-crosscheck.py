#!/usr/bin/env python3
"""Cross-checks the matcher against a reference engine for EasyPrivacy's pure domain rules.

    lists-crosscheck.py TRACKWATCH EASYPRIVACY [HOSTS_TSV]

The reference is written here, independently of the C parser: it reads the
pure domain-anchored rules of EasyPrivacy (``||host^`` with only party and
resource-type options, and ``@@`` exceptions of the same form). When
HOSTS_TSV is given (shared/lists/easylist-derived/easyprivacy-hosts.tsv, a
derivation made with other tools), the reference's block rules must first
equal its rows exactly.

For every host of a rule it asks `trackwatch lists test`, with EasyPrivacy
alone loaded, about three lookups and compares tracker and host_only:
  - a name under the host, contacted from an unrelated site (third party);
  - the same name from itself (first party: $third-party rules do not apply);
  - a name that only ends with the host's text ("x" + host), not under it.
Exit status 0 when all agree.
"""
import json
import re
import subprocess
import sys

TYPES = {"script", "image", "stylesheet", "css", "xmlhttprequest", "xhr", "subdocument", "frame",
         "ping", "beacon", "media", "font", "object", "websocket", "other", "document", "popup"}
# "||host^", also "||host" (which uBlock also takes as a whole name), not "||host." (any TLD).
PURE = re.compile(r"^(@@)?\|\|([a-z0-9_-][a-z0-9._-]*[a-z0-9_-])(\^?)(?:\$(.*))?$")
SITE = "unrelated-site.example"


def read_rules(path):
    """{host: [(party, typed)]} for blocks and for exceptions; party: any|3p|1p."""
    blocks, exceptions, tsv = {}, {}, set()
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.strip()
        m = PURE.match(line)
        if not m:
            continue
        exception, host, caret, opts = m.group(1), m.group(2), m.group(3), m.group(4)
        party, types, tsv_types, ok = "any", [], [], True
        for opt in (opts.split(",") if opts else []):
            if opt in ("third-party", "3p"):
                party = "3p"
            elif opt in ("~third-party", "first-party", "1p"):
                party = "1p"
                tsv_types.append(opt)
            elif opt.lstrip("~") in TYPES:
                types.append(opt)
                tsv_types.append(opt)
            elif opt.startswith("redirect="):
                tsv_types.append(opt)   # uBlock: still a block
            elif opt == "important":
                pass
            else:
                ok = False      # domain=, csp=, ...: not a pure rule
        if not ok:
            continue
        (exceptions if exception else blocks).setdefault(host, []).append((party, bool(types)))
        if not exception and caret:
            tsv.add((host, "3p" if party == "3p" else "any", ",".join(tsv_types) or "-"))
    return blocks, exceptions, tsv


def read_tsv(path):
    rows = set()
    for line in open(path, encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        host, party, types = line.rstrip("\n").split("\t")
        rows.add((host, party, types))
    return rows


def expected(name, third_party, blocks, exceptions):
    """(tracker, host_only) by the reference: walk the labels, exceptions win."""
    labels = name.split(".")
    applies = lambda party: party == "any" or (party == "3p") == third_party
    full = typed = excepted = False
    for i in range(len(labels)):
        suffix = ".".join(labels[i:])
        for party, is_typed in blocks.get(suffix, []):
            if applies(party):
                typed |= is_typed
                full |= not is_typed
        for party, is_typed in exceptions.get(suffix, []):
            # An exception for some resource types does not clear a bare name.
            if applies(party) and not is_typed:
                excepted = True
    tracker = (full or typed) and not excepted
    return tracker, tracker and not full


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    trackwatch, easyprivacy = sys.argv[1], sys.argv[2]
    blocks, exceptions, derived = read_rules(easyprivacy)
    if len(sys.argv) == 4:
        tsv = read_tsv(sys.argv[3])
        # The TSV leaves out wildcard hosts; so does PURE.
        if tsv != derived:
            print(f"reference differs from the TSV: {len(tsv - derived)} rows only in the TSV, "
                  f"{len(derived - tsv)} only here, e.g. {sorted(tsv ^ derived)[:5]}")
            return 1
        print(f"reference equals {sys.argv[3]}: {len(tsv)} rows")

    queries = []
    for host in sorted(blocks):
        name = "sub." + host
        queries.append((name, SITE, True))
        queries.append((name, name, False))
        queries.append(("x" + host, SITE, True))
    text = "".join(f"{n} {s}\n" for n, s, _ in queries)
    out = subprocess.run([trackwatch, "lists", "test", "--list", "easyprivacy=abp:" + easyprivacy],
                         input=text, capture_output=True, text=True, check=True).stdout.splitlines()
    if len(out) != len(queries):
        print(f"asked {len(queries)}, got {len(out)} answers")
        return 1
    bad = 0
    counts = {"tracker": 0, "not tracker": 0, "host_only": 0}
    for (name, site, third), line in zip(queries, out):
        got = json.loads(line)
        want = expected(name, third, blocks, exceptions)
        if got["host"] != name or got["third_party"] != third:
            print(f"{name} {site}: answer for {got['host']}, third_party {got['third_party']}")
            bad += 1
            continue
        if (got["tracker"], got["host_only"]) != want:
            bad += 1
            if bad <= 20:
                print(f"MISMATCH {name} from {site}: want tracker={want[0]} host_only={want[1]}, "
                      f"got {got['tracker']} {got['host_only']} by {got['rule']!r}")
        counts["tracker" if want[0] else "not tracker"] += 1
        counts["host_only"] += want[1]
    print(f"lists crosscheck: {len(blocks)} hosts of pure rules, {sum(len(v) for v in exceptions.values())} "
          f"pure exceptions, {len(queries)} lookups: {counts['tracker']} trackers "
          f"({counts['host_only']} host_only), {counts['not tracker']} not; {bad} mismatches")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
