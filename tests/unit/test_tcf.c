/*
 * Unit tests for dissectors/tcf.c. Every row of tests/data/tcf-vectors.tsv
 * (TC strings from the IAB specification, the iabtcf-es reference
 * implementation's tests and real reject strings, their fields decoded by an
 * independent decoder and cross-checked against @iabtechlabtcf/core), every
 * column compared; every prefix of each vector; then strings built bit by bit
 * here (a small encoder of our own, from the specification's field table) for
 * the edge cases: each field boundary of the core, bad characters, bad range
 * entries, huge counts, publisher restrictions, the optional segments, TCF v1.
 * Strings are decoded from heap copies of exactly their length, so that ASan
 * sees any read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../../dissectors/tcf.h"

/* ---- decoding a heap copy ----------------------------------------------- */

/* Decodes the first `len` bytes of `text` from a copy of exactly that length. */
static int decode_n(const char *text, size_t len, struct tcf *out, char error[TCF_ERROR_MAX])
{
	char *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, text, len);
	memset(error, 'x', TCF_ERROR_MAX); /* a failure must write a whole, terminated message */
	int rc = tcf_decode(copy, len, out, error);
	/* The counting decoder (what the consent rules use) agrees on every input. */
	struct tcf counted;
	char counted_error[TCF_ERROR_MAX];
	int counted_rc = tcf_decode_counts(copy, len, &counted, counted_error);
	assert_int_equal(counted_rc, rc);
	if (rc == 0) {
		assert_int_equal(counted.version, out->version);
		assert_int_equal(counted.purpose_consents, out->purpose_consents);
		assert_int_equal(counted.special_feature_optins, out->special_feature_optins);
		assert_int_equal(counted.vendor_consents.count, out->vendor_consents.count);
		assert_int_equal(counted.vendor_legitimate_interests.count,
				 out->vendor_legitimate_interests.count);
		assert_int_equal(counted.disclosed_vendors.count, out->disclosed_vendors.count);
		assert_int_equal(counted.restriction_count, out->restriction_count);
		assert_null(counted.vendor_consents.bits);
		assert_null(counted.vendor_legitimate_interests.bits);
		tcf_free(&counted);
	} else {
		assert_string_equal(counted_error, error);
	}
	free(copy);
	if (rc == 0) {
		assert_int_equal(error[0], '\0');
	} else {
		assert_int_equal(rc, -1);
		assert_non_null(memchr(error, '\0', TCF_ERROR_MAX));
		assert_true(strlen(error) > 0);
		/* Nothing to free after a failure. */
		assert_null(out->restrictions);
		assert_null(out->vendor_consents.bits);
		assert_null(out->vendor_legitimate_interests.bits);
		assert_null(out->disclosed_vendors.bits);
	}
	return rc;
}

static int decode(const char *text, struct tcf *out, char error[TCF_ERROR_MAX])
{
	return decode_n(text, strlen(text), out, error);
}

/* Decoding must fail with exactly this message. */
static void expect_error(const char *text, const char *message)
{
	struct tcf t;
	char error[TCF_ERROR_MAX];
	if (decode(text, &t, error) == 0) {
		tcf_free(&t);
		fail_msg("'%s' decoded; want the error '%s'", text, message);
	}
	if (strcmp(error, message) != 0)
		fail_msg("'%s': error '%s', want '%s'", text, error, message);
}

/* Decoding must fail with a message that starts with `prefix`. */
static void expect_error_prefix(const char *text, const char *prefix)
{
	struct tcf t;
	char error[TCF_ERROR_MAX];
	if (decode(text, &t, error) == 0) {
		tcf_free(&t);
		fail_msg("'%s' decoded; want an error starting '%s'", text, prefix);
	}
	if (strncmp(error, prefix, strlen(prefix)) != 0)
		fail_msg("'%s': error '%s', want one starting '%s'", text, error, prefix);
}

static void expect_ok(const char *text, struct tcf *out)
{
	char error[TCF_ERROR_MAX];
	if (decode(text, out, error) != 0)
		fail_msg("'%s' does not decode: %s", text, error);
}

/* ---- a TC string encoder, for building test strings --------------------- */

struct bits {
	uint8_t bit[1 << 20]; /* one byte per bit: simple, and big enough */
	size_t n;
};

static struct bits *bits_new(void)
{
	struct bits *b = calloc(1, sizeof *b);
	assert_non_null(b);
	return b;
}

/* `value` in `n` bits, most significant first. */
static void put(struct bits *b, uint64_t value, unsigned n)
{
	assert_true(n <= 64 && b->n + n <= sizeof b->bit);
	for (unsigned i = 0; i < n; i++)
		b->bit[b->n++] = (uint8_t)(value >> (n - 1 - i) & 1);
}

static void put_zeros(struct bits *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put(b, 0, 1);
}

/* Flags for ids 1..n from a mask, id 1 first. */
static void put_flags(struct bits *b, uint64_t mask, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		put(b, mask >> i & 1, 1);
}

static void put_letters(struct bits *b, const char *two)
{
	put(b, (uint64_t)(two[0] - 'A'), 6);
	put(b, (uint64_t)(two[1] - 'A'), 6);
}

/* The bits as base64url, the last character padded with zeros; appended to `out`. */
static void append_base64url(const struct bits *b, char *out, size_t cap)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t len = strlen(out);
	for (size_t i = 0; i < b->n; i += 6) {
		unsigned v = 0;
		for (size_t k = 0; k < 6; k++)
			v = v << 1 | (i + k < b->n ? b->bit[i + k] : 0);
		assert_true(len + 1 < cap);
		out[len++] = alphabet[v];
	}
	out[len] = '\0';
}

/* Core fields as the tests below build them. */
enum {
	CREATED = 15977442096, /* 2020-08-18T09:50:09.6Z */
	UPDATED = 15977442107,
	CMP_ID = 31,
	CMP_VERSION = 1602,
	CORE_HEAD_BITS = 213, /* Version to PublisherCC */
};

/* Version 2 and the core's fixed fields, up to PublisherCC. */
static void put_core_head(struct bits *b)
{
	put(b, 2, 6);
	put(b, CREATED, 36);
	put(b, UPDATED, 36);
	put(b, CMP_ID, 12);
	put(b, CMP_VERSION, 12);
	put(b, 3, 6);            /* ConsentScreen */
	put_letters(b, "FR");    /* ConsentLanguage */
	put(b, 250, 12);         /* VendorListVersion */
	put(b, 4, 6);            /* TcfPolicyVersion */
	put(b, 1, 1);            /* IsServiceSpecific */
	put(b, 0, 1);            /* UseNonStandardTexts */
	put_flags(b, 0x001, 12); /* special feature 1 */
	put_flags(b, 0x00000f, 24);
	put_flags(b, 0x800002, 24); /* purposes 2 and 24 */
	put(b, 1, 1);            /* PurposeOneTreatment */
	put_letters(b, "IT");
	assert_int_equal(b->n, CORE_HEAD_BITS);
}

/* An empty vendor section: MaxVendorId 0, a bitfield of nothing. */
static void put_empty_vendors(struct bits *b)
{
	put(b, 0, 16);
	put(b, 0, 1);
}

/* A range entry: one id, or first..last. */
static void put_entry(struct bits *b, unsigned first, unsigned last)
{
	put(b, first != last, 1);
	put(b, first, 16);
	if (first != last)
		put(b, last, 16);
}

/* A core with empty vendor sections and no publisher restrictions. */
static void put_minimal_core(struct bits *b)
{
	put_core_head(b);
	put_empty_vendors(b);
	put_empty_vendors(b);
	put(b, 0, 12);
}

static char *encode(const struct bits *b)
{
	static char text[1 << 19];
	text[0] = '\0';
	append_base64url(b, text, sizeof text);
	return text;
}

/* Several segments joined with dots (into a static buffer). */
static char *encode_segments(struct bits *const *segments, size_t count)
{
	static char text[1 << 19];
	text[0] = '\0';
	for (size_t i = 0; i < count; i++) {
		if (i > 0)
			strcat(text, ".");
		append_base64url(segments[i], text, sizeof text);
	}
	return text;
}

/* ---- the vectors -------------------------------------------------------- */

static const char *data_dir(void)
{
	const char *dir = getenv("TCF_TEST_DATA");
	return dir ? dir : "tests/data";
}

enum { MAX_COLUMNS = 40, MAX_ROWS = 64 };

struct table {
	char *text;                        /* the file, cut into fields in place */
	char *header[MAX_COLUMNS];
	size_t columns;
	char *rows[MAX_ROWS][MAX_COLUMNS];
	size_t row_count;
};

static size_t split_tabs(char *line, char **fields)
{
	size_t n = 0;
	for (char *p = line;;) {
		assert_true(n < MAX_COLUMNS);
		fields[n++] = p;
		char *tab = strchr(p, '\t');
		if (!tab)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	return n;
}

static void read_table(struct table *t)
{
	char path[512];
	snprintf(path, sizeof path, "%s/tcf-vectors.tsv", data_dir());
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (run from the repository's root)", path);
	t->text = malloc(1 << 20);
	assert_non_null(t->text);
	size_t len = fread(t->text, 1, (1 << 20) - 1, f);
	assert_true(len < (1 << 20) - 1);
	t->text[len] = '\0';
	fclose(f);
	t->columns = 0;
	t->row_count = 0;
	for (char *line = t->text; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		size_t l = strlen(line);
		if (l > 0 && line[l - 1] == '\r')
			line[l - 1] = '\0';
		if (line[0] != '#' && line[0] != '\0') {
			if (t->columns == 0) {
				t->columns = split_tabs(line, t->header);
			} else {
				assert_true(t->row_count < MAX_ROWS);
				size_t n = split_tabs(line, t->rows[t->row_count]);
				if (n != t->columns)
					fail_msg("%s: a row of %zu fields, the header has %zu", path, n,
						 t->columns);
				t->row_count++;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	assert_true(t->row_count > 0);
}

static const char *column(const struct table *t, size_t row, const char *name)
{
	for (size_t c = 0; c < t->columns; c++)
		if (strcmp(t->header[c], name) == 0)
			return t->rows[row][c];
	fail_msg("tcf-vectors.tsv has no column '%s'", name);
	return NULL;
}

static long long number(const char *id, const char *name, const char *text)
{
	char *end;
	long long v = strtoll(text, &end, 10);
	if (*text == '\0' || *end != '\0')
		fail_msg("%s: %s '%s' is not a number", id, name, text);
	return v;
}

/* An id list "1-2,4,6-16" (empty: none) into a 65536-bit map; returns how many ids. */
static uint32_t parse_ids(const char *id, const char *name, const char *text, uint8_t *map)
{
	memset(map, 0, 8192);
	uint32_t count = 0;
	const char *p = text;
	while (*p) {
		char *end;
		unsigned long first = strtoul(p, &end, 10), last = first;
		if (end == p)
			fail_msg("%s: %s: bad id list at '%s'", id, name, p);
		p = end;
		if (*p == '-') {
			last = strtoul(p + 1, &end, 10);
			p = end;
		}
		if (first == 0 || last < first || last > 65535)
			fail_msg("%s: %s: bad range %lu-%lu", id, name, first, last);
		for (unsigned long v = first; v <= last; v++) {
			if (!(map[v / 8] >> v % 8 & 1))
				count++;
			map[v / 8] |= (uint8_t)(1u << v % 8);
		}
		if (*p == ',')
			p++;
		else if (*p)
			fail_msg("%s: %s: bad id list at '%s'", id, name, p);
	}
	return count;
}

static void check_ids(const char *id, const char *name, const struct tcf_ids *ids,
		      const char *want_text)
{
	static uint8_t map[8192];
	uint32_t want = parse_ids(id, name, want_text, map);
	if (ids->count != want)
		fail_msg("%s: %s: %u ids, want %u", id, name, ids->count, want);
	for (uint32_t v = 0; v <= 65535; v++) {
		bool expected = map[v / 8] >> v % 8 & 1;
		if (tcf_ids_has(ids, v) != expected)
			fail_msg("%s: %s: id %u is %s, want %s", id, name, v,
				 expected ? "missing" : "set", expected ? "set" : "not set");
	}
}

/* Purposes or features as a mask, bit i-1 for id i. */
static void check_mask(const char *id, const char *name, uint64_t mask, const char *want_text,
		       unsigned width)
{
	static uint8_t map[8192];
	parse_ids(id, name, want_text, map);
	uint64_t want = 0;
	for (unsigned v = 1; v <= 64; v++)
		if (map[v / 8] >> v % 8 & 1) {
			if (v > width)
				fail_msg("%s: %s: id %u past the field's %u", id, name, v, width);
			want |= (uint64_t)1 << (v - 1);
		}
	if (mask != want)
		fail_msg("%s: %s: mask %#llx, want %#llx", id, name, (unsigned long long)mask,
			 (unsigned long long)want);
}

static void check_number(const char *id, const char *name, long long got, const char *want)
{
	long long w = number(id, name, want);
	if (got != w)
		fail_msg("%s: %s: %lld, want %lld", id, name, got, w);
}

static void check_text(const char *id, const char *name, const char *got, const char *want)
{
	if (strcmp(got, want) != 0)
		fail_msg("%s: %s: '%s', want '%s'", id, name, got, want);
}

static void check_vendor_set(const struct table *t, size_t row, const char *prefix,
			     const struct tcf_ids *ids, const char *list_column)
{
	const char *id = column(t, row, "id");
	char name[64];
	snprintf(name, sizeof name, "%s_maxVendorId", prefix);
	check_number(id, name, ids->max, column(t, row, name));
	snprintf(name, sizeof name, "%s_encoding", prefix);
	check_text(id, name, ids->range_encoded ? "range" : "bitfield", column(t, row, name));
	check_ids(id, list_column, ids, column(t, row, list_column));
}

/* "p1:t1:7,20;p1:t2:730" against the restrictions, in order. */
static void check_restrictions(const char *id, const struct tcf *tcf, const char *want_text)
{
	char *copy = strdup(want_text);
	assert_non_null(copy);
	size_t i = 0;
	char *save = NULL;
	for (char *item = strtok_r(copy, ";", &save); item; item = strtok_r(NULL, ";", &save), i++) {
		unsigned purpose, type;
		int used = 0;
		if (sscanf(item, "p%u:t%u:%n", &purpose, &type, &used) != 2 || used == 0)
			fail_msg("%s: publisherRestrictions: bad item '%s'", id, item);
		if (i >= tcf->restriction_count)
			fail_msg("%s: publisherRestrictions: %zu restrictions, want more", id,
				 tcf->restriction_count);
		const struct tcf_restriction *r = &tcf->restrictions[i];
		if (r->purpose_id != purpose || r->restriction_type != type)
			fail_msg("%s: publisherRestrictions[%zu]: p%u:t%u, want p%u:t%u", id, i,
				 r->purpose_id, r->restriction_type, purpose, type);
		check_ids(id, item, &r->vendors, item + used);
	}
	if (i != tcf->restriction_count)
		fail_msg("%s: publisherRestrictions: %zu restrictions, want %zu", id,
			 tcf->restriction_count, i);
	free(copy);
}

/* created_utc against created_ds: the table is consistent with itself. */
static void check_utc(const char *id, long long ds, const char *utc)
{
	time_t seconds = (time_t)(ds / 10);
	struct tm tm;
	assert_non_null(gmtime_r(&seconds, &tm));
	char want[64];
	strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S", &tm);
	size_t n = strlen(want);
	if (strncmp(utc, want, n) != 0)
		fail_msg("%s: created_utc %s, but created_ds says %s", id, utc, want);
	/* The fraction: ".600000Z", or "Z" for a whole second. */
	long long tenths = ds % 10;
	if (utc[n] == 'Z')
		assert_int_equal(tenths, 0);
	else if (utc[n] != '.' || utc[n + 1] - '0' != tenths)
		fail_msg("%s: created_utc %s, but created_ds ends in %lld", id, utc, tenths);
}

static void check_v2_row(const struct table *t, size_t row, const struct tcf *tcf)
{
	const char *id = column(t, row, "id");
	check_number(id, "version", tcf->version, column(t, row, "version"));
	check_number(id, "created_ds", tcf->created_ds, column(t, row, "created_ds"));
	check_utc(id, tcf->created_ds, column(t, row, "created_utc"));
	check_number(id, "lastUpdated_ds", tcf->last_updated_ds, column(t, row, "lastUpdated_ds"));
	check_number(id, "cmpId", tcf->cmp_id, column(t, row, "cmpId"));
	check_number(id, "cmpVersion", tcf->cmp_version, column(t, row, "cmpVersion"));
	check_number(id, "consentScreen", tcf->consent_screen, column(t, row, "consentScreen"));
	check_text(id, "consentLanguage", tcf->consent_language, column(t, row, "consentLanguage"));
	check_number(id, "vendorListVersion", tcf->vendor_list_version,
		     column(t, row, "vendorListVersion"));
	check_number(id, "tcfPolicyVersion", tcf->tcf_policy_version,
		     column(t, row, "tcfPolicyVersion"));
	check_number(id, "isServiceSpecific", tcf->is_service_specific,
		     column(t, row, "isServiceSpecific"));
	check_number(id, "useNonStandardTexts", tcf->use_non_standard_texts,
		     column(t, row, "useNonStandardTexts"));
	check_mask(id, "specialFeatureOptins", tcf->special_feature_optins,
		   column(t, row, "specialFeatureOptins"), TCF_SPECIAL_FEATURES);
	check_mask(id, "purposeConsents", tcf->purpose_consents, column(t, row, "purposeConsents"),
		   TCF_PURPOSES);
	check_mask(id, "purposeLegitimateInterests", tcf->purpose_legitimate_interests,
		   column(t, row, "purposeLegitimateInterests"), TCF_PURPOSES);
	check_number(id, "purposeOneTreatment", tcf->purpose_one_treatment,
		     column(t, row, "purposeOneTreatment"));
	check_text(id, "publisherCC", tcf->publisher_cc, column(t, row, "publisherCC"));
	check_vendor_set(t, row, "vendorConsents", &tcf->vendor_consents, "vendorConsents");
	check_vendor_set(t, row, "vendorLI", &tcf->vendor_legitimate_interests, "vendorLI");
	check_restrictions(id, tcf, column(t, row, "publisherRestrictions"));

	/* Disclosed vendors: present exactly when the table gives a MaxVendorId. */
	const char *disclosed_max = column(t, row, "disclosedVendors_maxVendorId");
	if (*disclosed_max) {
		if (!tcf->has_disclosed_vendors)
			fail_msg("%s: no disclosedVendors segment decoded", id);
		check_number(id, "disclosedVendors_maxVendorId", tcf->disclosed_vendors.max,
			     disclosed_max);
		check_ids(id, "disclosedVendors", &tcf->disclosed_vendors,
			  column(t, row, "disclosedVendors"));
	} else {
		if (tcf->has_disclosed_vendors)
			fail_msg("%s: a disclosedVendors segment the table does not have", id);
		assert_string_equal(column(t, row, "disclosedVendors"), "");
	}

	/* Publisher TC: present exactly when the table gives numCustomPurposes. */
	const char *custom = column(t, row, "numCustomPurposes");
	if (*custom) {
		if (!tcf->has_publisher_tc)
			fail_msg("%s: no publisherTC segment decoded", id);
		check_number(id, "numCustomPurposes", tcf->num_custom_purposes, custom);
		check_mask(id, "publisherTC_consents", tcf->publisher_consents,
			   column(t, row, "publisherTC_consents"), TCF_PURPOSES);
		check_mask(id, "publisherTC_LI", tcf->publisher_legitimate_interests,
			   column(t, row, "publisherTC_LI"), TCF_PURPOSES);
	} else {
		if (tcf->has_publisher_tc)
			fail_msg("%s: a publisherTC segment the table does not have", id);
		assert_string_equal(column(t, row, "publisherTC_consents"), "");
		assert_string_equal(column(t, row, "publisherTC_LI"), "");
	}
}

/* A TCF v1 row: the fields v1 has; the v2-only columns are empty. */
static void check_v1_row(const struct table *t, size_t row, const struct tcf *tcf)
{
	const char *id = column(t, row, "id");
	check_number(id, "version", tcf->version, column(t, row, "version"));
	assert_int_equal(tcf->version, 1);
	check_number(id, "created_ds", tcf->created_ds, column(t, row, "created_ds"));
	check_utc(id, tcf->created_ds, column(t, row, "created_utc"));
	check_number(id, "lastUpdated_ds", tcf->last_updated_ds, column(t, row, "lastUpdated_ds"));
	check_number(id, "cmpId", tcf->cmp_id, column(t, row, "cmpId"));
	check_number(id, "cmpVersion", tcf->cmp_version, column(t, row, "cmpVersion"));
	check_number(id, "consentScreen", tcf->consent_screen, column(t, row, "consentScreen"));
	check_text(id, "consentLanguage", tcf->consent_language, column(t, row, "consentLanguage"));
	check_number(id, "vendorListVersion", tcf->vendor_list_version,
		     column(t, row, "vendorListVersion"));
	check_mask(id, "purposeConsents", tcf->purpose_consents, column(t, row, "purposeConsents"),
		   TCF_PURPOSES);
	check_vendor_set(t, row, "vendorConsents", &tcf->vendor_consents, "vendorConsents");
	static const char *const v2_only[] = {
		"tcfPolicyVersion", "isServiceSpecific", "useNonStandardTexts",
		"specialFeatureOptins", "purposeLegitimateInterests", "purposeOneTreatment",
		"publisherCC", "vendorLI_maxVendorId", "vendorLI", "publisherRestrictions",
		"disclosedVendors_maxVendorId", "numCustomPurposes",
	};
	for (size_t i = 0; i < sizeof v2_only / sizeof v2_only[0]; i++)
		if (*column(t, row, v2_only[i]))
			fail_msg("%s: a v1 row with %s", id, v2_only[i]);
	assert_int_equal(tcf->vendor_legitimate_interests.count, 0);
	assert_int_equal(tcf->restriction_count, 0);
	assert_false(tcf->has_disclosed_vendors);
	assert_false(tcf->has_publisher_tc);
}

static void test_vectors(void **state)
{
	(void)state;
	static struct table t;
	read_table(&t);
	size_t ok = 0, v1 = 0, failed = 0;
	for (size_t row = 0; row < t.row_count; row++) {
		const char *id = column(&t, row, "id");
		const char *expect = column(&t, row, "expect");
		const char *text = column(&t, row, "tc_string");
		struct tcf tcf;
		char error[TCF_ERROR_MAX];
		int rc = decode(text, &tcf, error);
		if (strcmp(expect, "must_fail") == 0) {
			if (rc == 0) {
				tcf_free(&tcf);
				fail_msg("%s: decoded, but must fail", id);
			}
			failed++;
			continue;
		}
		if (rc != 0)
			fail_msg("%s: does not decode: %s", id, error);
		if (strcmp(expect, "ok") == 0) {
			check_v2_row(&t, row, &tcf);
			ok++;
		} else if (strcmp(expect, "ok_v1_legacy") == 0) {
			check_v1_row(&t, row, &tcf);
			v1++;
		} else {
			fail_msg("%s: unknown expect '%s'", id, expect);
		}
		tcf_free(&tcf);
	}
	print_message("tcf-vectors.tsv: %zu v2 rows, %zu v1 rows, %zu must_fail rows pass\n", ok,
		      v1, failed);
	assert_int_equal(ok + v1 + failed, t.row_count);
	assert_true(ok >= 1 && v1 >= 1 && failed >= 1);
	free(t.text);
}

/* The row that must fail fails where the table says: the vendor bitfield is short. */
static void test_vector_must_fail_names_the_field(void **state)
{
	(void)state;
	static struct table t;
	read_table(&t);
	for (size_t row = 0; row < t.row_count; row++) {
		if (strcmp(column(&t, row, "expect"), "must_fail") != 0)
			continue;
		struct tcf tcf;
		char error[TCF_ERROR_MAX];
		assert_int_equal(decode(column(&t, row, "tc_string"), &tcf, error), -1);
		if (!strstr(error, "bitfield of "))
			fail_msg("%s: error '%s' does not name the short bitfield",
				 column(&t, row, "id"), error);
	}
	free(t.text);
}

/*
 * Every prefix of every vector: fails cleanly or decodes, never crashes. For
 * a vector of one segment the last field ends within the last two characters
 * (padding is under a byte plus a character): every shorter prefix fails,
 * and once a prefix decodes, the longer ones do too.
 */
static void test_every_prefix(void **state)
{
	(void)state;
	static struct table t;
	read_table(&t);
	for (size_t row = 0; row < t.row_count; row++) {
		const char *id = column(&t, row, "id");
		const char *text = column(&t, row, "tc_string");
		size_t len = strlen(text);
		bool one_segment = !strchr(text, '.');
		bool decoded_before = false;
		for (size_t n = 0; n <= len; n++) {
			struct tcf tcf;
			char error[TCF_ERROR_MAX];
			int rc = decode_n(text, n, &tcf, error);
			if (rc == 0)
				tcf_free(&tcf);
			if (!one_segment)
				continue;
			if (rc == 0 && n + 2 < len)
				fail_msg("%s: the prefix of %zu of %zu characters decodes", id, n, len);
			if (rc != 0 && decoded_before)
				fail_msg("%s: the prefix of %zu fails (%s) after a shorter one decoded",
					 id, n, error);
			decoded_before = decoded_before || rc == 0;
		}
		if (one_segment && strcmp(column(&t, row, "expect"), "must_fail") != 0)
			assert_true(decoded_before);
	}
	free(t.text);
}

/* ---- the core, field by field ------------------------------------------- */

/*
 * A real string cut at each character: the error names the field the cut
 * falls in, by the specification's widths (the first field that does not
 * fit in 6 * n bits).
 */
static void test_core_field_boundaries(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		unsigned bits;
	} fields[] = {
		{ "version", 6 }, { "created", 36 }, { "lastUpdated", 36 }, { "cmpId", 12 },
		{ "cmpVersion", 12 }, { "consentScreen", 6 }, { "consentLanguage", 12 },
		{ "vendorListVersion", 12 }, { "tcfPolicyVersion", 6 }, { "isServiceSpecific", 1 },
		{ "useNonStandardTexts", 1 }, { "specialFeatureOptins", 12 },
		{ "purposeConsents", 24 }, { "purposeLegitimateInterests", 24 },
		{ "purposeOneTreatment", 1 }, { "publisherCountryCode", 12 },
		{ "vendorConsents", 16 }, /* its MaxVendorId */
	};
	const char *text = "CO4VGswO4VGswAfZCBDEAzCsAP_AAH_AAAigGUNf_X9fb2vj-_599_t0eY1f9_63t";
	/* The letters are 6 bits each: a cut between them fails on the second. */
	for (size_t n = 1; n * 6 < 213 + 16; n++) {
		unsigned end = 0;
		const char *want = NULL;
		for (size_t f = 0; f < sizeof fields / sizeof fields[0] && !want; f++) {
			end += fields[f].bits;
			if (end > n * 6)
				want = fields[f].name;
		}
		assert_non_null(want);
		struct tcf tcf;
		char error[TCF_ERROR_MAX];
		assert_int_equal(decode_n(text, n, &tcf, error), -1);
		size_t wl = strlen(want);
		if (strncmp(error, want, wl) != 0 || error[wl] != ':')
			fail_msg("cut at %zu characters: error '%s', want one about %s", n, error,
				 want);
	}
	/* The exact words, at two cuts. */
	struct tcf tcf;
	char error[TCF_ERROR_MAX];
	assert_int_equal(decode_n(text, 13, &tcf, error), -1);
	assert_string_equal(error, "cmpId: 12 bits needed but 0 left");
	assert_int_equal(decode_n(text, 5, &tcf, error), -1);
	assert_string_equal(error, "created: 36 bits needed but 24 left");
}

static void test_empty_and_short(void **state)
{
	(void)state;
	expect_error("", "tcString: empty");
	expect_error("C", "created: 36 bits needed but 0 left");
	expect_error("B", "created: 36 bits needed but 0 left");
	expect_error("A", "version: 0 is not a known version (1 or 2)");
	expect_error("D", "version: 3 is not a known version (1 or 2)");
	expect_error("_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		     "version: 63 is not a known version (1 or 2)");
	expect_error(".", "tcString: segment 1 is empty");
	expect_error(".C", "tcString: segment 1 is empty");
}

/* The core fields come out as built, the purposes and features id 1 first. */
static void test_core_fields(void **state)
{
	(void)state;
	struct bits *b = bits_new();
	put_minimal_core(b);
	struct tcf t;
	expect_ok(encode(b), &t);
	assert_int_equal(t.version, 2);
	assert_int_equal(t.created_ds, CREATED);
	assert_int_equal(t.last_updated_ds, UPDATED);
	assert_int_equal(t.cmp_id, CMP_ID);
	assert_int_equal(t.cmp_version, CMP_VERSION);
	assert_int_equal(t.consent_screen, 3);
	assert_string_equal(t.consent_language, "FR");
	assert_int_equal(t.vendor_list_version, 250);
	assert_int_equal(t.tcf_policy_version, 4);
	assert_true(t.is_service_specific);
	assert_false(t.use_non_standard_texts);
	assert_int_equal(t.special_feature_optins, 0x001);
	assert_int_equal(t.purpose_consents, 0x00000f);
	assert_int_equal(t.purpose_legitimate_interests, 0x800002);
	assert_true(t.purpose_one_treatment);
	assert_string_equal(t.publisher_cc, "IT");
	assert_int_equal(t.vendor_consents.max, 0);
	assert_int_equal(t.vendor_consents.count, 0);
	assert_null(t.vendor_consents.bits);
	assert_int_equal(t.restriction_count, 0);
	assert_false(t.has_disclosed_vendors);
	assert_false(t.has_publisher_tc);
	tcf_free(&t);

	/* Bits after the last field (longer padding, a newer version's fields) are ignored. */
	put(b, 0x3ffff, 18);
	expect_ok(encode(b), &t);
	assert_int_equal(t.cmp_id, CMP_ID);
	tcf_free(&t);
	free(b);
}

static void test_language_letters(void **state)
{
	(void)state;
	struct bits *b = bits_new();
	put(b, 2, 6);
	put(b, CREATED, 36);
	put(b, UPDATED, 36);
	put(b, 1, 12);
	put(b, 1, 12);
	put(b, 1, 6);
	put(b, 4, 6);  /* E */
	put(b, 26, 6); /* not a letter */
	put(b, 0, 60);
	expect_error(encode(b), "consentLanguage: letter value 26 is not A-Z");

	b->n = 0;
	put_core_head(b);
	b->n -= 6;
	put(b, 63, 6);
	put_empty_vendors(b);
	expect_error(encode(b), "publisherCountryCode: letter value 63 is not A-Z");
	free(b);
}

static void test_bad_characters(void **state)
{
	(void)state;
	static const char good[] = "CP5jqEAP5jqEACGABBENAmEgAAAAAAAAAAAAAAAAAAAA.YAAAAAAAAAAA";
	static const struct {
		char c;
		const char *shown;
	} bad[] = {
		{ '+', "('+')" }, { '/', "('/')" }, { '=', "('=')" }, { '%', "('%')" },
		{ ' ', "(\\x20)" }, { '\n', "(\\x0a)" }, { '\0', "(\\x00)" }, { '\xff', "(\\xff)" },
		{ '"', "('\"')" },
	};
	char text[sizeof good];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		for (size_t at = 0; at < sizeof good - 1; at += 7) {
			memcpy(text, good, sizeof good);
			text[at] = bad[i].c;
			struct tcf t;
			char error[TCF_ERROR_MAX], want[TCF_ERROR_MAX];
			snprintf(want, sizeof want, "tcString: character %zu %s is not base64url", at + 1,
				 bad[i].shown);
			assert_int_equal(decode_n(text, sizeof good - 1, &t, error), -1);
			assert_string_equal(error, want);
		}
	}
	/* Padding, as standard base64 would add, is not base64url. */
	expect_error("CP5jqEAP5jqEACGABBENAmEgAAAAAAAAAAAAAAAAAAAA==",
		     "tcString: character 45 ('=') is not base64url");
}

/* ---- vendor sections ---------------------------------------------------- */

/* The core head, then a range-encoded vendorConsents section of these entries. */
static char *core_with_consent_ranges(unsigned max, const unsigned (*entries)[2], size_t count)
{
	static struct bits b;
	b.n = 0;
	put_core_head(&b);
	put(&b, max, 16);
	put(&b, 1, 1);
	put(&b, count, 12);
	for (size_t i = 0; i < count; i++)
		put_entry(&b, entries[i][0], entries[i][1]);
	put_empty_vendors(&b);
	put(&b, 0, 12);
	return encode(&b);
}

static void test_vendor_ranges(void **state)
{
	(void)state;
	static const unsigned good[][2] = { { 3, 3 }, { 10, 20 }, { 15, 25 }, { 100, 100 } };
	struct tcf t;
	expect_ok(core_with_consent_ranges(100, good, 4), &t);
	assert_true(t.vendor_consents.range_encoded);
	assert_int_equal(t.vendor_consents.max, 100);
	assert_int_equal(t.vendor_consents.count, 1 + 16 + 1); /* overlaps count once */
	assert_true(tcf_ids_has(&t.vendor_consents, 3));
	assert_true(tcf_ids_has(&t.vendor_consents, 10));
	assert_true(tcf_ids_has(&t.vendor_consents, 25));
	assert_false(tcf_ids_has(&t.vendor_consents, 26));
	assert_true(tcf_ids_has(&t.vendor_consents, 100));
	assert_false(tcf_ids_has(&t.vendor_consents, 101));
	assert_false(tcf_ids_has(&t.vendor_consents, 0));
	tcf_free(&t);

	static const unsigned backwards[][2] = { { 1, 1 }, { 20, 10 } };
	expect_error(core_with_consent_ranges(100, backwards, 2),
		     "vendorConsents: range entry 2 of 2: end 10 < start 20");
	static const unsigned zero[][2] = { { 0, 0 } };
	expect_error(core_with_consent_ranges(100, zero, 1),
		     "vendorConsents: range entry 1 of 1: vendor id 0");
	static const unsigned zero_start[][2] = { { 0, 5 } };
	expect_error(core_with_consent_ranges(100, zero_start, 1),
		     "vendorConsents: range entry 1 of 1: vendor id 0");
	static const unsigned above[][2] = { { 5, 101 } };
	expect_error(core_with_consent_ranges(100, above, 1),
		     "vendorConsents: range entry 1 of 1: vendor id 101 > maxVendorId 100");
	static const unsigned any[][2] = { { 1, 1 } };
	expect_error(core_with_consent_ranges(0, any, 1),
		     "vendorConsents: range entry 1 of 1: vendor id 1 > maxVendorId 0");

	/* The widest range: every id, from a few bits, in a bounded bitmap. */
	static const unsigned all[][2] = { { 1, 65535 } };
	expect_ok(core_with_consent_ranges(65535, all, 1), &t);
	assert_int_equal(t.vendor_consents.count, 65535);
	assert_true(tcf_ids_has(&t.vendor_consents, 65535));
	assert_true(tcf_ids_has(&t.vendor_consents, 1));
	assert_false(tcf_ids_has(&t.vendor_consents, 65536));
	tcf_free(&t);
}

static void test_huge_num_entries(void **state)
{
	(void)state;
	struct bits *b = bits_new();
	put_core_head(b);
	put(b, 1000, 16);
	put(b, 1, 1);
	put(b, 4095, 12);
	put_entry(b, 1, 1);
	put(b, 0, 5); /* 213 + 29 + 17 + 5 = 264 = 44 characters: no padding */
	expect_error(encode(b),
		     "vendorConsents: 4095 range entries need at least 69615 bits but 22 left");

	/* Entries that fit the minimum but not with their EndVendorIds. */
	b->n = 0;
	put_core_head(b);
	put(b, 1000, 16);
	put(b, 1, 1);
	put(b, 2, 12);
	put_entry(b, 1, 5);
	put(b, 1, 1);  /* a range ... */
	put(b, 7, 16); /* ... whose end is missing */
	expect_error_prefix(encode(b), "vendorConsents: range entry 2 of 2: endVendorId: 16 bits needed but ");
	free(b);
}

static void test_bitfields(void **state)
{
	(void)state;
	struct bits *b = bits_new();
	put_core_head(b);
	put(b, 808, 16);
	put(b, 0, 1);
	put_zeros(b, 520); /* 213 + 17 + 520 = 750 bits = 125 characters: nothing to pad */
	expect_error(encode(b), "vendorConsents: bitfield of 808 bits but 520 left");

	/* Every id 1..65535 (both sets), count and bounds. */
	b->n = 0;
	put_core_head(b);
	put(b, 65535, 16);
	put(b, 0, 1);
	for (unsigned i = 0; i < 65535; i++)
		put(b, 1, 1);
	put(b, 7, 16);
	put(b, 0, 1);
	put(b, 0x2a, 7); /* 0101010: ids 2, 4, 6 */
	put(b, 0, 12);
	struct tcf t;
	expect_ok(encode(b), &t);
	assert_int_equal(t.vendor_consents.count, 65535);
	assert_false(t.vendor_consents.range_encoded);
	assert_true(tcf_ids_has(&t.vendor_consents, 1));
	assert_true(tcf_ids_has(&t.vendor_consents, 65535));
	assert_int_equal(t.vendor_legitimate_interests.count, 3);
	assert_int_equal(t.vendor_legitimate_interests.max, 7);
	assert_false(tcf_ids_has(&t.vendor_legitimate_interests, 1));
	assert_true(tcf_ids_has(&t.vendor_legitimate_interests, 2));
	assert_true(tcf_ids_has(&t.vendor_legitimate_interests, 6));
	assert_false(tcf_ids_has(&t.vendor_legitimate_interests, 7));
	tcf_free(&t);

	/* The LI section cut short. */
	b->n = 0;
	put_core_head(b);
	put_empty_vendors(b);
	put(b, 0, 10);
	expect_error_prefix(encode(b), "vendorLegitimateInterests: maxVendorId: 16 bits needed but ");
	free(b);
}

static void test_ids_has_bounds(void **state)
{
	(void)state;
	struct tcf_ids empty = { 0 };
	assert_false(tcf_ids_has(&empty, 0));
	assert_false(tcf_ids_has(&empty, 1));
	assert_false(tcf_ids_has(&empty, 70000));
	uint8_t bits[2] = { 0xff, 0xff };
	struct tcf_ids set = { .bits = bits, .max = 9, .count = 9 };
	assert_false(tcf_ids_has(&set, 0));
	assert_true(tcf_ids_has(&set, 9));
	assert_false(tcf_ids_has(&set, 10));
	assert_false(tcf_ids_has(&set, UINT32_MAX));
}

/* ---- publisher restrictions --------------------------------------------- */

static void put_restriction(struct bits *b, unsigned purpose, unsigned type,
			    const unsigned (*entries)[2], size_t count)
{
	put(b, purpose, 6);
	put(b, type, 2);
	put(b, count, 12);
	for (size_t i = 0; i < count; i++)
		put_entry(b, entries[i][0], entries[i][1]);
}

static void test_restrictions(void **state)
{
	(void)state;
	struct bits *b = bits_new();
	static const unsigned a[][2] = { { 7, 7 }, { 20, 22 } };
	static const unsigned c[][2] = { { 65535, 65535 } };
	static const unsigned d[][2] = { { 8, 8 } };
	put_core_head(b);
	put_empty_vendors(b);
	put_empty_vendors(b);
	put(b, 5, 12);
	put_restriction(b, 3, 2, c, 1);
	put_restriction(b, 1, 1, a, 2);
	put_restriction(b, 3, 0, NULL, 0); /* no vendors */
	put_restriction(b, 1, 1, d, 1);    /* the same purpose and type again: merged */
	put_restriction(b, 2, 3, d, 1);    /* type 3 is undefined, but decodes */
	struct tcf t;
	expect_ok(encode(b), &t);
	assert_int_equal(t.restriction_count, 4);
	/* In order of purpose, then type. */
	assert_int_equal(t.restrictions[0].purpose_id, 1);
	assert_int_equal(t.restrictions[0].restriction_type, 1);
	assert_int_equal(t.restrictions[0].vendors.count, 5);
	assert_int_equal(t.restrictions[0].vendors.max, 22);
	assert_true(t.restrictions[0].vendors.range_encoded);
	for (unsigned id = 0; id < 30; id++)
		assert_int_equal(tcf_ids_has(&t.restrictions[0].vendors, id),
				 id == 7 || id == 8 || (id >= 20 && id <= 22));
	assert_int_equal(t.restrictions[1].purpose_id, 2);
	assert_int_equal(t.restrictions[1].restriction_type, 3);
	assert_int_equal(t.restrictions[2].purpose_id, 3);
	assert_int_equal(t.restrictions[2].restriction_type, 0);
	assert_int_equal(t.restrictions[2].vendors.count, 0);
	assert_null(t.restrictions[2].vendors.bits);
	assert_int_equal(t.restrictions[3].purpose_id, 3);
	assert_int_equal(t.restrictions[3].restriction_type, 2);
	assert_int_equal(t.restrictions[3].vendors.count, 1);
	assert_true(tcf_ids_has(&t.restrictions[3].vendors, 65535));
	tcf_free(&t);

	/* A bad entry names the restriction and the entry. */
	static const unsigned backwards[][2] = { { 5, 3 } };
	b->n = 0;
	put_core_head(b);
	put_empty_vendors(b);
	put_empty_vendors(b);
	put(b, 2, 12);
	put_restriction(b, 1, 0, a, 2);
	put_restriction(b, 2, 0, backwards, 1);
	expect_error(encode(b),
		     "publisherRestrictions: restriction 2 of 2: range entry 1 of 1: end 3 < start 5");

	b->n = 0;
	put_core_head(b);
	put_empty_vendors(b);
	put_empty_vendors(b);
	put(b, 1, 12);
	put_restriction(b, 0, 0, a, 2);
	expect_error(encode(b), "publisherRestrictions: restriction 1 of 1: purpose id 0");

	/* More restrictions than are kept. */
	b->n = 0;
	put_core_head(b);
	put_empty_vendors(b);
	put_empty_vendors(b);
	put(b, TCF_MAX_RESTRICTIONS + 1, 12);
	for (int i = 0; i <= TCF_MAX_RESTRICTIONS; i++)
		put_restriction(b, 1, 0, d, 1);
	expect_error(encode(b), "publisherRestrictions: 1025 restrictions, more than 1024");

	/* As many as are kept, all the same pair with one id each: one restriction. */
	b->n = 0;
	put_core_head(b);
	put_empty_vendors(b);
	put_empty_vendors(b);
	put(b, TCF_MAX_RESTRICTIONS, 12);
	for (unsigned i = 1; i <= TCF_MAX_RESTRICTIONS; i++) {
		unsigned one[1][2] = { { i * 60, i * 60 } };
		put_restriction(b, 1, 0, (const unsigned (*)[2])one, 1);
	}
	expect_ok(encode(b), &t);
	assert_int_equal(t.restriction_count, 1);
	assert_int_equal(t.restrictions[0].vendors.count, TCF_MAX_RESTRICTIONS);
	assert_int_equal(t.restrictions[0].vendors.max, TCF_MAX_RESTRICTIONS * 60);
	tcf_free(&t);

	/* The count cut short, and a restriction with a huge NumEntries. */
	b->n = 0;
	put_core_head(b);
	put_empty_vendors(b);
	put_empty_vendors(b);
	put(b, 1, 5);
	expect_error_prefix(encode(b), "publisherRestrictions: numPubRestrictions: 12 bits needed but ");
	b->n = 0;
	put_core_head(b);
	put_empty_vendors(b);
	put_empty_vendors(b);
	put(b, 1, 12);
	put(b, 1, 6);
	put(b, 1, 2);
	put(b, 4095, 12);
	expect_error_prefix(encode(b), "publisherRestrictions: restriction 1 of 1: 4095 range entries need at least 69615 bits but ");
	free(b);
}

/* ---- optional segments -------------------------------------------------- */

static void test_segments(void **state)
{
	(void)state;
	struct bits *core = bits_new(), *disclosed = bits_new(), *allowed = bits_new(),
		    *publisher = bits_new(), *extra = bits_new();
	put_minimal_core(core);

	/* DisclosedVendors, range-encoded. */
	put(disclosed, 1, 3);
	put(disclosed, 500, 16);
	put(disclosed, 1, 1);
	put(disclosed, 2, 12);
	put_entry(disclosed, 2, 4);
	put_entry(disclosed, 500, 500);
	/* AllowedVendors (obsolete), a bitfield. */
	put(allowed, 2, 3);
	put(allowed, 3, 16);
	put(allowed, 0, 1);
	put(allowed, 5, 3);
	/* PublisherTC with five custom purposes. */
	put(publisher, 3, 3);
	put_flags(publisher, 0x000101, 24); /* purposes 1, 9 */
	put_flags(publisher, 0x000002, 24); /* purpose 2 */
	put(publisher, 5, 6);
	put_flags(publisher, 0x11, 5);      /* custom 1, 5 */
	put_flags(publisher, 0x02, 5);      /* custom 2 */

	struct bits *all[] = { core, publisher, allowed, disclosed };
	struct tcf t;
	expect_ok(encode_segments(all, 4), &t);
	assert_true(t.has_disclosed_vendors);
	assert_int_equal(t.disclosed_vendors.max, 500);
	assert_true(t.disclosed_vendors.range_encoded);
	assert_int_equal(t.disclosed_vendors.count, 4);
	assert_true(tcf_ids_has(&t.disclosed_vendors, 2));
	assert_true(tcf_ids_has(&t.disclosed_vendors, 4));
	assert_false(tcf_ids_has(&t.disclosed_vendors, 5));
	assert_true(tcf_ids_has(&t.disclosed_vendors, 500));
	assert_true(t.has_publisher_tc);
	assert_int_equal(t.publisher_consents, 0x000101);
	assert_int_equal(t.publisher_legitimate_interests, 0x000002);
	assert_int_equal(t.num_custom_purposes, 5);
	assert_int_equal(t.publisher_custom_consents, 0x11);
	assert_int_equal(t.publisher_custom_legitimate_interests, 0x02);
	tcf_free(&t);

	/* The allowed-vendors segment alone: accepted, nothing kept. */
	struct bits *core_allowed[] = { core, allowed };
	expect_ok(encode_segments(core_allowed, 2), &t);
	assert_false(t.has_disclosed_vendors);
	assert_false(t.has_publisher_tc);
	tcf_free(&t);

	/* 63 custom purposes, the most there can be. */
	put(extra, 3, 3);
	put(extra, 0, 48);
	put(extra, 63, 6);
	put(extra, UINT64_MAX >> 1, 63);
	put(extra, 1, 63);
	struct bits *core_custom[] = { core, extra };
	expect_ok(encode_segments(core_custom, 2), &t);
	assert_int_equal(t.num_custom_purposes, 63);
	assert_true(t.publisher_custom_consents == UINT64_MAX >> 1);
	assert_true(t.publisher_custom_legitimate_interests == (uint64_t)1 << 62);
	tcf_free(&t);

	/* Custom purposes cut short. */
	extra->n = 0;
	put(extra, 3, 3);
	put(extra, 0, 48);
	put(extra, 40, 6);
	put(extra, 0, 40);
	put(extra, 0, 23); /* 3 + 48 + 6 + 40 + 23 = 120 = 20 characters */
	expect_error(encode_segments(core_custom, 2),
		     "publisherCustomLegitimateInterests: 40 bits needed but 23 left");

	/* A segment type twice, an unknown one, the core again. */
	struct bits *twice[] = { core, disclosed, publisher, disclosed };
	expect_error(encode_segments(twice, 4), "segment 4: a second disclosedVendors segment");
	struct bits *twice_allowed[] = { core, allowed, allowed };
	expect_error(encode_segments(twice_allowed, 3), "segment 3: a second allowedVendors segment");
	for (unsigned type = 4; type <= 7; type++) {
		extra->n = 0;
		put(extra, type, 3);
		put(extra, 0, 21);
		char want[64];
		snprintf(want, sizeof want, "segment 2: segment type %u is unknown", type);
		expect_error(encode_segments(core_custom, 2), want);
	}
	extra->n = 0;
	put_minimal_core(extra);
	expect_error(encode_segments(core_custom, 2), "segment 2: a second core segment");

	/* Empty segments. */
	char text[1024];
	snprintf(text, sizeof text, "%s.", encode(core));
	expect_error(text, "tcString: segment 2 is empty");
	snprintf(text, sizeof text, "%s..%s", encode(core), "YAAAAAAAAAAA");
	expect_error(text, "tcString: segment 2 is empty");

	/* A broken obsolete segment is still an error. */
	extra->n = 0;
	put(extra, 2, 3);
	put(extra, 100, 16);
	put(extra, 0, 1);
	put(extra, 0, 4);
	expect_error(encode_segments(core_custom, 2),
		     "allowedVendors: bitfield of 100 bits but 4 left");
	/* A segment too short for its type. */
	snprintf(text, sizeof text, "%s.I", encode(core));
	expect_error(text, "disclosedVendors: maxVendorId: 16 bits needed but 3 left");

	free(core);
	free(disclosed);
	free(allowed);
	free(publisher);
	free(extra);
}

/* ---- TCF v1 ------------------------------------------------------------- */

static void put_v1_head(struct bits *b)
{
	put(b, 1, 6);
	put(b, 15946451618, 36);
	put(b, 15946451619, 36);
	put(b, 125, 12);
	put(b, 1, 12);
	put(b, 0, 6);
	put_letters(b, "DE");
	put(b, 210, 12);
	put_flags(b, 0x1f, 24);
}

static void test_v1(void **state)
{
	(void)state;
	struct bits *b = bits_new();
	struct tcf t;

	/* Bitfield. */
	put_v1_head(b);
	put(b, 10, 16);
	put(b, 0, 1);
	put(b, 0x205, 10); /* ids 1, 8, 10 */
	expect_ok(encode(b), &t);
	assert_int_equal(t.version, 1);
	assert_int_equal(t.created_ds, 15946451618);
	assert_int_equal(t.last_updated_ds, 15946451619);
	assert_int_equal(t.cmp_id, 125);
	assert_string_equal(t.consent_language, "DE");
	assert_int_equal(t.vendor_list_version, 210);
	assert_int_equal(t.purpose_consents, 0x1f);
	assert_int_equal(t.vendor_consents.max, 10);
	assert_false(t.vendor_consents.range_encoded);
	assert_int_equal(t.vendor_consents.count, 3);
	assert_true(tcf_ids_has(&t.vendor_consents, 1));
	assert_true(tcf_ids_has(&t.vendor_consents, 8));
	assert_true(tcf_ids_has(&t.vendor_consents, 10));
	assert_int_equal(t.tcf_policy_version, 0);
	assert_string_equal(t.publisher_cc, "");
	tcf_free(&t);

	/* Ranges, DefaultConsent 0: the ranges have consent. */
	b->n = 0;
	put_v1_head(b);
	put(b, 300, 16);
	put(b, 1, 1);
	put(b, 0, 1);
	put(b, 2, 12);
	put_entry(b, 5, 5);
	put_entry(b, 100, 300);
	expect_ok(encode(b), &t);
	assert_true(t.vendor_consents.range_encoded);
	assert_int_equal(t.vendor_consents.count, 202);
	assert_true(tcf_ids_has(&t.vendor_consents, 5));
	assert_false(tcf_ids_has(&t.vendor_consents, 6));
	tcf_free(&t);

	/* Ranges, DefaultConsent 1: every id but the ranges has consent. */
	b->n = 0;
	put_v1_head(b);
	put(b, 300, 16);
	put(b, 1, 1);
	put(b, 1, 1);
	put(b, 2, 12);
	put_entry(b, 5, 5);
	put_entry(b, 100, 299);
	expect_ok(encode(b), &t);
	assert_int_equal(t.vendor_consents.count, 300 - 1 - 200);
	assert_true(tcf_ids_has(&t.vendor_consents, 4));
	assert_false(tcf_ids_has(&t.vendor_consents, 5));
	assert_false(tcf_ids_has(&t.vendor_consents, 299));
	assert_true(tcf_ids_has(&t.vendor_consents, 300));
	assert_false(tcf_ids_has(&t.vendor_consents, 301));
	tcf_free(&t);

	/* DefaultConsent 1 with MaxVendorId 0: nothing. */
	b->n = 0;
	put_v1_head(b);
	put(b, 0, 16);
	put(b, 1, 1);
	put(b, 1, 1);
	put(b, 0, 12);
	expect_ok(encode(b), &t);
	assert_int_equal(t.vendor_consents.count, 0);
	tcf_free(&t);

	/* Errors: an id past MaxVendorId, a short bitfield, segments. */
	b->n = 0;
	put_v1_head(b);
	put(b, 300, 16);
	put(b, 1, 1);
	put(b, 1, 1);
	put(b, 1, 12);
	put_entry(b, 250, 301);
	expect_error(encode(b), "vendorConsents: range entry 1 of 1: vendor id 301 > maxVendorId 300");
	b->n = 0;
	put_v1_head(b);
	put(b, 300, 16);
	put(b, 0, 1);
	put(b, 0, 5);
	expect_error_prefix(encode(b), "vendorConsents: bitfield of 300 bits but ");
	b->n = 0;
	put_v1_head(b);
	put(b, 0, 16);
	put(b, 0, 1);
	char text[256];
	snprintf(text, sizeof text, "%s.YAAAAAAAAAAA", encode(b));
	expect_error(text, "tcString: a TCF v1 string has no segments");
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_vector_must_fail_names_the_field),
		cmocka_unit_test(test_every_prefix),
		cmocka_unit_test(test_core_field_boundaries),
		cmocka_unit_test(test_empty_and_short),
		cmocka_unit_test(test_core_fields),
		cmocka_unit_test(test_language_letters),
		cmocka_unit_test(test_bad_characters),
		cmocka_unit_test(test_vendor_ranges),
		cmocka_unit_test(test_huge_num_entries),
		cmocka_unit_test(test_bitfields),
		cmocka_unit_test(test_ids_has_bounds),
		cmocka_unit_test(test_restrictions),
		cmocka_unit_test(test_segments),
		cmocka_unit_test(test_v1),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
