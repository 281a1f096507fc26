#!/bin/bash
# trackwatch timeline and trackwatch report, end to end, against databases
# built here: the schema is taken from daemon/schema.c (its migrations run
# as written, by python3's sqlite3), the rows are a fixture defined below,
# and every expected output is computed from that fixture by an oracle
# written independently in Python (grouping, first/last seen, counts, the
# unions of lists and categories, the latest hit's company, escaping, ISO
# times), never taken from the program's own output.
#   - JSON of both commands compared whole with the oracle, for every filter:
#     --device by MAC (any case, '-'), address (IPv4, IPv6 not canonical),
#     key and name, --site by name and by a host under it, --since/--until as
#     ISO times, a date and a time ago, --trackers-only;
#   - CSV parsed with python3's csv: the header's column count on every row,
#     the rows the oracle expects, hostile hosts as their escaped form,
#     formulas protected;
#   - text: aligned, no line over 80 columns, nothing but printable ASCII,
#     counts and times on the host lines, "(unknown site)";
#   - hostile host names: a quote, LF and ESC, a 1000-byte label, bytes
#     0xff 0xfe, a spreadsheet formula, a comma;
#   - errors: unknown device or site, bad times and formats (exit 2, the
#     option named), a missing file, a text file, a foreign SQLite file and a
#     database of a newer version (exit 1, with a message); a version-1
#     database is upgraded on read and reported.
#   tests/integration/report.sh TRACKWATCH
set -eu
cli=${1:?usage: report.sh TRACKWATCH}
here=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
expect() { # STATUS DESCRIPTION -- COMMAND...: output in $tmp/out, $tmp/err
	local want=$1 what=$2 got=0
	shift 3
	"$@" > "$tmp/out" 2> "$tmp/err" || got=$?
	if [ "$got" -eq "$want" ]; then ok; else bad "$what: exit $got, want $want"; sed 's/^/    /' "$tmp/err" | head -5; fi
	# Whatever the exit status, a sanitizer report is a failure.
	if grep -qE 'Sanitizer|runtime error' "$tmp/err"; then bad "$what: sanitizer report"; head -20 "$tmp/err"; fi
}
contains() { # FILE TEXT DESCRIPTION
	if grep -qF -- "$2" "$1"; then ok; else bad "$3: '$2' not in output"; sed 's/^/    /' "$1" | head -5; fi
}
# check KIND FILTER-JSON DESCRIPTION: the oracle's verdict on $tmp/out, one PASS or FAIL line per check.
check() {
	local verdict
	verdict=$(python3 "$tmp/fixture.py" check "$here" "$now" "$1" "$2" "$tmp/out" 2>&1) || true
	local n
	n=$(printf '%s\n' "$verdict" | grep -c '^PASS' || true)
	passed=$((passed + n))
	if printf '%s\n' "$verdict" | grep -qv '^PASS'; then
		failed=$((failed + 1))
		printf '%s\n' "$verdict" | grep -v '^PASS' | head -20 | sed "s/^/FAIL: $3: /"
	fi
	if [ "$n" -eq 0 ]; then bad "$3: no check ran"; fi
}

cat > "$tmp/fixture.py" <<'PY'
"""The fixture (the rows of a test database) and the oracle that says what
trackwatch timeline and report must print for it."""
import csv
import datetime
import io
import json
import re
import sqlite3
import sys

EPOCH = datetime.datetime(1970, 1, 1)
S = 1000000
H = 3600 * S
D = 24 * H


def migrations(root):
    """The migrations of daemon/schema.c, as the C compiler would join their literals."""
    src = open(root + '/daemon/schema.c').read()
    src = re.sub(r'/\*.*?\*/', '', src, flags=re.S)
    found = {}
    for m in re.finditer(r'static const char migration_(\d+)\[\]\s*=', src):
        pos, parts = m.end(), []
        while True:
            lit = re.compile(r'\s*"((?:[^"\\]|\\.)*)"').match(src, pos)
            if not lit:
                break
            parts.append(lit.group(1).replace('\\"', '"').replace('\\n', '\n').replace('\\\\', '\\'))
            pos = lit.end()
        found[int(m.group(1))] = ''.join(parts)
    return [found[k] for k in sorted(found)]


def esc(b, keep_space=True):
    """Wire bytes as the sensor escapes them: printable ASCII stays, the rest is \\xNN."""
    if b is None:
        return None
    lo = 0x20 if keep_space else 0x21
    return ''.join(chr(c) if lo <= c < 0x7f and c != 0x5c else '\\x%02x' % c for c in b)


def iso(us):
    if us is None:
        return None
    ms = us // 1000
    dt = EPOCH + datetime.timedelta(milliseconds=ms)
    return dt.strftime('%Y-%m-%dT%H:%M:%S') + '.%03dZ' % (ms % 1000)


def text_time(us):
    return (EPOCH + datetime.timedelta(seconds=us // S)).strftime('%Y-%m-%d %H:%M:%S')


def parse_time(text, now):
    m = re.fullmatch(r'(\d+)([smhdw])', text)
    if m:
        unit = {'s': S, 'm': 60 * S, 'h': H, 'd': D, 'w': 7 * D}[m.group(2)]
        return now - int(m.group(1)) * unit
    if re.fullmatch(r'\d{4}-\d\d-\d\d', text):
        dt = datetime.datetime.strptime(text, '%Y-%m-%d')
    else:
        m = re.fullmatch(r'(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?Z', text)
        dt = datetime.datetime.strptime(m.group(1), '%Y-%m-%dT%H:%M:%S')
        if m.group(2):
            dt += datetime.timedelta(microseconds=int(m.group(2).ljust(6, '0')))
    delta = dt - EPOCH
    return (delta.days * 86400 + delta.seconds) * S + delta.microseconds


# ---- The fixture -------------------------------------------------------------

LAPTOP = 'aa:bb:cc:dd:ee:01'
TV = '192.168.1.20'
PRINTER = 'aa:bb:cc:dd:ee:03'

HOSTILE = [
    b'quote"host.example',
    b'new\nline\x1b[31m.example',
    b'x' * 1000 + b'.long.example',
    b'bad\xff\xfeutf8.example',
    b"=cmd|' /C calc'!A0",
    b'comma,host.example',
    b'space host.example',
]


def hit(entity, category, categories, lst, lists, rule, cname=None):
    return dict(entity=entity, category=category, categories=categories, list=lst, lists=lists,
                rule=rule, cname=cname)


GA = hit('Alphabet', 'Analytics', ['Analytics'], 'easyprivacy', ['easyprivacy', 'disconnect'],
         '||google-analytics.com^')
DC = hit('Alphabet', 'Advertising', ['Advertising', 'Analytics'], 'easylist', ['easylist'],
         '||doubleclick.net^')
FB = hit('Meta', 'Social', ['Social'], 'disconnect', ['disconnect'], 'facebook.net')
CLOAK = hit('Adobe', 'Analytics', ['Analytics'], 'tds', ['tds'], 'omtrdc.net',
            cname=b'news.example.sc.omtrdc.net')
BAD = hit('Hostile Corp', 'Advertising', ['Advertising'], 'easyprivacy', ['easyprivacy'], None)
NOBODY = hit(None, None, [], 'hosts', ['hosts'], '0.0.0.0 tracker.unknown.example')
TVMAKER = hit('T\u00e9l\u00e9viseurs SA', 'Analytics', ['Analytics', 'Telemetry'], 'disconnect',
              ['disconnect'], 'tv-maker.example')
OLDCO = hit('OldCo', 'Advertising', ['Advertising'], 'easyprivacy', ['easyprivacy'], '||adco.example^')
NEWCO = hit('NewCo', 'Analytics', ['Analytics'], 'disconnect', ['disconnect'], 'adco.example')


def fixture(now):
    """Devices, runs and observation rows; rows get ids in the order listed (not time order)."""
    old = (now - 3 * D) // S * S + 597999      # three days ago, .597999 s: shown .597
    recent = (now - H) // S * S + 250500       # an hour ago
    devices = [
        dict(key=LAPTOP, mac=LAPTOP, name=None, hostname=b'laptop-dhcp',
             addresses=[('2001:db8::10', old + 1), ('192.168.1.10', old)]),
        dict(key=TV, mac=None, name='Living Room TV', hostname=None, addresses=[(TV, old)]),
        dict(key=PRINTER, mac=PRINTER, name='printer', hostname=None,
             addresses=[('192.168.1.30', old)]),
    ]
    runs = [
        dict(id=1, source='/captures/monday.pcap', live=0, file_sha256='ab' * 32, file_bytes=123456,
             started=old - 10 * S, ended=old + 60 * S, first_packet=old - 5 * S, last_packet=old + 50 * S,
             status='complete', version='0.1.0',
             lists='[{"name":"easyprivacy","format":"abp","path":"/x","sha256":"cd"}]',
             config_sha256='ef' * 32, packets=1000, observations=30, hits=20, dropped=0),
        dict(id=2, source='interface eth0', live=1, file_sha256=None, file_bytes=None,
             started=recent - 10 * S, ended=None, first_packet=recent - 9 * S, last_packet=None,
             status='running', version='0.1.0', lists='[]', config_sha256=None, packets=5,
             observations=4, hits=3, dropped=1),
    ]
    R = []

    def row(ts, device, site, kind, host, h=None, server='198.51.100.7', run=1):
        R.append(dict(ts=ts, device=device, site=site, kind=kind, host=host, hit=h, server=server, run=run))

    # Recent rows first: ids do not follow time.
    row(recent, LAPTOP, 'news.example', 'tls_sni', b'www.google-analytics.com', GA, run=2)
    # The latest hit decides the company: by time (a microsecond apart), not by id.
    row(recent + 1 * S + 2, LAPTOP, 'news.example', 'tls_sni', b'px.adco.example', NEWCO, run=2)
    row(recent + 1 * S + 1, LAPTOP, 'news.example', 'tls_sni', b'px.adco.example', OLDCO, run=2)
    row(recent + 2 * S, LAPTOP, 'shop.example', 'tls_sni', b'connect.facebook.net', FB, run=2)
    row(recent + 3 * S, LAPTOP, 'shop.example', 'http_request', b'connect.facebook.net', FB, run=2)
    row(recent + 4 * S, LAPTOP, 'shop.example', 'tls_sni', b'www.google-analytics.com', GA, run=2)
    row(recent + 5 * S, LAPTOP, 'shop.example', 'dns_query', b'www.shop.example', run=2)
    row(recent + 6 * S, TV, 'news.example', 'tls_sni', b'www.google-analytics.com', GA, run=2)
    row(old, LAPTOP, 'news.example', 'dns_query', b'www.news.example')
    row(old + 1 * S, LAPTOP, 'news.example', 'tls_sni', b'www.google-analytics.com', GA)
    row(old + 2 * S + 1500, LAPTOP, 'news.example', 'http_request', b'www.google-analytics.com', GA)
    row(old + 2 * S, LAPTOP, 'news.example', 'tls_sni', b'stats.g.doubleclick.net', DC)
    row(old + 3 * S, LAPTOP, 'news.example', 'dns_query', b'metrics.news.example', CLOAK)
    row(old + 3 * S + 999, LAPTOP, 'news.example', 'tls_sni', b'px.adco.example', OLDCO)
    for i, name in enumerate(HOSTILE):
        row(old + (10 + i) * S, LAPTOP, 'news.example', 'tls_sni', name, BAD)
    row(old + 30 * S, LAPTOP, None, 'tls_sni', b'tracker.unknown.example', NOBODY)
    row(old + 31 * S, LAPTOP, None, 'dns_query', b'www.example.org')
    row(old + 40 * S, TV, None, 'tls_sni', b'log.tv-maker.example', TVMAKER, server='2001:db8::53')
    row(old + 41 * S, TV, None, 'tls_sni', b'log.tv-maker.example', TVMAKER, server='2001:db8::53')
    row(old + 42 * S, TV, None, 'dns_query', b'time.tv-maker.example')
    row(old + 50 * S, PRINTER, None, 'dns_query', b'printer.vendor.example')
    for i, r in enumerate(R):
        r['id'] = i + 1
    return dict(old=old, recent=recent, devices=devices, runs=runs, rows=R)


def make(root, path, version, now):
    fx = fixture(now)
    db = sqlite3.connect(path)
    for v, sql in enumerate(migrations(root)[:version]):
        db.executescript(sql)
        db.execute('PRAGMA user_version = %d' % (v + 1))
    db.execute("INSERT INTO meta(key, value) VALUES ('created_by', 'trackwatch')")
    ids = {}

    def intern(table, column, value, text=True):
        if value is None:
            return None
        key = (table, value)
        if key not in ids:
            cast = 'CAST(? AS TEXT)' if isinstance(value, bytes) else '?'
            cur = db.execute('INSERT INTO %s(%s) VALUES (%s)' % (table, column, cast), (value,))
            ids[key] = cur.lastrowid
        return ids[key]

    for r in fx['runs']:
        cols = [k for k in r]
        db.execute('INSERT INTO runs(%s) VALUES (%s)' % (','.join(cols), ','.join('?' * len(cols))),
                   [r[k] for k in cols])
    dev_ids = {}
    for d in fx['devices']:
        first = min(t for _, t in d['addresses'])
        cur = db.execute('INSERT INTO devices(key, mac, name, first_seen, last_seen) VALUES (?,?,?,?,?)',
                         (d['key'], d['mac'], d['name'], first, first))
        dev_ids[d['key']] = cur.lastrowid
        if version >= 2 and d['hostname'] is not None:
            db.execute('UPDATE devices SET hostname = CAST(? AS TEXT) WHERE id = ?',
                       (d['hostname'], cur.lastrowid))
        for a, t in d['addresses']:
            db.execute('INSERT INTO device_addresses VALUES (?,?,?,?)', (cur.lastrowid, a, t, t))
    for r in fx['rows']:
        db.execute('INSERT INTO observations(id, run_id, ts, device_id, site_id, kind_id, host_id, server,'
                   ' sport, dport, proto, flow) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)',
                   (r['id'], r['run'], r['ts'], dev_ids[r['device']], intern('sites', 'name', r['site']),
                    intern('kinds', 'name', r['kind']), intern('hosts', 'name', r['host']), r['server'],
                    50000, 443, 6, r['id']))
        h = r['hit']
        if h:
            sets = [intern('sets', 'names', json.dumps(h[k], separators=(',', ':'))) for k in ('categories', 'lists')]
            vals = [r['id'], intern('entities', 'name', h['entity']), intern('categories', 'name', h['category']),
                    sets[0], intern('lists', 'name', h['list']), sets[1], intern('rules', 'text', h['rule'])]
            if version >= 2:
                db.execute('INSERT INTO hits(observation_id, entity_id, category_id, categories_id, list_id,'
                           ' lists_id, rule_id, cname_id) VALUES (?,?,?,?,?,?,?,?)',
                           vals + [intern('hosts', 'name', h['cname'])])
            else:
                db.execute('INSERT INTO hits VALUES (?,?,?,?,?,?,?)', vals)
    db.commit()
    db.close()


# ---- The oracle --------------------------------------------------------------

def selected(fx, flt, now):
    since = parse_time(flt['since'], now) if 'since' in flt else None
    until = parse_time(flt['until'], now) if 'until' in flt else None
    out = []
    for r in fx['rows']:
        if 'devices' in flt and r['device'] not in flt['devices']:
            continue
        if 'sites' in flt and r['site'] not in flt['sites']:
            continue
        if since is not None and r['ts'] < since:
            continue
        if until is not None and r['ts'] >= until:
            continue
        if flt.get('trackers_only') and not r['hit']:
            continue
        out.append(r)
    return out


def cname_of(h, flt):
    return h['cname'] if h and flt.get('version', 2) >= 2 else None


# What a phase counts as contacting a host (cli/phases.c): not DNS lookups.
CONTACT_KINDS = {'tls_sni', 'dtls_sni', 'quic_sni', 'http_request', 'resumed', 'connection'}


def report_expected(fx, flt, now):
    groups = {}
    for r in selected(fx, flt, now):
        if r['hit']:
            groups.setdefault((r['device'], r['site'], r['host']), []).append(r)
    by_device = {}
    for (dk, site, host), rs in groups.items():
        latest = max(rs, key=lambda r: (r['ts'], r['id']))
        h = latest['hit']
        cname = cname_of(h, flt) or next((cname_of(r['hit'], flt) for r in rs if cname_of(r['hit'], flt)), None)
        t = dict(host=esc(host), entity=h['entity'], category=h['category'],
                 categories=sorted({c for r in rs for c in r['hit']['categories']}),
                 lists=sorted({c for r in rs for c in r['hit']['lists']}),
                 first_seen=iso(min(r['ts'] for r in rs)), last_seen=iso(max(r['ts'] for r in rs)),
                 count=len(rs), cname=esc(cname))
        t['_order'] = (h['entity'] is None, (h['entity'] or '').encode(), host)
        by_device.setdefault(dk, {}).setdefault(site, []).append(t)
    devices = []
    for d in fx['devices']:
        if d['key'] not in by_device:
            continue
        sites = []
        for site in sorted(by_device[d['key']], key=lambda s: (s is None, s or '')):
            trackers = sorted(by_device[d['key']][site], key=lambda t: t['_order'])
            for t in trackers:
                del t['_order']
            # No consent signal or mark in the fixture: everything is before consent.
            contacts = [r for r in selected(fx, flt, now) if r['hit'] and r['device'] == d['key']
                        and r['site'] == site and r['kind'] in CONTACT_KINDS]
            empty = {k: [] for k in ('tracker_hosts', 'entities', 'cookies_set', 'cookies_sent',
                                     'identifier_cookies', 'near_decision')}
            before = dict(empty, tracker_hosts=sorted({esc(r['host']) for r in contacts}),
                          entities=sorted({r['hit']['entity'] for r in contacts if r['hit']['entity']}))
            phases = {'before_consent': before, 'after_accept': dict(empty),
                      'after_reject': dict(empty), 'after_partial': dict(empty)}
            sites.append(dict(site=site, trackers=trackers, consent=[], phases=phases))
        addresses = [a for a, _ in sorted(d['addresses'], key=lambda x: (x[1], x[0]))]
        hostname = esc(d['hostname']) if flt.get('version', 2) >= 2 else None
        devices.append(dict(device=d['key'], mac=d['mac'], addresses=addresses, name=d['name'],
                            hostname=hostname, syncing=[], sites=sites))
    devices.sort(key=lambda d: d['device'].encode())
    runs = []
    for r in fx['runs']:
        e = dict(r)
        for k in ('started', 'ended', 'first_packet', 'last_packet'):
            e[k] = iso(r[k])
        e['live'] = bool(r['live'])
        e['lists'] = json.loads(r['lists'])
        # Schema 4's capture counters: NULL in the fixture's runs (and in an upgraded database).
        e.setdefault('capture_received', None)
        e.setdefault('capture_dropped', None)
        runs.append(e)
    return dict(devices=devices, runs=runs)


def timeline_expected(fx, flt, now):
    names = {d['key']: d['name'] for d in fx['devices']}
    events = []
    for r in sorted(selected(fx, flt, now), key=lambda r: (r['ts'], r['id'])):
        h = r['hit'] or {}
        events.append(dict(ts=iso(r['ts']), device=r['device'], device_name=names[r['device']],
                           site=r['site'], kind=r['kind'], host=esc(r['host']), tracker=bool(r['hit']),
                           entity=h.get('entity'), category=h.get('category'),
                           lists=h.get('lists'), rule=h.get('rule'), cname=esc(cname_of(r['hit'], flt)),
                           server=r['server'], run=r['run'],
                           # No consent in the fixture; no cookie or consent rows either.
                           phase='before_consent', cookie=None, decision=None, source=None))
    return events


def verdict(good, what):
    print(('PASS ' if good else 'FAIL ') + what)


def diff(got, want, what):
    if got == want:
        verdict(True, what)
        return
    verdict(False, what + ': output differs from the oracle')
    g = json.dumps(got, indent=1, sort_keys=True).splitlines()
    w = json.dumps(want, indent=1, sort_keys=True).splitlines()
    import difflib
    for line in list(difflib.unified_diff(w, g, 'oracle', 'trackwatch', lineterm='', n=1))[:30]:
        print('    ' + line)


ISO_MS = re.compile(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z')


def check_report_json(fx, flt, now, data):
    doc = json.loads(data)
    want = report_expected(fx, flt, now)
    verdict(set(doc) == {'devices', 'runs'}, 'top-level keys devices, runs')
    keys_ok = all(set(d) == {'device', 'mac', 'addresses', 'name', 'hostname', 'syncing', 'sites'}
                  for d in doc['devices'])
    verdict(keys_ok, 'device keys')
    tkeys = {'host', 'entity', 'category', 'categories', 'lists', 'first_seen', 'last_seen', 'count', 'cname'}
    verdict(all(set(t) == tkeys for d in doc['devices'] for s in d['sites'] for t in s['trackers']),
            'tracker keys')
    times = [t[k] for d in doc['devices'] for s in d['sites'] for t in s['trackers'] for k in ('first_seen', 'last_seen')]
    verdict(all(ISO_MS.fullmatch(x) for x in times), 'first/last seen are ISO 8601 with milliseconds')
    verdicts = [s.pop('verdict', None) for d in doc['devices'] for s in d['sites']]
    verdict(all(v and v.startswith((s['site'] or '(unknown site)') + ': before any consent, ')
                and v.endswith('no consent decision was seen.')
                for v, s in zip(verdicts, [s for d in doc['devices'] for s in d['sites']])),
            'each site has its verdict')
    diff(doc['devices'], want['devices'], 'devices, sites and trackers')
    diff(doc['runs'], want['runs'], 'runs')


def check_report_csv(fx, flt, now, data):
    columns = ['device', 'mac', 'name', 'addresses', 'site', 'host', 'entity', 'category', 'categories',
               'lists', 'cname', 'first_seen', 'last_seen', 'count']
    rows = list(csv.reader(io.StringIO(data, newline='')))
    verdict(rows and rows[0] == columns, 'CSV header')
    verdict(all(len(r) == len(columns) for r in rows), 'every CSV row has the header\'s column count')

    def protect(s):
        return "'" + s if s and s[0] in '=+-@\t\r' else s

    def names(v):  # text from lists and the configuration: escaped as wire bytes are, in CSV
        return None if v is None else ';'.join(esc(x.encode()) for x in v) if isinstance(v, list) else esc(v.encode())
    want = []
    for d in report_expected(fx, flt, now)['devices']:
        for s in d['sites']:
            for t in s['trackers']:
                want.append([protect(x or '') for x in (d['device'], d['mac'], names(d['name']), ';'.join(d['addresses']),
                             s['site'], t['host'], names(t['entity']), names(t['category']), names(t['categories']),
                             names(t['lists']), t['cname'])] + [t['first_seen'], t['last_seen'], str(t['count'])])
    diff(rows[1:], want, 'CSV rows')


def check_report_text(fx, flt, now, data):
    lines = data.split('\n')
    verdict(all(len(l) <= 80 for l in lines), 'text lines fit 80 columns')
    verdict(all(0x20 <= ord(c) < 0x7f for c in data.replace('\n', '')), 'text is printable ASCII')
    want = report_expected(fx, flt, now)
    for d in want['devices']:
        head = 'Device ' + d['device'] + (' (%s)' % d['name'] if d['name'] else '')
        verdict(head in lines, 'device line ' + head)
        verdict(('  addresses ' + ', '.join(d['addresses'])) in lines or len(d['addresses']) == 1,
                'addresses of ' + d['device'])
        for s in d['sites']:
            verdict(('  ' + (s['site'] or '(unknown site)')) in lines, 'site line %s' % s['site'])
            for t in s['trackers']:
                host = esc(next(r['host'] for r in fx['rows'] if esc(r['host']) == t['host']), keep_space=False)
                first = text_time(parse_time(t['first_seen'], now))
                last = text_time(parse_time(t['last_seen'], now))
                numbers = '  %5d  %s  %s' % (t['count'], first, last)
                if len(host) <= 24:
                    good = ('      %-24s%s' % (host, numbers)) in lines
                else:
                    shown = host if len(host) <= 73 else host[:23] + '...' + host[-47:]
                    i = lines.index('      ' + shown) if ('      ' + shown) in lines else -1
                    good = i >= 0 and lines[i + 1] == ' ' * 30 + numbers
                verdict(good, 'host line of %s on %s' % (host[:40], s['site']))
    trackers = [t for d in want['devices'] for s in d['sites'] for t in s['trackers']]
    hits = sum(t['count'] for t in trackers)
    plural = lambda n, what: '%d %s%s' % (n, what, '' if n == 1 else 's')
    summary = '%s on %s, %s' % (plural(len(trackers), 'tracker host'), plural(len(want['devices']), 'device'),
                                plural(hits, 'hit')) if trackers else 'No tracker hits match.'
    verdict(summary in lines, 'summary: ' + summary)
    if any(t['host'] == 'stats.g.doubleclick.net' for d in want['devices'] for s in d['sites'] for t in s['trackers']):
        # Alphabet on news.example: doubleclick (Advertising, easylist) and google-analytics
        # (Analytics, easyprivacy and disconnect), sorted.
        verdict('    Alphabet (Advertising, Analytics; lists disconnect, easylist, easyprivacy)' in lines,
                'company line: categories and lists of its hosts')


def check_timeline_json(fx, flt, now, data):
    events = json.loads(data)
    verdict(isinstance(events, list), 'timeline JSON is an array')
    verdict(all(ISO_MS.fullmatch(e['ts']) for e in events), 'ts are ISO 8601 with milliseconds')
    diff(events, timeline_expected(fx, flt, now), 'timeline events')


def check_timeline_csv(fx, flt, now, data):
    rows = list(csv.reader(io.StringIO(data, newline='')))
    columns = ['ts', 'device', 'device_name', 'site', 'kind', 'host', 'tracker', 'entity', 'category',
               'lists', 'rule', 'cname', 'server', 'run', 'phase', 'cookie', 'decision', 'source']
    verdict(rows and rows[0] == columns, 'timeline CSV header')
    verdict(all(len(r) == len(columns) for r in rows), 'every timeline CSV row has the header\'s column count')

    wire = {'ts', 'device', 'site', 'kind', 'host', 'cname', 'server', 'run', 'phase', 'cookie',
            'decision', 'source'}

    def field(column, v):
        if v is None:
            return ''
        if v is True or v is False:
            return 'true' if v else 'false'
        if column not in wire:  # text from lists and the configuration: escaped as wire bytes are, in CSV
            v = ';'.join(esc(x.encode()) for x in v) if isinstance(v, list) else esc(v.encode())
        v = str(v)
        return "'" + v if v and v[0] in '=+-@\t\r' else v
    want = [[field(c, e[c]) for c in columns] for e in timeline_expected(fx, flt, now)]
    diff(rows[1:], want, 'timeline CSV rows')


def check_timeline_text(fx, flt, now, data):
    lines = data.rstrip('\n').split('\n')
    events = timeline_expected(fx, flt, now)
    verdict(len(lines) == len(events) + 1 and lines[0].split() == ['TIME', 'DEVICE', 'SITE', 'KIND', 'PHASE', 'HOST'],
            'a header and one line per event')
    verdict(all(0x20 <= ord(c) < 0x7f for c in data.replace('\n', '')), 'text is printable ASCII')
    good = True
    for line, e in zip(lines[1:], events):
        host = esc(next(r['host'] for r in fx['rows'] if esc(r['host']) == e['host']), keep_space=False)
        shown = host if len(host) <= 80 else host[:25] + '...' + host[-52:]
        device = e['device_name'] or e['device']
        start = '%-24s  %-17s  %-22s  %-12s  %-7s  %s' % (e['ts'], device, e['site'] or '-', e['kind'],
                                                        'before', shown)
        mark = ''
        if e['tracker']:
            parts = [x for x in (e['entity'], e['category']) if x]
            mark = '  [tracker' + (': ' + ', '.join(esc(p.encode()) for p in parts) if parts else '')
            mark += ('; CNAME ' + esc(fx_cname(fx, e['cname']), keep_space=False) if e['cname'] else '') + ']'
        if line != start + mark:
            good = False
            print('    want: ' + start + mark)
            print('    got:  ' + line)
    verdict(good, 'text lines: time, device, site, kind, host, tracker mark')


def fx_cname(fx, escaped):
    return next(r['hit']['cname'] for r in fx['rows'] if r['hit'] and esc(r['hit']['cname']) == escaped)


if __name__ == '__main__':
    if sys.argv[1] == 'make':
        make(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif sys.argv[1] == 'check':
        root, now, kind, flt, path = sys.argv[2], int(sys.argv[3]), sys.argv[4], json.loads(sys.argv[5]), sys.argv[6]
        data = open(path, 'rb').read().decode('ascii')  # anything else fails here: output must be ASCII
        globals()['check_' + kind.replace('-', '_')](fixture(now), flt, now, data)
PY

now=$(python3 -c 'import time; print(int(time.time() * 1000000))')
db=$tmp/trackwatch.db
python3 "$tmp/fixture.py" make "$here" "$db" 2 "$now"
laptop='"devices": ["aa:bb:cc:dd:ee:01"]'
tv='"devices": ["192.168.1.20"]'

# ---- help, usage errors --------------------------------------------------------
for cmd in timeline report; do
	expect 0 "$cmd --help" -- "$cli" "$cmd" --help
	contains "$tmp/out" "Usage: trackwatch $cmd" "$cmd --help"
	contains "$tmp/out" "--since" "$cmd --help"
	expect 2 "$cmd --format xml" -- "$cli" "$cmd" --db "$db" --format xml
	contains "$tmp/err" "--format" "$cmd --format xml names the option"
	expect 2 "$cmd --since yesterday" -- "$cli" "$cmd" --db "$db" --since yesterday
	contains "$tmp/err" "--since" "$cmd --since yesterday names the option"
	expect 2 "$cmd --until 2026-13-01" -- "$cli" "$cmd" --db "$db" --until 2026-13-01
	contains "$tmp/err" "--until" "$cmd --until 2026-13-01 names the option"
	expect 2 "$cmd --until 2026-02-30" -- "$cli" "$cmd" --db "$db" --until 2026-02-30
	expect 2 "$cmd --since 2026-11-29T25:00:00Z" -- "$cli" "$cmd" --db "$db" --since 2026-11-29T25:00:00Z
	expect 2 "$cmd --since 2026-11-29T04:39:50 (no Z)" -- "$cli" "$cmd" --db "$db" --since 2026-11-29T04:39:50
	expect 2 "$cmd --since 5y" -- "$cli" "$cmd" --db "$db" --since 5y
	expect 2 "$cmd --since 99999999999999999999d" -- "$cli" "$cmd" --db "$db" --since 99999999999999999999d
	expect 2 "$cmd --frobnicate" -- "$cli" "$cmd" --db "$db" --frobnicate
	expect 2 "$cmd with an argument" -- "$cli" "$cmd" --db "$db" extra
done

# ---- report --------------------------------------------------------------------
expect 0 "report --format json" -- "$cli" report --db "$db" --format json
check report-json '{}' "report json"
expect 0 "report --format csv" -- "$cli" report --db "$db" --format csv
check report-csv '{}' "report csv"
# The hostile names as a spreadsheet reads them.
contains "$tmp/out" "'=cmd|' /C calc'!A0" "csv: a formula gets a leading quote"
contains "$tmp/out" '"comma,host.example"' "csv: a comma is quoted"
contains "$tmp/out" '"quote""host.example"' "csv: a quote is doubled"
contains "$tmp/out" 'bad\xff\xfeutf8.example' "csv: invalid UTF-8 escaped"
expect 0 "report (text)" -- "$cli" report --db "$db"
check report-text '{}' "report text"
contains "$tmp/out" "(unknown site)" "text: unknown site"
contains "$tmp/out" "(unknown company)" "text: a hit without a company"
contains "$tmp/out" "CNAME news.example.sc.omtrdc.net" "text: the CNAME of a cloaked host"
contains "$tmp/out" 'T\xc3\xa9l\xc3\xa9viseurs SA' "text: a company name outside ASCII, escaped"
contains "$tmp/out" 'new\x0aline\x1b[31m.example' "text: LF and ESC escaped"
contains "$tmp/out" 'space\x20host.example' "text: a space in a host escaped"
# 73 columns: a third before the "...", the rest after (the end, with the registrable domain).
long_shown=$(python3 -c "print('x' * 23 + '...' + ('x' * 1000 + '.long.example')[-47:])")
contains "$tmp/out" "$long_shown" "text: a long host elided"
if grep -q 'printer' "$tmp/out"; then bad "text: a device without hits is reported"; else ok; fi
if grep -q 'www.example.org\|www.news.example\|time.tv-maker' "$tmp/out"; then bad "text: a host without hits is reported"; else ok; fi
# The default format is text, and --format text says so too.
"$cli" report --db "$db" > "$tmp/default.txt" 2>&1 || true
expect 0 "report --format text" -- "$cli" report --db "$db" --format text
if cmp -s "$tmp/out" "$tmp/default.txt"; then ok; else bad "report: --format text differs from the default"; fi

# --device: by MAC (any case, '-' too), address, IPv6 written otherwise, key, name.
for spec in aa:bb:cc:dd:ee:01 AA:BB:CC:DD:EE:01 aa-bb-cc-dd-ee-01 192.168.1.10 2001:DB8:0:0::10; do
	expect 0 "report --device $spec" -- "$cli" report --db "$db" --device "$spec" --format json
	check report-json "{$laptop}" "report --device $spec"
done
for spec in 192.168.1.20 'Living Room TV' 'living room tv'; do
	expect 0 "report --device '$spec'" -- "$cli" report --db "$db" -d "$spec" --format json
	check report-json "{$tv}" "report --device '$spec'"
done
expect 0 "report --device printer (no hits)" -- "$cli" report --db "$db" --device printer --format json
check report-json '{"devices": ["aa:bb:cc:dd:ee:03"]}' "report --device printer"
expect 0 "report --device printer (text)" -- "$cli" report --db "$db" --device printer
check report-text '{"devices": ["aa:bb:cc:dd:ee:03"]}' "report --device printer (text)"
expect 0 "report --since 2h (text)" -- "$cli" report --db "$db" --since 2h
check report-text '{"since": "2h"}' "report --since 2h (text)"
expect 1 "report --device nobody" -- "$cli" report --db "$db" --device nobody
contains "$tmp/err" "no device" "report --device nobody"
contains "$tmp/err" "'nobody'" "report --device nobody names it"
expect 1 "report --device 10.9.9.9" -- "$cli" report --db "$db" --device 10.9.9.9

# --site: the name, a host under it, any case.
for spec in news.example www.news.example WWW.NEWS.EXAMPLE. ; do
	expect 0 "report --site $spec" -- "$cli" report --db "$db" --site "$spec" --format json
	check report-json '{"sites": ["news.example"]}' "report --site $spec"
done
expect 0 "report --site shop.example --device tv" -- "$cli" report --db "$db" -s shop.example -d 'Living Room TV' --format json
check report-json "{$tv, \"sites\": [\"shop.example\"]}" "report --site shop.example --device tv"
expect 1 "report --site elsewhere.example" -- "$cli" report --db "$db" --site elsewhere.example
contains "$tmp/err" "no site" "report --site elsewhere.example"

# --since/--until: a time ago, ISO times with and without milliseconds, a date.
old=$(python3 -c "import sys; sys.path.insert(0, '$tmp'); import fixture; print(fixture.iso(fixture.fixture($now)['old'] + 2000000))")
old_s=${old%.*}Z
# The time of a hit to the microsecond: --since takes it in, --until leaves it out.
exact=$(python3 -c "import sys; sys.path.insert(0, '$tmp'); import fixture; t = fixture.fixture($now)['old'] + 1000000; print(fixture.iso(t)[:-1] + '%03dZ' % (t % 1000))")
today=$(python3 -c "import datetime; print(datetime.datetime.utcfromtimestamp($now // 1000000).strftime('%Y-%m-%d'))")
for filter in "since $exact" "until $exact" "since 2h" "until 2h" "since $old" "until $old" "since $old_s" "until $old_s" "since $today" "until $today" "since 1w" "until 2026-11-29T04:39:50.5Z"; do
	set -- $filter
	expect 0 "report --$1 $2" -- "$cli" report --db "$db" "--$1" "$2" --format json
	check report-json "{\"$1\": \"$2\"}" "report --$1 $2"
	expect 0 "report --$1 $2 --device tv --site news.example" -- "$cli" report --db "$db" "--$1" "$2" -d 192.168.1.20 -s news.example --format csv
	check report-csv "{\"$1\": \"$2\", $tv, \"sites\": [\"news.example\"]}" "report --$1 $2 (csv, tv, news.example)"
done
expect 0 "report --since 2h --until 30m" -- "$cli" report --db "$db" --since 2h --until 30m --format json
check report-json '{"since": "2h", "until": "30m"}' "report --since 2h --until 30m"

# ---- timeline ------------------------------------------------------------------
expect 0 "timeline --format json" -- "$cli" timeline --db "$db" --format json
check timeline-json '{}' "timeline json"
expect 0 "timeline --trackers-only" -- "$cli" timeline --db "$db" --trackers-only --format json
check timeline-json '{"trackers_only": true}' "timeline --trackers-only"
expect 0 "timeline -t --device ... --site ..." -- "$cli" timeline --db "$db" -t -d AA-BB-CC-DD-EE-01 -s shop.example --format json
check timeline-json "{\"trackers_only\": true, $laptop, \"sites\": [\"shop.example\"]}" "timeline -t -d laptop -s shop.example"
expect 0 "timeline --since 2h" -- "$cli" timeline --db "$db" --since 2h --format json
check timeline-json '{"since": "2h"}' "timeline --since 2h"
expect 0 "timeline --since/--until ISO" -- "$cli" timeline --db "$db" --since "$old" --until "$today" --format json
check timeline-json "{\"since\": \"$old\", \"until\": \"$today\"}" "timeline --since $old --until $today"
expect 0 "timeline --format csv" -- "$cli" timeline --db "$db" --format csv
check timeline-csv '{}' "timeline csv"
contains "$tmp/out" "'=cmd|' /C calc'!A0" "timeline csv: a formula gets a leading quote"
expect 0 "timeline (text)" -- "$cli" timeline --db "$db"
check timeline-text '{}' "timeline text"
expect 0 "timeline --device printer (text)" -- "$cli" timeline --db "$db" --device printer
check timeline-text '{"devices": ["aa:bb:cc:dd:ee:03"]}' "timeline --device printer"
expect 0 "timeline nothing in range" -- "$cli" timeline --db "$db" --since 1s --format json
check timeline-json '{"since": "1s"}' "timeline --since 1s (empty)"
expect 0 "timeline nothing in range (text)" -- "$cli" timeline --db "$db" --since 1s
contains "$tmp/out" "No observations match." "timeline --since 1s (text)"
expect 1 "timeline --device nobody" -- "$cli" timeline --db "$db" --device nobody
contains "$tmp/err" "no device" "timeline --device nobody"

# ---- databases that are not right ------------------------------------------------
expect 1 "missing database" -- "$cli" report --db "$tmp/none.db"
contains "$tmp/err" "$tmp/none.db" "missing database named"
if [ ! -e /var/lib/trackwatch/trackwatch.db ]; then
	expect 1 "default database missing" -- "$cli" timeline
	contains "$tmp/err" "/var/lib/trackwatch/trackwatch.db" "the default database is named"
fi
printf 'this is not a database, just text\n%.0s' $(seq 200) > "$tmp/text.db"
expect 1 "a text file" -- "$cli" report --db "$tmp/text.db"
contains "$tmp/err" "not a trackwatch database" "a text file"
python3 -c "import sqlite3; d = sqlite3.connect('$tmp/foreign.db'); d.execute('CREATE TABLE t(x)'); d.commit()"
expect 1 "a foreign SQLite database" -- "$cli" timeline --db "$tmp/foreign.db"
contains "$tmp/err" "not a trackwatch database" "a foreign SQLite database"
python3 "$tmp/fixture.py" make "$here" "$tmp/newer.db" 2 "$now"
python3 -c "import sqlite3; d = sqlite3.connect('$tmp/newer.db'); d.execute('PRAGMA user_version = 99'); d.commit()"
expect 1 "a newer database" -- "$cli" report --db "$tmp/newer.db"
contains "$tmp/err" "newer" "a newer database"
expect 1 "a newer database (timeline)" -- "$cli" timeline --db "$tmp/newer.db"
python3 "$tmp/fixture.py" make "$here" "$tmp/v1.db" 1 "$now"
expect 0 "a version-1 database is upgraded" -- "$cli" report --db "$tmp/v1.db" --format json
check report-json '{"version": 1}' "report of an upgraded version-1 database"
version=$(python3 -c "import sqlite3; print(sqlite3.connect('$tmp/v1.db').execute('PRAGMA user_version').fetchone()[0])")
latest=$(grep -c 'static const char migration_[0-9]*\[\]' "$here/daemon/schema.c")
if [ "$version" = "$latest" ]; then ok; else bad "the version-1 database is at version $version after reading, not $latest"; fi
expect 0 "timeline of the upgraded database" -- "$cli" timeline --db "$tmp/v1.db" --format json
check timeline-json '{"version": 1}' "timeline of an upgraded version-1 database"

if [ "$failed" -eq 0 ]; then
	echo "report: $passed checks passed"
else
	echo "report: $passed checks passed, $failed failed"
	exit 1
fi
