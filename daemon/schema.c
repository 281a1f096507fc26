/*
 * schema: the store's tables, as forward migrations. Migration n takes a
 * database from user_version n-1 to n; a new database runs them all. Never
 * edit a migration that has shipped: add one. The reference for people who
 * query with sqlite3 is trackwatchd(8), section STORE.
 *
 * Conventions: times are INTEGER microseconds since the Unix epoch (UTC);
 * strings from the wire (hosts) are stored as the bytes seen (they may be
 * invalid UTF-8: readers escape them); repeated strings live once in a table
 * of their own (hosts, entities, categories, lists, rules, sets) and rows
 * point to them.
 */
#include "schema.h"

static const char migration_1[] =
	/* Facts about the database itself: created_by, ... */
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
	/*
	 * One run of trackwatchd: a capture file read (or several read as one
	 * stream) or a live capture. Evidence for an auditor: what was read
	 * (file_sha256 over the file's bytes, several files in order), when,
	 * by which version, with which lists (a JSON array of {name, format,
	 * path, sha256}) and which configuration (sha256 of the file read).
	 * status: running (or killed while running), complete, interrupted
	 * (reading files, stopped by a signal; a live capture ended by a signal is
	 * complete), failed (input not read in full, or the store failed).
	 */
	"CREATE TABLE runs ("
	" id INTEGER PRIMARY KEY,"
	" source TEXT NOT NULL,"
	" live INTEGER NOT NULL DEFAULT 0,"
	" file_sha256 TEXT,"
	" file_bytes INTEGER,"
	" started INTEGER NOT NULL,"
	" ended INTEGER,"
	" first_packet INTEGER,"
	" last_packet INTEGER,"
	" status TEXT NOT NULL DEFAULT 'running',"
	" version TEXT NOT NULL,"
	" lists TEXT NOT NULL DEFAULT '[]',"
	" config_sha256 TEXT,"
	" packets INTEGER NOT NULL DEFAULT 0,"
	" observations INTEGER NOT NULL DEFAULT 0,"
	" hits INTEGER NOT NULL DEFAULT 0,"
	" dropped INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX runs_file_sha256 ON runs(file_sha256);"
	/* Observation kinds by name (trackwatchd(8), OBSERVATIONS). */
	"CREATE TABLE kinds (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
	"CREATE TABLE hosts (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
	"CREATE TABLE entities (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
	"CREATE TABLE categories (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
	"CREATE TABLE lists (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
	"CREATE TABLE rules (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);"
	/* A set of names as a JSON array of strings: ["Advertising","Tracking"]. */
	"CREATE TABLE sets (id INTEGER PRIMARY KEY, names TEXT NOT NULL UNIQUE);"
	/*
	 * A device: its client MAC where the link has one (key = the MAC,
	 * "aa:bb:cc:dd:ee:ff"), else its address (key = the address). name:
	 * the operator's name for it (configuration `devices:`).
	 */
	"CREATE TABLE devices ("
	" id INTEGER PRIMARY KEY,"
	" key TEXT NOT NULL UNIQUE,"
	" mac TEXT,"
	" name TEXT,"
	" first_seen INTEGER NOT NULL,"
	" last_seen INTEGER NOT NULL);"
	"CREATE TABLE device_addresses ("
	" device_id INTEGER NOT NULL REFERENCES devices(id),"
	" address TEXT NOT NULL,"
	" first_seen INTEGER NOT NULL,"
	" last_seen INTEGER NOT NULL,"
	" PRIMARY KEY (device_id, address)) WITHOUT ROWID;"
	/* A site is a first party: a registrable domain (eTLD+1), or a name without one. */
	"CREATE TABLE sites (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
	/*
	 * A visit: a device on a site from `started`, until its next visit.
	 * how: referer, origin (the site came from that request header) or
	 * navigation (host_id was contacted after a pause: trackwatchd(8),
	 * SITES).
	 */
	"CREATE TABLE visits ("
	" id INTEGER PRIMARY KEY,"
	" run_id INTEGER NOT NULL REFERENCES runs(id),"
	" device_id INTEGER NOT NULL REFERENCES devices(id),"
	" site_id INTEGER NOT NULL REFERENCES sites(id),"
	" started INTEGER NOT NULL,"
	" last INTEGER NOT NULL,"
	" how TEXT NOT NULL,"
	" host_id INTEGER NOT NULL REFERENCES hosts(id));"
	/*
	 * What a device contacted: one row per observation kept (trackwatchd(8),
	 * STORE, says which kinds). host_id: the name contacted; for a
	 * connection that named nothing, the name its server address was
	 * resolved for, else the address. server: the server's address.
	 */
	"CREATE TABLE observations ("
	" id INTEGER PRIMARY KEY,"
	" run_id INTEGER NOT NULL REFERENCES runs(id),"
	" ts INTEGER NOT NULL,"
	" device_id INTEGER NOT NULL REFERENCES devices(id),"
	" visit_id INTEGER REFERENCES visits(id),"
	" site_id INTEGER REFERENCES sites(id),"
	" kind_id INTEGER NOT NULL REFERENCES kinds(id),"
	" host_id INTEGER NOT NULL REFERENCES hosts(id),"
	" server TEXT NOT NULL,"
	" sport INTEGER NOT NULL,"
	" dport INTEGER NOT NULL,"
	" proto INTEGER NOT NULL,"
	" flow INTEGER NOT NULL);"
	/*
	 * No index beyond the row id: every index costs each insert (the
	 * writer's budget), rows are appended in nearly time order, and a
	 * reader scans millions of rows a second. Reports read hits first.
	 */
	/*
	 * An observation whose host a list names as a tracker: the company,
	 * primary category and all categories, the list and rule that decided,
	 * and every list that matched.
	 */
	"CREATE TABLE hits ("
	" observation_id INTEGER PRIMARY KEY REFERENCES observations(id) ON DELETE CASCADE,"
	" entity_id INTEGER REFERENCES entities(id),"
	" category_id INTEGER REFERENCES categories(id),"
	" categories_id INTEGER NOT NULL REFERENCES sets(id),"
	" list_id INTEGER REFERENCES lists(id),"
	" lists_id INTEGER NOT NULL REFERENCES sets(id),"
	" rule_id INTEGER REFERENCES rules(id));"
	"CREATE VIEW timeline AS SELECT"
	" o.id AS id,"
	" strftime('%Y-%m-%dT%H:%M:%fZ', o.ts / 1000 / 1000.0, 'unixepoch') AS time,"
	" o.ts AS ts,"
	" coalesce(d.name, d.key) AS device,"
	" s.name AS site,"
	" k.name AS kind,"
	" h.name AS host,"
	" t.observation_id IS NOT NULL AS tracker,"
	" e.name AS entity,"
	" c.name AS category,"
	" ls.names AS lists,"
	" r.text AS rule,"
	" o.server AS server,"
	" o.run_id AS run"
	" FROM observations o"
	" JOIN devices d ON d.id = o.device_id"
	" JOIN kinds k ON k.id = o.kind_id"
	" JOIN hosts h ON h.id = o.host_id"
	" LEFT JOIN sites s ON s.id = o.site_id"
	" LEFT JOIN hits t ON t.observation_id = o.id"
	" LEFT JOIN entities e ON e.id = t.entity_id"
	" LEFT JOIN categories c ON c.id = t.category_id"
	" LEFT JOIN sets ls ON ls.id = t.lists_id"
	" LEFT JOIN rules r ON r.id = t.rule_id;";

/*
 * 2 (the timeline view is written out whole again, as each migration's text
 * stays as it shipped): CNAME cloaking (a hit found through the CNAME chain of the name asked
 * for is the asked name's, and cname_id says which name of the chain
 * matched) and the name a device gives itself (DHCP host name option).
 */
static const char migration_2[] =
	"ALTER TABLE hits ADD COLUMN cname_id INTEGER REFERENCES hosts(id);"
	"ALTER TABLE devices ADD COLUMN hostname TEXT;"
	"DROP VIEW timeline;"
	"CREATE VIEW timeline AS SELECT"
	" o.id AS id,"
	" strftime('%Y-%m-%dT%H:%M:%fZ', o.ts / 1000 / 1000.0, 'unixepoch') AS time,"
	" o.ts AS ts,"
	" coalesce(d.name, d.key) AS device,"
	" s.name AS site,"
	" k.name AS kind,"
	" h.name AS host,"
	" t.observation_id IS NOT NULL AS tracker,"
	" e.name AS entity,"
	" c.name AS category,"
	" ls.names AS lists,"
	" r.text AS rule,"
	" ch.name AS cname,"
	" o.server AS server,"
	" o.run_id AS run"
	" FROM observations o"
	" JOIN devices d ON d.id = o.device_id"
	" JOIN kinds k ON k.id = o.kind_id"
	" JOIN hosts h ON h.id = o.host_id"
	" LEFT JOIN sites s ON s.id = o.site_id"
	" LEFT JOIN hits t ON t.observation_id = o.id"
	" LEFT JOIN entities e ON e.id = t.entity_id"
	" LEFT JOIN categories c ON c.id = t.category_id"
	" LEFT JOIN sets ls ON ls.id = t.lists_id"
	" LEFT JOIN rules r ON r.id = t.rule_id"
	" LEFT JOIN hosts ch ON ch.id = t.cname_id;";

/*
 * 3: cookies and consent. A cookie sent or set is an observation (kinds
 * cookie_sent, cookie_set) with a row in `cookies`: its name, its value as a
 * keyed hash (HMAC-SHA256 under the database's key; the raw value only when
 * the operator kept identifiers), its attributes, and what the sensor made
 * of it. A consent signal read on the wire is an observation (kind consent)
 * with a row in `consent`. An operator's mark (trackwatch consent mark) is a
 * row in `consent_marks`, by the device and site as the operator named them:
 * phases are derived from both when a report is made (trackwatch(1)).
 */
static const char migration_3[] =
	"CREATE TABLE cookie_names (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
	/*
	 * flags: 1 Secure, 2 HttpOnly, 4 Partitioned, 8 the value looks like an
	 * identifier, 16 a consent cookie (the consent rules read it), 32 an
	 * identifier cookie (trackwatchd(8), COOKIES). lifetime: seconds from the
	 * row's time (-1 a session cookie, 0 deletes it); NULL for a cookie sent.
	 * platform_id, category_id: the Open Cookie Database's entry.
	 */
	"CREATE TABLE cookies ("
	" observation_id INTEGER PRIMARY KEY REFERENCES observations(id) ON DELETE CASCADE,"
	" name_id INTEGER NOT NULL REFERENCES cookie_names(id),"
	" value TEXT NOT NULL,"
	" value_len INTEGER NOT NULL,"
	" domain TEXT,"
	" path TEXT,"
	" lifetime INTEGER,"
	" same_site TEXT,"
	" flags INTEGER NOT NULL DEFAULT 0,"
	" platform_id INTEGER REFERENCES entities(id),"
	" category_id INTEGER REFERENCES categories(id));"
	/* decision: accept, reject, partial or no_decision; source: "<rule>:<name>". */
	"CREATE TABLE consent ("
	" observation_id INTEGER PRIMARY KEY REFERENCES observations(id) ON DELETE CASCADE,"
	" decision TEXT NOT NULL,"
	" source TEXT NOT NULL,"
	" detail TEXT NOT NULL DEFAULT '');"
	/*
	 * The query parameters of a request to a tracker host, values hashed as
	 * cookie values are (equal bytes, equal hash): how an identifier handed
	 * from one company to another (identifier syncing) is found. Consent
	 * parameters (gdpr, gdpr_consent, gcs, gcd) are left out.
	 */
	"CREATE TABLE url_values ("
	" observation_id INTEGER NOT NULL REFERENCES observations(id) ON DELETE CASCADE,"
	" name TEXT NOT NULL,"
	" value TEXT NOT NULL);"
	/*
	 * ts: when the decision takes effect (microseconds); device and site as
	 * given (a MAC, an address or a name; a site, or NULL for the site the
	 * device was on then); created: when the mark was made.
	 */
	"CREATE TABLE consent_marks ("
	" id INTEGER PRIMARY KEY,"
	" ts INTEGER NOT NULL,"
	" device TEXT NOT NULL,"
	" site TEXT,"
	" decision TEXT NOT NULL CHECK (decision IN ('accept', 'reject', 'partial')),"
	" created INTEGER NOT NULL);";

/*
 * 4: what the capture itself lost, for a live run: packets the kernel's
 * filter took in, and those dropped by the kernel or the interface
 * (pcap_stats, all interfaces, summed over reopenings). NULL for a run over
 * files, which loses nothing.
 */
static const char migration_4[] =
	"ALTER TABLE runs ADD COLUMN capture_received INTEGER;"
	"ALTER TABLE runs ADD COLUMN capture_dropped INTEGER;";

const char *const schema_migrations[SCHEMA_VERSION] = { migration_1, migration_2, migration_3,
							 migration_4 };
