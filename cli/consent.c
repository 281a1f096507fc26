/*
 * trackwatch consent mark: records a consent decision the operator saw (the
 * click on a banner) in the store, for traffic the sensor cannot read. The
 * mark keeps the device and site as given; reports resolve them when they
 * are made (cli/phases.c), so a mark may come before, during or after the
 * run that records the device's traffic.
 */
#include "commands.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "../blocklists/matcher.h"
#include "../daemon/store.h"
#include "control.h"
#include "db.h"

static void mark_usage(FILE *out)
{
	fprintf(out,
"Usage: trackwatch consent mark [OPTION]... accept|reject|partial\n"
"Record a consent decision seen by the operator (the click on a cookie banner),\n"
"so that reports place the device's traffic before and after it.\n"
"\n"
"Options (before or after the decision):\n"
"      --db FILE          write into this database directly (default: through the\n"
"                         running daemon's socket, else into store.path of the\n"
"                         configuration, else " DB_DEFAULT_PATH ")\n"
"      --socket PATH      the daemon's control socket (default: control.socket)\n"
"  -d, --device DEVICE    the device: a MAC, an address or a configured name\n"
"                         (required)\n"
"  -s, --site SITE        the site the decision was made on (default: the site\n"
"                         the device was on at that time)\n"
"      --at TIME          when: 2026-11-29T04:39:54.990Z, or seconds since the\n"
"                         epoch (1795927193.99); default now\n"
"  -h, --help             show this help and exit\n"
"\n"
"The decision takes effect exactly at TIME. Through the daemon, TIME defaults\n"
"to the daemon's clock, the clock its packets are stamped with. See\n"
"trackwatch(1), CONSENT.\n");
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "trackwatch consent mark: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'trackwatch consent mark --help' for more information.\n");
	return DB_EXIT_USAGE;
}

/* The device as the store writes it: a MAC or an address in their forms, else the name as given. */
static void device_text(const char *in, char *out, size_t size)
{
	char mac[18], address[DB_ADDRESS_MAX];
	if (db_normalize_mac(in, mac) == 0)
		snprintf(out, size, "%s", mac);
	else if (db_normalize_address(in, address) == 0)
		snprintf(out, size, "%s", address);
	else
		snprintf(out, size, "%s", in);
}

/* The mark through the running daemon; CLI_DAEMON_DOWN when none listens. */
static int mark_through_daemon(const char *socket_path, const char *decision, const char *dev,
			       const char *site, const char *at, int64_t ts)
{
	json_t *request = json_pack("{s:s, s:s, s:s}", "command", "consent-mark", "decision", decision,
				    "device", dev);
	if (request && site)
		json_object_set_new(request, "site", json_string(site));
	if (request && at)
		json_object_set_new(request, "at_us", json_integer(ts));
	json_t *answer = NULL;
	char error[1024];
	int rc = request ? cli_control_request(socket_path, request, &answer, error, sizeof error) : -1;
	json_decref(request);
	if (rc == CLI_DAEMON_DOWN)
		return rc;
	if (rc != 0) {
		fprintf(stderr, "trackwatch consent mark: %s\n", request ? error : "out of memory");
		return DB_EXIT_FAIL;
	}
	int status = DB_EXIT_FAIL;
	struct db_buf buf = { 0 };
	if (json_is_true(json_object_get(answer, "ok"))) {
		char when[DB_TIME_MAX];
		db_format_time(json_integer_value(json_object_get(answer, "at_us")), when);
		const char *db = json_string_value(json_object_get(answer, "database"));
		const char *e = db ? db_escape(&buf, db, strlen(db), 1) : "?";
		printf("recorded %s for %s on %s at %s (by trackwatchd, into %s)\n", decision, dev,
		       site ? site : "the site it was on", when, e ? e : "?");
		status = DB_EXIT_OK;
	} else {
		const char *why = json_string_value(json_object_get(answer, "error"));
		const char *e = why ? db_escape(&buf, why, strlen(why), 1) : "no reason given";
		fprintf(stderr, "trackwatch consent mark: the daemon said no: %s\n", e ? e : "?");
	}
	db_buf_free(&buf);
	json_decref(answer);
	if (fflush(stdout) != 0 || ferror(stdout))
		status = DB_EXIT_FAIL;
	return status;
}

static int mark(int argc, char **argv, const char *config_path)
{
	enum { OPT_DB = 0x100, OPT_AT, OPT_SOCKET };
	static const struct option options[] = {
		{ "db", required_argument, NULL, OPT_DB },
		{ "device", required_argument, NULL, 'd' },
		{ "site", required_argument, NULL, 's' },
		{ "at", required_argument, NULL, OPT_AT },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *device = NULL, *site = NULL, *at = NULL, *socket_path = NULL;
	int c;
	argv[0] = (char *)"trackwatch consent mark";
	optind = 0;
	while ((c = getopt_long(argc, argv, "d:s:h", options, NULL)) != -1) {
		switch (c) {
		case OPT_DB: path = optarg; break;
		case 'd': device = optarg; break;
		case 's': site = optarg; break;
		case OPT_AT: at = optarg; break;
		case OPT_SOCKET: socket_path = optarg; break;
		case 'h': mark_usage(stdout); return DB_EXIT_OK;
		default:
			fprintf(stderr, "Try 'trackwatch consent mark --help' for more information.\n");
			return DB_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return usage_error("%s", "give the decision: accept, reject or partial");
	const char *decision = argv[optind];
	if (strcmp(decision, "accept") != 0 && strcmp(decision, "reject") != 0 &&
	    strcmp(decision, "partial") != 0)
		return usage_error("'%s' is no decision: accept, reject or partial", decision);
	if (optind + 1 < argc)
		return usage_error("unexpected argument '%s'", argv[optind + 1]);
	if (!device || !*device)
		return usage_error("%s", "--device is required");
	if (site && !*site)
		return usage_error("%s", "--site is empty");
	int64_t now = db_now_us(), ts = now;
	if (at && db_parse_seconds(at, 0, 253402300799LL, &ts) != 0 &&
	    db_parse_time(at, now, &ts) != 0)
		return usage_error("bad --at '%s': 2026-11-29T04:39:54.990Z or seconds since the epoch",
				   at);
	char dev[256], site_text[256];
	device_text(device, dev, sizeof dev);
	if (site) {
		/* A site is a registrable domain: "WWW.News.Example." is news.example, as for --site. */
		size_t n = 0;
		for (; site[n] && n + 1 < sizeof site_text; n++)
			site_text[n] = (char)(site[n] >= 'A' && site[n] <= 'Z' ? site[n] + 32 : site[n]);
		site_text[n] = '\0';
		if (n > 1 && site_text[n - 1] == '.')
			site_text[--n] = '\0';
		const char *domain = matcher_registrable_domain(site_text);
		if (domain && domain != site_text)
			memmove(site_text, domain, strlen(domain) + 1);
	}

	/* The running daemon writes it, unless a database is named; with none running, the file. */
	if (!path) {
		const char *configured_socket;
		if (cli_paths(config_path, "trackwatch consent mark", &path, &configured_socket) != 0)
			return DB_EXIT_FAIL;
		if (!socket_path)
			socket_path = configured_socket;
		int rc = mark_through_daemon(socket_path, decision, dev, site ? site_text : NULL, at, ts);
		if (rc != CLI_DAEMON_DOWN)
			return rc;
	}
	char err[STORE_ERROR_MAX];
	sqlite3 *db = store_open_existing(path, err, sizeof err);
	if (!db) {
		fprintf(stderr, "trackwatch consent mark: %s\n", err);
		return DB_EXIT_FAIL;
	}
	/* The sensor may be writing: wait for its batch to commit. */
	sqlite3_busy_timeout(db, 10000);
	sqlite3_stmt *st = NULL, *known = NULL;
	int status = DB_EXIT_FAIL;
	if (sqlite3_prepare_v2(db, "INSERT INTO consent_marks(ts, device, site, decision, created)"
			       " VALUES (?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM devices WHERE key = ?1 OR mac = ?1"
			       " OR name = ?1 COLLATE NOCASE"
			       " OR id IN (SELECT device_id FROM device_addresses WHERE address = ?1)",
			       -1, &known, NULL) != SQLITE_OK)
		goto done;
	sqlite3_bind_int64(st, 1, ts);
	sqlite3_bind_text(st, 2, dev, -1, SQLITE_STATIC);
	if (site)
		sqlite3_bind_text(st, 3, site_text, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, decision, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto done;
	char when[DB_TIME_MAX];
	db_format_time(ts, when);
	printf("recorded %s for %s on %s at %s (mark %lld)\n", decision, dev,
	       site ? site_text : "the site it was on", when, (long long)sqlite3_last_insert_rowid(db));
	sqlite3_bind_text(known, 1, dev, -1, SQLITE_STATIC);
	if (sqlite3_step(known) == SQLITE_ROW && sqlite3_column_int64(known, 0) == 0)
		fprintf(stderr, "trackwatch consent mark: note: %s has no traffic in %s yet; the mark"
			" applies once it has\n", dev, path);
	status = DB_EXIT_OK;
done:
	if (status != DB_EXIT_OK)
		fprintf(stderr, "trackwatch consent mark: %s: %s\n", path, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_finalize(known);
	if (sqlite3_close(db) != SQLITE_OK)
		status = DB_EXIT_FAIL;
	if (fflush(stdout) != 0 || ferror(stdout))
		status = DB_EXIT_FAIL;
	return status;
}

int cmd_consent(int argc, char **argv, const char *config_path)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		mark_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? DB_EXIT_USAGE : DB_EXIT_OK;
	}
	if (strcmp(argv[1], "mark") != 0) {
		fprintf(stderr, "trackwatch consent: unknown command '%s' (known: mark)\n", argv[1]);
		return DB_EXIT_USAGE;
	}
	return mark(argc - 1, argv + 1, config_path);
}
