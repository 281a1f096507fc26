/*
 * config: the daemon's own sections of trackwatch.yaml (the `lists:`
 * section is blocklists/lists.c's):
 *
 *   devices:                 # names for devices, by MAC or IP address
 *     "aa:bb:cc:dd:ee:ff": kitchen-tablet
 *     10.99.0.2: test-laptop
 *   store:
 *     path: /var/lib/trackwatch/trackwatch.db
 *     max_days: 90           # retention; 0 keeps everything
 *     batch_rows: 16384      # commit after this many rows
 *     batch_ms: 1000         # or this long after the batch began
 *   consent:
 *     rules: /etc/trackwatch/consent-signals.yaml  # default: the shipped rules
 *
 * Unknown keys, wrong types and out-of-range values are errors naming the
 * file, line and key.
 */
#ifndef TRACKWATCH_CONFIG_H
#define TRACKWATCH_CONFIG_H

#include <stddef.h>

#include "store.h"

enum { CONFIG_DEVICES_MAX = 4096 };

struct device_name {
	char *match;             /* a MAC in lower case with colons, or an address as written */
	char *name;
};

struct daemon_config {
	char *path;              /* the file read, or NULL */
	char sha256[65];         /* of its bytes, hex; "" without a file */
	struct device_name *devices;
	size_t device_count;
	char *db_path;           /* store.path, or NULL */
	struct store_options store;
	char *consent_rules;     /* consent.rules, or NULL for the shipped file */
};

/* Defaults: no device names, no database path, store_options_defaults(). */
void config_defaults(struct daemon_config *config);

/* Reads `path` over the defaults; 0, or -1 with "file:line: reason" in err. */
int config_load(struct daemon_config *config, const char *path, char *err, size_t err_len);

/* The configured name of a device with this MAC text (may be NULL) or address text; NULL when none. */
const char *config_device_name(const struct daemon_config *config, const char *mac,
			       const char *address);

void config_free(struct daemon_config *config);

#endif
