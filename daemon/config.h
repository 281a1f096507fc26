/*
 * config: the daemon's settings in trackwatch.yaml. One table of settings
 * (config_settings[]: dotted key, type, default, bounds, help) drives the
 * loader, `trackwatchd --dump-config` and trackwatch.yaml(5); a unit test
 * checks that every key of the table is in the dump and the manual.
 *
 *   devices:                 # names for devices, by MAC or IP address
 *     "aa:bb:cc:dd:ee:ff": kitchen-tablet
 *   capture:
 *     interface: [eth0, wlan0]   # what -i gives: one name or a list
 *     filter: "port 53 or port 443"
 *   flows: { max: 65536, tcp_timeout: 300, udp_timeout: 60 }
 *   identifiers: { keep: false, key: /etc/trackwatch/identifier.key }
 *   store: { path: ..., max_days: 90, batch_rows: 16384, batch_ms: 1000 }
 *   consent: { rules: /etc/trackwatch/consent-signals.yaml }
 *   control: { socket: /run/trackwatch/trackwatchd.sock, group: trackwatch }
 *   daemon: { user: trackwatch }
 *   log: { level: notice }
 *   tls: { keylog: [/home/lab/sslkeys.log] }
 *
 * The `lists:` section is blocklists/lists.c's; the table names it so that
 * unknown keys are still found. A plain null (`key: ~` or `key:`) leaves a
 * setting without a default unset, as the dump writes it; a section that
 * is a plain null (its settings all commented out) sets nothing. Unknown keys,
 * wrong types and out-of-range values are errors naming the file, line and
 * key.
 */
#ifndef TRACKWATCH_CONFIG_H
#define TRACKWATCH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "store.h"

enum { CONFIG_DEVICES_MAX = 4096, CONFIG_LIST_MAX = 64 };

/* Where the daemon listens, and who it runs as, when the configuration does not say. */
#define CONFIG_DEFAULT_SOCKET "/run/trackwatch/trackwatchd.sock"
#define CONFIG_DEFAULT_USER "trackwatch"

/* log.level, in syslog's order: the index is the level's rank. */
enum config_log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARNING, LOG_LEVEL_NOTICE, LOG_LEVEL_INFO,
			LOG_LEVEL_DEBUG };
extern const char *const config_log_levels[]; /* "error", ..., NULL */

struct device_name {
	char *match;             /* a MAC in lower case with colons, or an address as written */
	char *name;
};

/* A list of non-empty strings (capture.interface). */
struct config_list {
	char **items;
	size_t count;
};

struct daemon_config {
	char *path;              /* the file read, or NULL */
	char sha256[65];         /* of its bytes, hex; "" without a file */
	struct device_name *devices;
	size_t device_count;
	struct config_list interfaces; /* capture.interface: one name or a list */
	char *filter;            /* capture.filter (compiles), or NULL */
	unsigned max_flows;      /* flows.max */
	unsigned tcp_timeout;    /* flows.tcp_timeout, seconds */
	unsigned udp_timeout;    /* flows.udp_timeout, seconds */
	bool keep_identifiers;   /* identifiers.keep */
	char *identifier_key;    /* identifiers.key, or NULL */
	char *db_path;           /* store.path, or NULL */
	struct store_options store;
	char *consent_rules;     /* consent.rules, or NULL for the shipped file */
	unsigned queue_mb;       /* store.queue_mb: observations waiting for the writer */
	char *control_socket;    /* control.socket, or NULL for CONFIG_DEFAULT_SOCKET */
	char *control_group;     /* control.group, or NULL for the user's group */
	char *user;              /* daemon.user, or NULL for CONFIG_DEFAULT_USER */
	unsigned log_level;      /* log.level: enum config_log_level */
	struct config_list keylogs; /* tls.keylog: NSS key log files (-k) */
};

enum config_type {
	CONFIG_BOOL,             /* true or false */
	CONFIG_UNSIGNED,         /* a whole number within [min, max] */
	CONFIG_STRING,           /* a non-empty string */
	CONFIG_PATH,             /* a file name */
	CONFIG_LIST,             /* one string, or a sequence of up to CONFIG_LIST_MAX */
	CONFIG_ENUM,             /* one word of `choices`, kept as its index (unsigned) */
	CONFIG_MAP,              /* a mapping read by its own loader (devices) */
	CONFIG_ELSEWHERE,        /* a section another module reads (lists) */
};

struct config_setting {
	const char *key;         /* dotted: "store.max_days"; a section alone for MAP, ELSEWHERE */
	enum config_type type;
	size_t offset;           /* of the value in struct daemon_config */
	unsigned long min, max;  /* CONFIG_UNSIGNED */
	unsigned long default_number; /* CONFIG_UNSIGNED, CONFIG_BOOL */
	const char *default_text; /* how the default reads, for the dump and the manual */
	const char *help;        /* one line */
	const char *const *choices; /* CONFIG_ENUM: the words, NULL-terminated */
};

extern const struct config_setting config_settings[];
extern const size_t config_setting_count;

/* The name of a type, as the manual and the dump say it: "bool", "unsigned", ... */
const char *config_type_name(enum config_type type);

/* Defaults: every setting's default, no device names, no file. */
void config_defaults(struct daemon_config *config);

/* Reads `path` over the defaults; 0, or -1 with "file:line: reason" in err. */
int config_load(struct daemon_config *config, const char *path, char *err, size_t err_len);

/*
 * Writes the configuration as YAML that config_load() reads back to the
 * same values, each key after its help as a comment. An ELSEWHERE section
 * is written by `write_section` (may be NULL: then a comment only).
 */
void config_dump(const struct daemon_config *config, FILE *out,
		 void (*write_section)(FILE *out, const char *section, void *context),
		 void *context);

/* Writes s as a YAML double-quoted scalar. */
void config_write_quoted(FILE *out, const char *s);

/* Whether a BPF filter compiles (for Ethernet); 0, or -1 with pcap's reason in err. */
int config_filter_check(const char *filter, char *err, size_t err_len);

/* The configured name of a device with this MAC text (may be NULL) or address text; NULL when none. */
const char *config_device_name(const struct daemon_config *config, const char *mac,
			       const char *address);

/* Appends `item` (copied) to a list; 0 or -1 (out of memory). */
int config_list_add(struct config_list *list, const char *item);
void config_list_clear(struct config_list *list);

/* 1 when the two lists hold the same strings in the same order. */
int config_list_equal(const struct config_list *a, const struct config_list *b);

/* The items joined with ", " into out (cut to size), for messages; returns out. */
char *config_list_join(const struct config_list *list, char *out, size_t size);

void config_free(struct daemon_config *config);

#endif
