/*
 * syncing: identifier syncing, as the report shows it. The same value (its
 * keyed hash: equal bytes give equal hashes, in a cookie or in a URL) seen
 * at two or more tracker companies, by one device, where at least one
 * sighting is a cookie whose value looks like an identifier: one company's
 * identifier handed to another (a cookie sync, a pixel carrying a user id).
 */
#include "syncing.h"

#include <stdio.h>
#include <string.h>

#include "db.h"

static const char syncing_sql[] =
	"WITH ids AS ("
	" SELECT o.device_id AS device, ck.value AS value, e.name AS entity, h.name AS host,"
	" 'cookie' AS kind, cn.name AS name, o.ts AS ts, (ck.flags & 8) != 0 AS idlike"
	" FROM cookies ck JOIN observations o ON o.id = ck.observation_id"
	" JOIN hits t ON t.observation_id = o.id JOIN entities e ON e.id = t.entity_id"
	" JOIN hosts h ON h.id = o.host_id JOIN cookie_names cn ON cn.id = ck.name_id"
	" WHERE ck.value != '' %s"
	" UNION ALL"
	" SELECT o.device_id, u.value, e.name, h.name, 'parameter', u.name, o.ts, 0"
	" FROM url_values u JOIN observations o ON o.id = u.observation_id"
	" JOIN hits t ON t.observation_id = o.id JOIN entities e ON e.id = t.entity_id"
	" JOIN hosts h ON h.id = o.host_id WHERE 1 %s),"
	" synced AS (SELECT device, value FROM ids GROUP BY device, value"
	" HAVING count(DISTINCT entity) >= 2 AND max(idlike) = 1)"
	" SELECT i.device, i.value, i.entity, i.host, i.kind, i.name, min(i.ts)"
	" FROM ids i JOIN synced s ON s.device = i.device AND s.value = i.value"
	" GROUP BY i.device, i.value, i.entity, i.host, i.kind, i.name"
	" ORDER BY i.device, i.value, min(i.ts)";

json_t *syncing_load(sqlite3 *db, const struct db_query *q)
{
	char where[512] = "", sql[sizeof syncing_sql + 2 * sizeof where];
	if (db_query_where(q, where, sizeof where) < 0)
		return NULL;
	snprintf(sql, sizeof sql, syncing_sql, where, where);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	json_t *all = json_object();
	if (!all || db_query_bind(q, st) < 0) {
		json_decref(all);
		sqlite3_finalize(st);
		return NULL;
	}
	int rc, failed = 0;
	char key[32];
	json_t *current = NULL; /* the value being gathered: {"value", "seen": [...]} */
	while (!failed && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t value_len, entity_len, host_len, name_len;
		const char *value = db_column(st, 1, &value_len);
		const char *entity = db_column(st, 2, &entity_len);
		const char *host = db_column(st, 3, &host_len);
		const char *name = db_column(st, 5, &name_len);
		snprintf(key, sizeof key, "%lld", (long long)sqlite3_column_int64(st, 0));
		json_t *list = json_object_get(all, key);
		if (!list) {
			list = json_array();
			failed |= !list || json_object_set_new(all, key, list);
			current = NULL;
		}
		const char *last = current ? json_string_value(json_object_get(current, "value")) : NULL;
		json_t *text = db_json_wire(value, value_len);
		if (!current || !last || !text || strcmp(last, json_string_value(text)) != 0) {
			json_t *c = json_object();
			if (!c || json_object_set(c, "value", text) ||
			    json_object_set_new(c, "seen", json_array())) {
				json_decref(c);
				json_decref(text);
				failed = 1;
				break;
			}
			/* json_array_append_new() takes `c` even when it fails */
			if (json_array_append_new(list, c)) {
				json_decref(text);
				failed = 1;
				break;
			}
			current = c;
		}
		json_decref(text);
		char first[DB_TIME_MAX];
		db_format_time(sqlite3_column_int64(st, 6), first);
		json_t *seen = json_object();
		failed |= !seen ||
			  json_object_set_new(seen, "entity", db_json_text(entity, entity_len)) ||
			  json_object_set_new(seen, "host", db_json_wire(host, host_len)) ||
			  json_object_set_new(seen, "as", json_string((const char *)sqlite3_column_text(st, 4))) ||
			  json_object_set_new(seen, "name", db_json_wire(name, name_len)) ||
			  json_object_set_new(seen, "first_seen", json_string(first)) ||
			  json_array_append_new(json_object_get(current, "seen"), seen);
	}
	sqlite3_finalize(st);
	if (failed || rc != SQLITE_DONE) {
		json_decref(all);
		return NULL;
	}
	return all;
}

json_t *syncing_of(json_t *all, int64_t device)
{
	char key[32];
	snprintf(key, sizeof key, "%lld", (long long)device);
	json_t *list = json_object_get(all, key);
	return list ? json_incref(list) : json_array();
}
