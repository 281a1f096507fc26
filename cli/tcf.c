/*
 * trackwatch tcf decode: one IAB TCF TC string (an euconsent-v2 cookie, a
 * gdpr_consent URL parameter), decoded by dissectors/tcf.c and printed as
 * JSON with the field names of the IAB's reference implementation (iabtcf-es
 * TCModel), so that what trackwatch reads can be held against what a CMP's
 * own tools show. A TCF v1 string is printed too, but is an error: v1 has
 * been obsolete since 2020, and a site that still sets one is news.
 */
#include "commands.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "../dissectors/tcf.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* A TC string is a few KiB at most; a line longer than this is not one. */
enum { STDIN_MAX = 1 << 20 };

static void tcf_usage(FILE *out)
{
	fprintf(out,
"Usage: trackwatch tcf decode STRING\n"
"       trackwatch tcf decode - < FILE\n"
"Decode an IAB TCF TC string (TCF v2.0 to v2.3: the core and the disclosed-\n"
"vendors, allowed-vendors and publisher-TC segments) and print its fields as\n"
"JSON, with the names the IAB's reference implementation uses. '-' reads the\n"
"string from the first line of standard input.\n"
"\n"
"Options:\n"
"  -h, --help   show this help and exit\n"
"\n"
"Exit status: 0 when the string decodes; 1 when it does not (the error, on\n"
"standard error, names the field) or is a TCF v1 string (printed, with a\n"
"note); 2 on a usage error. See trackwatch(1), TCF.\n");
}

/* ---- JSON --------------------------------------------------------------- */

/* Adds `value` (owned) under `key`; a NULL value (out of memory) sets *failed. */
static void put(json_t *object, const char *key, json_t *value, bool *failed)
{
	if (!value || json_object_set_new(object, key, value) != 0)
		*failed = true;
}

/* Deciseconds since the epoch as ISO 8601 UTC with milliseconds: "2020-08-18T09:50:09.600Z". */
static json_t *json_time(int64_t deciseconds)
{
	time_t seconds = (time_t)(deciseconds / 10);
	struct tm tm;
	char text[48];
	if (!gmtime_r(&seconds, &tm) || strftime(text, 32, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return json_null();
	size_t len = strlen(text);
	snprintf(text + len, sizeof text - len, ".%03dZ", (int)(deciseconds % 10) * 100);
	return json_string(text);
}

/* Ids 1..width whose bit (id - 1) is set in `mask`, as a sorted array. */
static json_t *json_mask(uint64_t mask, unsigned width)
{
	json_t *array = json_array();
	for (unsigned id = 1; array && id <= width; id++)
		if (mask >> (id - 1) & 1 && json_array_append_new(array, json_integer(id)) != 0) {
			json_decref(array);
			return NULL;
		}
	return array;
}

static json_t *json_ids(const struct tcf_ids *ids)
{
	json_t *array = json_array();
	for (uint32_t id = 1; array && id <= ids->max; id++)
		if (tcf_ids_has(ids, id) && json_array_append_new(array, json_integer(id)) != 0) {
			json_decref(array);
			return NULL;
		}
	return array;
}

static json_t *json_restrictions(const struct tcf *tcf, bool *failed)
{
	json_t *array = json_array();
	if (!array)
		return NULL;
	for (size_t i = 0; i < tcf->restriction_count; i++) {
		const struct tcf_restriction *r = &tcf->restrictions[i];
		json_t *o = json_object();
		if (!o || json_array_append_new(array, o) != 0) {
			*failed = true;
			break;
		}
		put(o, "purposeId", json_integer(r->purpose_id), failed);
		put(o, "restrictionType", json_integer(r->restriction_type), failed);
		put(o, "vendors", json_ids(&r->vendors), failed);
	}
	return array;
}

/* The fields TCF v1 and v2 share, in the order of the string. */
static void put_common(json_t *o, const struct tcf *tcf, bool *failed)
{
	put(o, "version", json_integer(tcf->version), failed);
	put(o, "created", json_time(tcf->created_ds), failed);
	put(o, "lastUpdated", json_time(tcf->last_updated_ds), failed);
	put(o, "cmpId", json_integer(tcf->cmp_id), failed);
	put(o, "cmpVersion", json_integer(tcf->cmp_version), failed);
	put(o, "consentScreen", json_integer(tcf->consent_screen), failed);
	put(o, "consentLanguage", json_string(tcf->consent_language), failed);
	put(o, "vendorListVersion", json_integer(tcf->vendor_list_version), failed);
}

static json_t *tcf_json(const struct tcf *tcf)
{
	json_t *o = json_object();
	bool failed = !o;
	if (failed)
		return NULL;
	put_common(o, tcf, &failed);
	if (tcf->version == 1) {
		/* v1's PurposesAllowed and vendor consents, under their v2 names. */
		put(o, "purposeConsents", json_mask(tcf->purpose_consents, TCF_PURPOSES), &failed);
		put(o, "vendorConsents", json_ids(&tcf->vendor_consents), &failed);
		put(o, "note", json_string("TCF v1 is obsolete: IAB Europe ended its support on "
					   "2020-08-15, when TCF v2 replaced it"),
		    &failed);
	} else {
		put(o, "tcfPolicyVersion", json_integer(tcf->tcf_policy_version), &failed);
		put(o, "isServiceSpecific", json_boolean(tcf->is_service_specific), &failed);
		put(o, "useNonStandardTexts", json_boolean(tcf->use_non_standard_texts), &failed);
		put(o, "specialFeatureOptins",
		    json_mask(tcf->special_feature_optins, TCF_SPECIAL_FEATURES), &failed);
		put(o, "purposeConsents", json_mask(tcf->purpose_consents, TCF_PURPOSES), &failed);
		put(o, "purposeLegitimateInterests",
		    json_mask(tcf->purpose_legitimate_interests, TCF_PURPOSES), &failed);
		put(o, "purposeOneTreatment", json_boolean(tcf->purpose_one_treatment), &failed);
		put(o, "publisherCountryCode", json_string(tcf->publisher_cc), &failed);
		put(o, "vendorConsents", json_ids(&tcf->vendor_consents), &failed);
		put(o, "vendorLegitimateInterests", json_ids(&tcf->vendor_legitimate_interests),
		    &failed);
		put(o, "publisherRestrictions", json_restrictions(tcf, &failed), &failed);
		if (tcf->has_disclosed_vendors)
			put(o, "disclosedVendors", json_ids(&tcf->disclosed_vendors), &failed);
		if (tcf->has_publisher_tc) {
			put(o, "publisherConsents", json_mask(tcf->publisher_consents, TCF_PURPOSES),
			    &failed);
			put(o, "publisherLegitimateInterests",
			    json_mask(tcf->publisher_legitimate_interests, TCF_PURPOSES), &failed);
			put(o, "numCustomPurposes", json_integer(tcf->num_custom_purposes), &failed);
			put(o, "publisherCustomConsents",
			    json_mask(tcf->publisher_custom_consents, tcf->num_custom_purposes), &failed);
			put(o, "publisherCustomLegitimateInterests",
			    json_mask(tcf->publisher_custom_legitimate_interests,
				      tcf->num_custom_purposes),
			    &failed);
		}
	}
	if (failed) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---- decode ------------------------------------------------------------- */

/*
 * The first line of standard input, without its line end, in a buffer of
 * the caller's to free; NULL (after a message) when it is too long or
 * cannot be read.
 */
static char *read_line(size_t *len)
{
	size_t cap = 4096, n = 0;
	char *line = malloc(cap);
	if (!line) {
		fprintf(stderr, "trackwatch tcf decode: out of memory\n");
		return NULL;
	}
	int c;
	while ((c = getchar()) != EOF && c != '\n') {
		if (n == STDIN_MAX) {
			fprintf(stderr, "trackwatch tcf decode: the line on standard input is longer "
					"than %d bytes\n", STDIN_MAX);
			free(line);
			return NULL;
		}
		if (n + 1 >= cap) {
			char *bigger = realloc(line, cap * 2);
			if (!bigger) {
				fprintf(stderr, "trackwatch tcf decode: out of memory\n");
				free(line);
				return NULL;
			}
			line = bigger;
			cap *= 2;
		}
		line[n++] = (char)c;
	}
	if (ferror(stdin)) {
		perror("trackwatch tcf decode: standard input");
		free(line);
		return NULL;
	}
	if (n > 0 && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	*len = n;
	return line;
}

static int decode(const char *text, size_t len)
{
	struct tcf tcf;
	char error[TCF_ERROR_MAX];
	if (tcf_decode(text, len, &tcf, error) != 0) {
		fprintf(stderr, "trackwatch tcf decode: %s\n", error);
		return EXIT_FAIL;
	}
	json_t *o = tcf_json(&tcf);
	int version = tcf.version;
	tcf_free(&tcf);
	if (!o) {
		fprintf(stderr, "trackwatch tcf decode: out of memory\n");
		return EXIT_FAIL;
	}
	int rc = json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	json_decref(o);
	if (rc != 0 || putchar('\n') == EOF || fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "trackwatch tcf decode: cannot write standard output\n");
		return EXIT_FAIL;
	}
	if (version == 1) {
		fprintf(stderr, "trackwatch tcf decode: a TCF v1 string (obsolete since 2020)\n");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int cmd_tcf(int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	if (argc < 2) {
		fprintf(stderr, "trackwatch tcf: which one: decode?\n");
		tcf_usage(stderr);
		return EXIT_USAGE;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		tcf_usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(sub, "decode") != 0) {
		fprintf(stderr, "trackwatch tcf: unknown command '%s'\n", sub);
		fprintf(stderr, "Try 'trackwatch tcf --help' for more information.\n");
		return EXIT_USAGE;
	}
	/* The options after "decode": argv[1..] afresh, getopt reset with optind 0. */
	argc--;
	argv++;
	optind = 0;
	opterr = 0; /* getopt would name argv[0], "decode" */
	int c;
	while ((c = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			tcf_usage(stdout);
			return EXIT_OK;
		default:
			fprintf(stderr, "trackwatch tcf decode: unknown option '%s'\n", argv[optind - 1]);
			fprintf(stderr, "Try 'trackwatch tcf --help' for more information.\n");
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, optind == argc ? "trackwatch tcf decode: which string?\n"
					       : "trackwatch tcf decode: one string at a time\n");
		fprintf(stderr, "Try 'trackwatch tcf --help' for more information.\n");
		return EXIT_USAGE;
	}
	const char *arg = argv[optind];
	if (strcmp(arg, "-") != 0)
		return decode(arg, strlen(arg));
	size_t len;
	char *line = read_line(&len);
	if (!line)
		return EXIT_FAIL;
	int rc = decode(line, len);
	free(line);
	return rc;
}
