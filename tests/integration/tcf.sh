#!/bin/bash
# trackwatch tcf decode, end to end, on every row of tests/data/tcf-vectors.tsv
# (TC strings whose fields an independent decoder worked out and the IAB's
# reference implementation agrees with). python3's json module reads what
# the command prints and every field is compared with the table's columns,
# never with the program's own output:
#   - "ok" rows: exit 0 and every field (times from the table's deciseconds,
#     and its UTC text; id lists expanded from the table's ranges; flags;
#     publisher restrictions; the disclosed-vendors and publisher-TC
#     segments present exactly when the table has them), the fields in the
#     reference implementation's order, nothing else;
#   - "ok_v1_legacy" rows: exit 1, the JSON printed with version 1, the v1
#     fields and a note;
#   - the "must_fail" row: exit 1, nothing on standard output, the error
#     naming the short bitfield;
#   - each string read from standard input ('-', with CR LF too) gives the
#     same output as on the command line;
#   - usage errors exit 2; a sanitizer report is a failure whatever the exit.
#   tests/integration/tcf.sh TRACKWATCH
set -eu
cli=${1:?usage: tcf.sh TRACKWATCH}
here=$(cd "$(dirname "$0")/../.." && pwd)
vectors=${TCF_VECTORS:-$here/tests/data/tcf-vectors.tsv}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
sanitizer_clean() { # FILE DESCRIPTION
	if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$1"; then
		bad "$2: sanitizer report"; sed 's/^/    /' "$1" | head -20
	fi
}
expect() { # STATUS DESCRIPTION -- COMMAND...: output in $tmp/out, $tmp/err
	local want=$1 what=$2 got=0
	shift 3
	"$@" > "$tmp/out" 2> "$tmp/err" || got=$?
	if [ "$got" -eq "$want" ]; then ok; else bad "$what: exit $got, want $want"; sed 's/^/    /' "$tmp/err" | head -5; fi
	sanitizer_clean "$tmp/err" "$what"
}

# Decode every vector, both ways; keep the output, the errors and the status.
rows=0
while IFS=$'\t' read -r id expect string _; do
	case $id in '#'* | id | '') continue ;; esac
	rows=$((rows + 1))
	status=0
	"$cli" tcf decode "$string" > "$tmp/$id.json" 2> "$tmp/$id.err" || status=$?
	echo "$status" > "$tmp/$id.status"
	sanitizer_clean "$tmp/$id.err" "$id"
	status=0
	printf '%s\r\n' "$string" | "$cli" tcf decode - > "$tmp/$id.stdin.json" 2> "$tmp/$id.stdin.err" || status=$?
	if [ "$status" = "$(cat "$tmp/$id.status")" ] && cmp -s "$tmp/$id.json" "$tmp/$id.stdin.json" &&
	    cmp -s "$tmp/$id.err" "$tmp/$id.stdin.err"; then
		ok
	else
		bad "$id: from standard input: exit $status and output differ from the argument's"
	fi
	sanitizer_clean "$tmp/$id.stdin.err" "$id (standard input)"
done < "$vectors"
if [ "$rows" -ge 10 ]; then ok; else bad "only $rows vectors read from $vectors"; fi

# Compare with the table.
cat > "$tmp/check.py" <<'EOF'
import datetime, json, os, sys

vectors, out = sys.argv[1], sys.argv[2]
failures = []
checks = 0

def fail(row, what):
    failures.append(f"{row}: {what}")

def ids(text):
    """'1-2,4' -> [1, 2, 4]"""
    result = []
    for part in filter(None, text.split(",")):
        first, _, last = part.partition("-")
        result.extend(range(int(first), int(last or first) + 1))
    return sorted(set(result))

def iso(ds):
    """Deciseconds since the epoch as the command should print them."""
    t = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(milliseconds=ds * 100)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"

def same_instant(printed, table_utc):
    parse = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
    return parse(printed) == parse(table_utc)

def restrictions(text):
    result = []
    for item in filter(None, text.split(";")):
        purpose, kind, vendors = item.split(":", 2)
        result.append({"purposeId": int(purpose[1:]), "restrictionType": int(kind[1:]),
                       "vendors": ids(vendors)})
    return result

V2_ORDER = ["version", "created", "lastUpdated", "cmpId", "cmpVersion", "consentScreen",
            "consentLanguage", "vendorListVersion", "tcfPolicyVersion", "isServiceSpecific",
            "useNonStandardTexts", "specialFeatureOptins", "purposeConsents",
            "purposeLegitimateInterests", "purposeOneTreatment", "publisherCountryCode",
            "vendorConsents", "vendorLegitimateInterests", "publisherRestrictions"]
DISCLOSED = ["disclosedVendors"]
PUBLISHER_TC = ["publisherConsents", "publisherLegitimateInterests", "numCustomPurposes",
                "publisherCustomConsents", "publisherCustomLegitimateInterests"]
V1_ORDER = ["version", "created", "lastUpdated", "cmpId", "cmpVersion", "consentScreen",
            "consentLanguage", "vendorListVersion", "purposeConsents", "vendorConsents", "note"]

with open(vectors, encoding="utf-8") as f:
    lines = [l.rstrip("\r\n") for l in f if not l.startswith("#") and l.strip()]
header = lines[0].split("\t")
for line in lines[1:]:
    row = dict(zip(header, line.split("\t")))
    rid, expect = row["id"], row["expect"]
    status = int(open(os.path.join(out, rid + ".status")).read())
    stdout = open(os.path.join(out, rid + ".json"), encoding="utf-8").read()
    stderr = open(os.path.join(out, rid + ".err"), encoding="utf-8").read()

    if expect == "must_fail":
        checks += 1
        if status != 1:
            fail(rid, f"exit {status}, want 1")
        if stdout:
            fail(rid, "printed something for a string that must fail")
        if not stderr.startswith("trackwatch tcf decode: ") or "bitfield of" not in stderr:
            fail(rid, f"error {stderr.strip()!r} does not name the short bitfield")
        continue

    try:
        got = json.loads(stdout)
    except ValueError as e:
        fail(rid, f"output is not JSON: {e}")
        continue

    def eq(key, want):
        global checks
        checks += 1
        if key not in got:
            fail(rid, f"{key} missing")
        elif got[key] != want or type(got[key]) is not type(want):
            if isinstance(want, list) and isinstance(got[key], list) and all(type(x) is int for x in want + got[key]):
                missing = sorted(set(want) - set(got[key]))[:10]
                extra = sorted(set(got[key]) - set(want))[:10]
                fail(rid, f"{key}: {len(got[key])} ids, want {len(want)}; missing {missing}, extra {extra}"
                     + ("" if got[key] == sorted(set(got[key])) else "; not sorted"))
            else:
                fail(rid, f"{key}: {got[key]!r}, want {want!r}")

    eq("version", int(row["version"]))
    for key, column in (("created", "created_ds"), ("lastUpdated", "lastUpdated_ds")):
        eq(key, iso(int(row[column])))
    checks += 1
    if not same_instant(got.get("created", "1970-01-01T00:00:00Z"), row["created_utc"]):
        fail(rid, f"created {got.get('created')} is not the table's {row['created_utc']}")
    for key in ("cmpId", "cmpVersion", "consentScreen", "vendorListVersion"):
        eq(key, int(row[key]))
    eq("consentLanguage", row["consentLanguage"])
    eq("purposeConsents", ids(row["purposeConsents"]))
    eq("vendorConsents", ids(row["vendorConsents"]))

    if expect == "ok_v1_legacy":
        checks += 1
        if status != 1:
            fail(rid, f"exit {status}, want 1 for a TCF v1 string")
        eq("version", 1)
        checks += 1
        if list(got) != V1_ORDER:
            fail(rid, f"fields {list(got)}, want {V1_ORDER}")
        checks += 1
        if "obsolete" not in got.get("note", ""):
            fail(rid, f"note {got.get('note')!r} does not say v1 is obsolete")
        continue

    checks += 1
    if status != 0 or stderr:
        fail(rid, f"exit {status}, want 0; stderr {stderr.strip()!r}")
    eq("tcfPolicyVersion", int(row["tcfPolicyVersion"]))
    for key in ("isServiceSpecific", "useNonStandardTexts", "purposeOneTreatment"):
        eq(key, row[key] == "1")
    eq("specialFeatureOptins", ids(row["specialFeatureOptins"]))
    eq("purposeLegitimateInterests", ids(row["purposeLegitimateInterests"]))
    eq("publisherCountryCode", row["publisherCC"])
    eq("vendorLegitimateInterests", ids(row["vendorLI"]))
    eq("publisherRestrictions", restrictions(row["publisherRestrictions"]))
    order = list(V2_ORDER)
    if row["disclosedVendors_maxVendorId"]:
        eq("disclosedVendors", ids(row["disclosedVendors"]))
        order += DISCLOSED
    if row["numCustomPurposes"]:
        eq("publisherConsents", ids(row["publisherTC_consents"]))
        eq("publisherLegitimateInterests", ids(row["publisherTC_LI"]))
        eq("numCustomPurposes", int(row["numCustomPurposes"]))
        n = int(row["numCustomPurposes"])
        for key in ("publisherCustomConsents", "publisherCustomLegitimateInterests"):
            checks += 1
            v = got.get(key)
            if not isinstance(v, list) or any(not 1 <= x <= n for x in v):
                fail(rid, f"{key}: {v!r}, not ids 1..{n}")
        order += PUBLISHER_TC
    checks += 1
    if list(got) != order:
        fail(rid, f"fields {list(got)}, want {order}")
    if row["vendorConsents"]:
        print(f"  {rid}: {len(got['vendorConsents'])} vendor consents, "
              f"{len(got['vendorLegitimateInterests'])} legitimate interests")

for f in failures:
    print("FAIL:", f)
print(f"tcf vectors: {checks} field checks, {len(failures)} failed")
sys.exit(1 if failures else 0)
EOF
if python3 "$tmp/check.py" "$vectors" "$tmp"; then ok; else bad "fields differ from tcf-vectors.tsv"; fi

# Errors.
expect 1 "a bad character" -- "$cli" tcf decode 'CO4VGsw%'
if grep -q "^trackwatch tcf decode: tcString: character 8 ('%') is not base64url$" "$tmp/err" && [ ! -s "$tmp/out" ]; then
	ok
else
	bad "a bad character: $(cat "$tmp/err")"
fi
expect 1 "a truncated string" -- "$cli" tcf decode 'CO4VGswO4VGsw'
if grep -q "^trackwatch tcf decode: cmpId: 12 bits needed but 0 left$" "$tmp/err"; then ok; else bad "a truncated string: $(cat "$tmp/err")"; fi
expect 1 "an empty string" -- "$cli" tcf decode ''
expect 1 "an empty standard input" -- "$cli" tcf decode - < /dev/null
expect 2 "no subcommand" -- "$cli" tcf
expect 2 "an unknown subcommand" -- "$cli" tcf encode x
expect 2 "no string" -- "$cli" tcf decode
expect 2 "two strings" -- "$cli" tcf decode CPt3fQAPt3fQACNAFAENDLCgAAAAAAAAACiQAAAOCgDAB CPt3
expect 2 "an unknown option" -- "$cli" tcf decode --frob CPt3
expect 0 "tcf --help" -- "$cli" tcf --help
if grep -q "^Usage: trackwatch tcf decode" "$tmp/out"; then ok; else bad "tcf --help prints no usage"; fi
expect 0 "trackwatch --help" -- "$cli" --help
if grep -q "tcf decode" "$tmp/out"; then ok; else bad "trackwatch --help does not list tcf decode"; fi

if [ "$failed" -eq 0 ]; then
	echo "tcf: $passed checks passed"
else
	echo "tcf: $passed checks passed, $failed failed"
	exit 1
fi
