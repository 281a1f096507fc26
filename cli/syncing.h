/*
 * syncing: identifier syncing in the store (cli/syncing.c): one value seen
 * at two or more tracker companies by one device, at least once as a cookie
 * whose value looks like an identifier.
 */
#ifndef TRACKWATCH_CLI_SYNCING_H
#define TRACKWATCH_CLI_SYNCING_H

#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

struct db_query;

/*
 * Every synced value the query selects, by device: {"<device id>": [{"value",
 * "seen": [{"entity", "host", "as": "cookie"|"parameter", "name",
 * "first_seen"}]}]}, values as stored (keyed hashes unless identifiers were
 * kept). NULL on a database error or when out of memory.
 */
json_t *syncing_load(sqlite3 *db, const struct db_query *q);

/* The array of `device` (a new reference; empty when none). */
json_t *syncing_of(json_t *all, int64_t device);

#endif
