#!/usr/bin/env python3
"""URLs that the generic URL rules of Adblock Plus lists match, for checking
the matcher's token index against a plain scan of every rule.

    make-urls.py LIST... > urls.txt      (one "URL SITE" per line)

For each rule that is not host-anchored, two URLs are made from its pattern:
each '*' becomes a short run of characters (or nothing), each '^' a
separator (or nothing), on one of three hosts, with one of three sites.
Deterministic (fixed seed).
"""
import random
import sys

random.seed(3)
out = []
for path in sys.argv[1:]:
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.strip()
        if not line or line[0] in "![" or "#" in line:
            continue
        p = line[2:] if line.startswith("@@") else line
        p = p.split("$")[0]
        if p.startswith("||") or (p.startswith("/") and p.endswith("/") and len(p) > 1):
            continue
        core = p.lstrip("|").rstrip("|")
        for _ in range(2):
            rest = core.replace("*", random.choice(["x", "ab/c", "", ".q"]))
            rest = rest.replace("^", random.choice(["/", "?", "&", ""]))
            if "://" in rest:
                url = rest
            else:
                host = random.choice(["cdn.example.com", "www.site.org", "t.tracker.net"])
                url = "https://" + host + ("" if rest.startswith("/") else "/") + rest
            if " " not in url:
                out.append(url + " " + random.choice(["site.org", "www.site.org", "other.example"]))
random.shuffle(out)
print("\n".join(out))
