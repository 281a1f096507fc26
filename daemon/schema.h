/*
 * schema: the store's SQL schema as forward migrations (schema.c). The
 * database's PRAGMA user_version is the number of migrations applied.
 */
#ifndef TRACKWATCH_SCHEMA_H
#define TRACKWATCH_SCHEMA_H

enum { SCHEMA_VERSION = 4 };

/* schema_migrations[n - 1] takes a database from version n - 1 to n. */
extern const char *const schema_migrations[SCHEMA_VERSION];

#endif
