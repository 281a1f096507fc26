/*
 * tcf: the IAB TCF TC string, decoded field by field for the consent stage
 * and for `trackwatch tcf decode`. The string is base64url without padding
 * (RFC 4648 section 5): each character carries 6 bits, most significant
 * first, so the bits are read straight from the characters, each mapped to
 * its value by char_value() (no byte buffer, no OpenSSL, no padding to add);
 * the unused bits of the last character, like any bits after the last field
 * of a segment, are padding, and ignored.
 *
 * Every read is checked against the bits the segment has; a string that does
 * not decode stops at the first field that cannot be read and says which.
 * Id sets are bitmaps of at most 8 KiB (ids 1..65535); range entries are set
 * a byte at a time, so a short string cannot buy much work. Publisher
 * restrictions that repeat a purpose and type are merged, so there are at
 * most 63 * 4 of them: memory stays under about 2 MiB whatever the string.
 */
#include "tcf.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	SEGMENT_CORE = 0,
	SEGMENT_DISCLOSED_VENDORS = 1,
	SEGMENT_ALLOWED_VENDORS = 2,
	SEGMENT_PUBLISHER_TC = 3,
	RANGE_ENTRY_MIN_BITS = 17,   /* IsARange + StartOrOnlyVendorId */
	BITMAP_MAX_BYTES = (TCF_MAX_VENDOR_ID + 8) / 8,
	/* PurposeId is 6 bits and RestrictionType 2: repeats are merged, so
	   there are never more distinct restrictions than this. */
	RESTRICTION_KINDS = 64 * 4,
};

/* The 6 bits a base64url character stands for (RFC 4648 section 5), or -1. */
static int char_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* One segment being read. */
struct reader {
	const char *text;        /* its characters, all base64url (checked first) */
	uint64_t pos, bits;      /* bits read so far, bits it has */
	const char *field;       /* the field being read, first in an error */
	char where[64];          /* within the field ("range entry 3 of 5"), or "" */
	char *error;
	uint8_t *scratch;        /* BITMAP_MAX_BYTES for publisher restrictions */
	/* tcf_decode_counts(): id sets counted, never made into bitmaps. */
	bool counts_only;
	uint32_t (*pairs)[2];    /* a range list's entries, RANGE_ENTRIES_MAX of them */
};

enum { RANGE_ENTRIES_MAX = 4095 }; /* the 12-bit NumEntries */

static uint64_t bits_left(const struct reader *r)
{
	return r->bits - r->pos;
}

/* Appends `text` to the error, cutting what does not fit. */
static void error_append(char *error, size_t *len, const char *text)
{
	size_t n = strlen(text);
	if (n > TCF_ERROR_MAX - 1 - *len)
		n = TCF_ERROR_MAX - 1 - *len;
	memcpy(error + *len, text, n);
	*len += n;
	error[*len] = '\0';
}

/* Writes "field[: where][: part]: message" as the error (cut to fit, the field first); returns -1. */
static int fail(struct reader *r, const char *part, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct reader *r, const char *part, const char *format, ...)
{
	char message[TCF_ERROR_MAX];
	va_list ap;
	va_start(ap, format);
	vsnprintf(message, sizeof message, format, ap);
	va_end(ap);
	size_t len = 0;
	r->error[0] = '\0';
	error_append(r->error, &len, r->field);
	if (r->where[0]) {
		error_append(r->error, &len, ": ");
		error_append(r->error, &len, r->where);
	}
	if (part) {
		error_append(r->error, &len, ": ");
		error_append(r->error, &len, part);
	}
	error_append(r->error, &len, ": ");
	error_append(r->error, &len, message);
	return -1;
}

static unsigned read_bit(struct reader *r)
{
	uint64_t pos = r->pos++;
	int value = char_value((unsigned char)r->text[pos / 6]);
	return (unsigned)value >> (5 - pos % 6) & 1;
}

/* An unsigned integer of `n` bits (at most 64), most significant first. */
static int read_uint(struct reader *r, unsigned n, const char *part, uint64_t *value)
{
	if (bits_left(r) < n)
		return fail(r, part, "%u bits needed but %" PRIu64 " left", n, bits_left(r));
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = v << 1 | read_bit(r);
	*value = v;
	return 0;
}

/* `n` flags (at most 64): the k-th bit read (from 0) becomes bit k of *mask. */
static int read_flags(struct reader *r, unsigned n, const char *part, uint64_t *mask)
{
	if (bits_left(r) < n)
		return fail(r, part, "%u bits needed but %" PRIu64 " left", n, bits_left(r));
	uint64_t m = 0;
	for (unsigned i = 0; i < n; i++)
		m |= (uint64_t)read_bit(r) << i;
	*mask = m;
	return 0;
}

static int read_u16(struct reader *r, unsigned n, const char *part, uint16_t *value)
{
	uint64_t v;
	if (read_uint(r, n, part, &v) < 0)
		return -1;
	*value = (uint16_t)v;
	return 0;
}

static int read_u8(struct reader *r, unsigned n, const char *part, uint8_t *value)
{
	uint64_t v;
	if (read_uint(r, n, part, &v) < 0)
		return -1;
	*value = (uint8_t)v;
	return 0;
}

static int read_bool(struct reader *r, const char *part, bool *value)
{
	uint64_t v;
	if (read_uint(r, 1, part, &v) < 0)
		return -1;
	*value = v != 0;
	return 0;
}

static int read_flags32(struct reader *r, unsigned n, uint32_t *mask)
{
	uint64_t m;
	if (read_flags(r, n, NULL, &m) < 0)
		return -1;
	*mask = (uint32_t)m;
	return 0;
}

/* Two letters of 6 bits each, A = 0 (ConsentLanguage, PublisherCC). */
static int read_letters(struct reader *r, char out[3])
{
	for (int i = 0; i < 2; i++) {
		uint8_t letter;
		if (read_u8(r, 6, NULL, &letter) < 0)
			return -1;
		if (letter > 25)
			return fail(r, NULL, "letter value %u is not A-Z", letter);
		out[i] = (char)('A' + letter);
	}
	out[2] = '\0';
	return 0;
}

/* ---- id sets ------------------------------------------------------------ */

static void bitmap_set(uint8_t *bits, uint32_t id)
{
	bits[id / 8] |= (uint8_t)(1u << id % 8);
}

static void bitmap_clear(uint8_t *bits, uint32_t id)
{
	bits[id / 8] &= (uint8_t)~(1u << id % 8);
}

/* Sets (or clears) ids first..last, whole bytes at a time in the middle. */
static void bitmap_range(uint8_t *bits, uint32_t first, uint32_t last, bool set)
{
	uint32_t id = first;
	for (; id <= last && id % 8 != 0; id++)
		set ? bitmap_set(bits, id) : bitmap_clear(bits, id);
	if (id <= last && last - id + 1 >= 8) {
		uint32_t bytes = (last - id + 1) / 8;
		memset(bits + id / 8, set ? 0xff : 0, bytes);
		id += bytes * 8;
	}
	for (; id <= last; id++)
		set ? bitmap_set(bits, id) : bitmap_clear(bits, id);
}

static uint32_t bitmap_count(const uint8_t *bits, size_t bytes)
{
	uint32_t count = 0;
	size_t i = 0;
	for (; i + 8 <= bytes; i += 8) {
		uint64_t word;
		memcpy(&word, bits + i, 8);
		count += (uint32_t)__builtin_popcountll(word);
	}
	for (; i < bytes; i++)
		count += (uint32_t)__builtin_popcount(bits[i]);
	return count;
}

static size_t bitmap_bytes(uint32_t max)
{
	return ((size_t)max + 8) / 8;
}

bool tcf_ids_has(const struct tcf_ids *ids, uint32_t id)
{
	if (!ids->bits || id == 0 || id > ids->max)
		return false;
	return ids->bits[id / 8] >> id % 8 & 1;
}

static void ids_free(struct tcf_ids *ids)
{
	free(ids->bits);
	ids->bits = NULL;
	ids->count = 0;
}

/* Counts the set; an empty one keeps no bitmap. */
static void ids_finish(struct tcf_ids *ids)
{
	/* Without a bitmap the count stands: 0, or what tcf_decode_counts() counted. */
	if (ids->bits)
		ids->count = bitmap_count(ids->bits, bitmap_bytes(ids->max));
	if (ids->count == 0) {
		free(ids->bits);
		ids->bits = NULL;
	}
}

static int ids_alloc(struct reader *r, struct tcf_ids *ids)
{
	if (!ids->bits && !(ids->bits = calloc(1, bitmap_bytes(ids->max))))
		return fail(r, NULL, "out of memory");
	return 0;
}

static int read_bitfield(struct reader *r, struct tcf_ids *ids)
{
	if (bits_left(r) < ids->max)
		return fail(r, NULL, "bitfield of %" PRIu32 " bits but %" PRIu64 " left", ids->max,
			    bits_left(r));
	if (ids->max == 0)
		return 0;
	if (r->counts_only) {
		for (uint32_t id = 1; id <= ids->max; id++)
			ids->count += read_bit(r);
		return 0;
	}
	if (ids_alloc(r, ids) < 0)
		return -1;
	for (uint32_t id = 1; id <= ids->max; id++)
		if (read_bit(r))
			bitmap_set(ids->bits, id);
	return 0;
}

static int compare_pairs(const void *a, const void *b)
{
	const uint32_t *x = a, *y = b;
	return (x[0] > y[0]) - (x[0] < y[0]);
}

/* How many ids `n` ranges cover together (they may overlap): sorted, then merged. */
static uint32_t union_count(uint32_t (*pairs)[2], size_t n)
{
	qsort(pairs, n, sizeof *pairs, compare_pairs);
	uint32_t count = 0, end = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t first = pairs[i][0] > end ? pairs[i][0] : end + 1;
		if (pairs[i][1] >= first)
			count += pairs[i][1] - first + 1;
		if (pairs[i][1] > end)
			end = pairs[i][1];
	}
	return count;
}

/*
 * A range list (NumEntries, then each IsARange, StartOrOnlyVendorId and
 * maybe EndVendorId) into `ids`: each id must be 1..ids->max and each range
 * ascending. The bitmap is made at the first entry, unless there is one
 * already. `set` false clears the ids instead (TCF v1's DefaultConsent 1).
 * *highest gets the highest id named, 0 for none.
 */
static int read_range_list(struct reader *r, struct tcf_ids *ids, bool set, uint32_t *highest)
{
	uint64_t entries;
	if (read_uint(r, 12, "numEntries", &entries) < 0)
		return -1;
	if (entries * RANGE_ENTRY_MIN_BITS > bits_left(r))
		return fail(r, NULL, "%" PRIu64 " range entries need at least %" PRIu64
			    " bits but %" PRIu64 " left",
			    entries, entries * RANGE_ENTRY_MIN_BITS, bits_left(r));
	size_t where_len = strlen(r->where);
	*highest = 0;
	for (uint64_t i = 0; i < entries; i++) {
		int n = snprintf(r->where + where_len, sizeof r->where - where_len,
				 "%srange entry %" PRIu64 " of %" PRIu64, where_len ? ": " : "",
				 i + 1, entries);
		(void)n; /* fits: "restriction 1024 of 1024: range entry 4095 of 4095" */
		bool is_range;
		uint16_t first, last;
		if (read_bool(r, "isARange", &is_range) < 0 ||
		    read_u16(r, 16, "startOrOnlyVendorId", &first) < 0)
			return -1;
		last = first;
		if (is_range && read_u16(r, 16, "endVendorId", &last) < 0)
			return -1;
		if (first == 0)
			return fail(r, NULL, "vendor id 0");
		if (last < first)
			return fail(r, NULL, "end %u < start %u", last, first);
		if (last > ids->max)
			return fail(r, NULL, "vendor id %u > maxVendorId %" PRIu32, last, ids->max);
		if (last > *highest)
			*highest = last;
		if (r->counts_only) {
			r->pairs[i][0] = first;
			r->pairs[i][1] = last;
			continue;
		}
		if (ids_alloc(r, ids) < 0)
			return -1;
		bitmap_range(ids->bits, first, last, set);
	}
	if (r->counts_only) {
		/* TCF v1's DefaultConsent 1: every id but those listed. */
		uint32_t listed = union_count(r->pairs, (size_t)entries);
		ids->count = set ? listed : ids->max - listed;
	}
	r->where[where_len] = '\0';
	return 0;
}

/* A vendor section of TCF v2: MaxVendorId, IsRangeEncoding, then a bitfield or a range list. */
static int read_vendor_set(struct reader *r, const char *field, struct tcf_ids *ids)
{
	r->field = field;
	uint16_t max;
	if (read_u16(r, 16, "maxVendorId", &max) < 0 ||
	    read_bool(r, "isRangeEncoding", &ids->range_encoded) < 0)
		return -1;
	ids->max = max;
	int rc;
	if (ids->range_encoded) {
		uint32_t highest;
		rc = read_range_list(r, ids, true, &highest);
	} else {
		rc = read_bitfield(r, ids);
	}
	ids_finish(ids);
	return rc;
}

/* ---- publisher restrictions --------------------------------------------- */

static int compare_restrictions(const void *a, const void *b)
{
	const struct tcf_restriction *x = a, *y = b;
	if (x->purpose_id != y->purpose_id)
		return x->purpose_id < y->purpose_id ? -1 : 1;
	return (x->restriction_type > y->restriction_type) - (x->restriction_type < y->restriction_type);
}

/*
 * Adds the ids of `scratch` (1..highest) to the restriction for this purpose
 * and type, made if it is new: a pair that comes twice is one restriction
 * (as the reference implementation keeps them), which bounds their number.
 */
static int add_restriction(struct reader *r, struct tcf *tcf, uint8_t purpose, uint8_t type,
			   uint32_t highest)
{
	struct tcf_restriction *found = NULL;
	for (size_t i = 0; i < tcf->restriction_count && !found; i++)
		if (tcf->restrictions[i].purpose_id == purpose &&
		    tcf->restrictions[i].restriction_type == type)
			found = &tcf->restrictions[i];
	if (!found) {
		found = &tcf->restrictions[tcf->restriction_count++];
		memset(found, 0, sizeof *found);
		found->purpose_id = purpose;
		found->restriction_type = type;
		found->vendors.range_encoded = true;
	}
	if (highest == 0)
		return 0;
	struct tcf_ids *ids = &found->vendors;
	if (highest > ids->max || !ids->bits) {
		size_t old = ids->bits ? bitmap_bytes(ids->max) : 0;
		uint32_t max = highest > ids->max ? highest : ids->max;
		uint8_t *bits = realloc(ids->bits, bitmap_bytes(max));
		if (!bits)
			return fail(r, NULL, "out of memory");
		memset(bits + old, 0, bitmap_bytes(max) - old);
		ids->bits = bits;
		ids->max = max;
	}
	/* Only the bytes this entry touched: the rest of the scratch is zero. Counted once, at the end. */
	for (size_t i = 0; i < bitmap_bytes(highest); i++)
		ids->bits[i] |= r->scratch[i];
	return 0;
}

static int read_restrictions(struct reader *r, struct tcf *tcf)
{
	r->field = "publisherRestrictions";
	uint64_t count;
	if (read_uint(r, 12, "numPubRestrictions", &count) < 0)
		return -1;
	if (count > TCF_MAX_RESTRICTIONS)
		return fail(r, NULL, "%" PRIu64 " restrictions, more than %d", count,
			    TCF_MAX_RESTRICTIONS);
	if (count == 0)
		return 0;
	size_t kinds = count < RESTRICTION_KINDS ? (size_t)count : RESTRICTION_KINDS;
	if (!(tcf->restrictions = calloc(kinds, sizeof *tcf->restrictions)) ||
	    (!r->counts_only && !(r->scratch = calloc(1, BITMAP_MAX_BYTES))))
		return fail(r, NULL, "out of memory");
	size_t scratch_used = 0;
	for (uint64_t i = 0; i < count; i++) {
		snprintf(r->where, sizeof r->where, "restriction %" PRIu64 " of %" PRIu64, i + 1,
			 count);
		uint8_t purpose, type;
		if (read_u8(r, 6, "purposeId", &purpose) < 0 ||
		    read_u8(r, 2, "restrictionType", &type) < 0)
			return -1;
		if (purpose == 0)
			return fail(r, NULL, "purpose id 0");
		/* The restriction's vendors have no MaxVendorId: any id 1..65535. The
		   scratch is cleared as far as the last entry wrote (the whole of it
		   for each of 1024 restrictions cost 10 ms a string: wire input). */
		if (r->counts_only) {
			/* Only read: the restriction is kept without its vendors. */
			struct tcf_ids vendors = { .max = TCF_MAX_VENDOR_ID };
			uint32_t highest;
			if (read_range_list(r, &vendors, true, &highest) < 0 ||
			    add_restriction(r, tcf, purpose, type, 0) < 0)
				return -1;
			continue;
		}
		memset(r->scratch, 0, scratch_used);
		struct tcf_ids vendors = { .bits = r->scratch, .max = TCF_MAX_VENDOR_ID };
		uint32_t highest;
		int rc = read_range_list(r, &vendors, true, &highest);
		scratch_used = rc < 0 ? BITMAP_MAX_BYTES : bitmap_bytes(highest);
		if (rc < 0 || add_restriction(r, tcf, purpose, type, highest) < 0)
			return -1;
	}
	for (size_t i = 0; i < tcf->restriction_count; i++) {
		struct tcf_ids *ids = &tcf->restrictions[i].vendors;
		ids->count = ids->bits ? bitmap_count(ids->bits, bitmap_bytes(ids->max)) : 0;
	}
	r->where[0] = '\0';
	qsort(tcf->restrictions, tcf->restriction_count, sizeof *tcf->restrictions,
	      compare_restrictions);
	return 0;
}

/* ---- segments ----------------------------------------------------------- */

/* The core segment after Version; TCF v1 shares its fields up to VendorListVersion. */
static int read_core(struct reader *r, struct tcf *tcf)
{
	uint64_t created, last_updated;
	r->field = "created";
	if (read_uint(r, 36, NULL, &created) < 0)
		return -1;
	r->field = "lastUpdated";
	if (read_uint(r, 36, NULL, &last_updated) < 0)
		return -1;
	tcf->created_ds = (int64_t)created;
	tcf->last_updated_ds = (int64_t)last_updated;
	r->field = "cmpId";
	if (read_u16(r, 12, NULL, &tcf->cmp_id) < 0)
		return -1;
	r->field = "cmpVersion";
	if (read_u16(r, 12, NULL, &tcf->cmp_version) < 0)
		return -1;
	r->field = "consentScreen";
	if (read_u8(r, 6, NULL, &tcf->consent_screen) < 0)
		return -1;
	r->field = "consentLanguage";
	if (read_letters(r, tcf->consent_language) < 0)
		return -1;
	r->field = "vendorListVersion";
	if (read_u16(r, 12, NULL, &tcf->vendor_list_version) < 0)
		return -1;
	if (tcf->version == 1)
		return 0;
	r->field = "tcfPolicyVersion";
	if (read_u8(r, 6, NULL, &tcf->tcf_policy_version) < 0)
		return -1;
	r->field = "isServiceSpecific";
	if (read_bool(r, NULL, &tcf->is_service_specific) < 0)
		return -1;
	r->field = "useNonStandardTexts";
	if (read_bool(r, NULL, &tcf->use_non_standard_texts) < 0)
		return -1;
	r->field = "specialFeatureOptins";
	if (read_flags32(r, TCF_SPECIAL_FEATURES, &tcf->special_feature_optins) < 0)
		return -1;
	r->field = "purposeConsents";
	if (read_flags32(r, TCF_PURPOSES, &tcf->purpose_consents) < 0)
		return -1;
	r->field = "purposeLegitimateInterests";
	if (read_flags32(r, TCF_PURPOSES, &tcf->purpose_legitimate_interests) < 0)
		return -1;
	r->field = "purposeOneTreatment";
	if (read_bool(r, NULL, &tcf->purpose_one_treatment) < 0)
		return -1;
	r->field = "publisherCountryCode";
	if (read_letters(r, tcf->publisher_cc) < 0)
		return -1;
	if (read_vendor_set(r, "vendorConsents", &tcf->vendor_consents) < 0 ||
	    read_vendor_set(r, "vendorLegitimateInterests", &tcf->vendor_legitimate_interests) < 0)
		return -1;
	return read_restrictions(r, tcf);
}

/*
 * TCF v1.1 after the fields it shares with v2: PurposesAllowed, then the
 * vendor consents as MaxVendorId, EncodingType and either a bitfield or
 * DefaultConsent and a range list of the ids that do not have the default.
 */
static int read_v1_rest(struct reader *r, struct tcf *tcf)
{
	r->field = "purposeConsents";
	if (read_flags32(r, TCF_PURPOSES, &tcf->purpose_consents) < 0)
		return -1;
	r->field = "vendorConsents";
	struct tcf_ids *ids = &tcf->vendor_consents;
	uint16_t max;
	if (read_u16(r, 16, "maxVendorId", &max) < 0 ||
	    read_bool(r, "encodingType", &ids->range_encoded) < 0)
		return -1;
	ids->max = max;
	int rc;
	if (ids->range_encoded) {
		bool default_consent;
		uint32_t highest;
		rc = read_bool(r, "defaultConsent", &default_consent);
		/* Counting, read_range_list() counts the default in (max less the ids listed). */
		if (rc == 0 && default_consent && max > 0 && !r->counts_only) {
			rc = ids_alloc(r, ids);
			if (rc == 0)
				bitmap_range(ids->bits, 1, max, true);
		}
		if (rc == 0)
			rc = read_range_list(r, ids, !default_consent, &highest);
	} else {
		rc = read_bitfield(r, ids);
	}
	ids_finish(ids);
	return rc;
}

static int read_publisher_tc(struct reader *r, struct tcf *tcf)
{
	r->field = "publisherConsents";
	if (read_flags32(r, TCF_PURPOSES, &tcf->publisher_consents) < 0)
		return -1;
	r->field = "publisherLegitimateInterests";
	if (read_flags32(r, TCF_PURPOSES, &tcf->publisher_legitimate_interests) < 0)
		return -1;
	r->field = "numCustomPurposes";
	if (read_u8(r, 6, NULL, &tcf->num_custom_purposes) < 0)
		return -1;
	r->field = "publisherCustomConsents";
	if (read_flags(r, tcf->num_custom_purposes, NULL, &tcf->publisher_custom_consents) < 0)
		return -1;
	r->field = "publisherCustomLegitimateInterests";
	return read_flags(r, tcf->num_custom_purposes, NULL,
			  &tcf->publisher_custom_legitimate_interests);
}

/* An optional segment (after the core): SegmentType, then what that type holds. */
static int read_segment(struct reader *r, struct tcf *tcf, unsigned number, unsigned *seen)
{
	char name[32];
	snprintf(name, sizeof name, "segment %u", number);
	r->field = name;
	uint8_t type;
	if (read_u8(r, 3, "segmentType", &type) < 0)
		return -1;
	static const char *const names[] = { "core", "disclosedVendors", "allowedVendors",
					     "publisherTC" };
	if (type > SEGMENT_PUBLISHER_TC)
		return fail(r, NULL, "segment type %u is unknown", type);
	if (*seen & 1u << type)
		return fail(r, NULL, "a second %s segment", names[type]);
	*seen |= 1u << type;
	switch (type) {
	case SEGMENT_DISCLOSED_VENDORS:
		tcf->has_disclosed_vendors = true;
		return read_vendor_set(r, "disclosedVendors", &tcf->disclosed_vendors);
	case SEGMENT_ALLOWED_VENDORS: {
		/* Obsolete since TCF v2.2: read, so that a broken one is an error, and dropped. */
		struct tcf_ids allowed = { 0 };
		int rc = read_vendor_set(r, "allowedVendors", &allowed);
		ids_free(&allowed);
		return rc;
	}
	case SEGMENT_PUBLISHER_TC:
		tcf->has_publisher_tc = true;
		return read_publisher_tc(r, tcf);
	default:
		return -1; /* the core: refused above as a second one */
	}
}

void tcf_free(struct tcf *tcf)
{
	ids_free(&tcf->vendor_consents);
	ids_free(&tcf->vendor_legitimate_interests);
	ids_free(&tcf->disclosed_vendors);
	for (size_t i = 0; i < tcf->restriction_count; i++)
		ids_free(&tcf->restrictions[i].vendors);
	free(tcf->restrictions);
	tcf->restrictions = NULL;
	tcf->restriction_count = 0;
}

/* Checks every character of the string; the segments are then what lies between dots. */
static int check_characters(const char *text, size_t len, char *error)
{
	if (len == 0) {
		snprintf(error, TCF_ERROR_MAX, "tcString: empty");
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '.' || char_value(c) >= 0)
			continue;
		if (c > 0x20 && c < 0x7f)
			snprintf(error, TCF_ERROR_MAX,
				 "tcString: character %zu ('%c') is not base64url", i + 1, c);
		else
			snprintf(error, TCF_ERROR_MAX,
				 "tcString: character %zu (\\x%02x) is not base64url", i + 1, c);
		return -1;
	}
	return 0;
}

static int decode(const char *text, size_t len, struct tcf *out, char error[TCF_ERROR_MAX],
		  bool counts_only)
{
	memset(out, 0, sizeof *out);
	error[0] = '\0';
	if (check_characters(text, len, error) < 0)
		return -1;

	struct reader r = { .error = error, .counts_only = counts_only };
	if (counts_only && !(r.pairs = malloc(RANGE_ENTRIES_MAX * sizeof *r.pairs))) {
		snprintf(error, TCF_ERROR_MAX, "tcString: out of memory");
		return -1;
	}
	unsigned seen = 1u << SEGMENT_CORE;
	unsigned number = 0;
	int rc = 0;
	for (size_t start = 0; start <= len && rc == 0; number++) {
		const char *dot = memchr(text + start, '.', len - start);
		size_t end = dot ? (size_t)(dot - text) : len;
		r.text = text + start;
		r.pos = 0;
		r.bits = (uint64_t)(end - start) * 6;
		r.where[0] = '\0';
		if (end == start) {
			snprintf(error, TCF_ERROR_MAX, "tcString: segment %u is empty", number + 1);
			rc = -1;
			break;
		}
		if (number == 0) {
			uint8_t version;
			r.field = "version";
			rc = read_u8(&r, 6, NULL, &version);
			if (rc == 0 && version != 1 && version != 2)
				rc = fail(&r, NULL, "%u is not a known version (1 or 2)", version);
			if (rc == 0) {
				out->version = version;
				rc = read_core(&r, out);
			}
			if (rc == 0 && version == 1) {
				rc = read_v1_rest(&r, out);
				if (rc == 0 && dot) {
					snprintf(error, TCF_ERROR_MAX,
						 "tcString: a TCF v1 string has no segments");
					rc = -1;
				}
			}
		} else {
			rc = read_segment(&r, out, number + 1, &seen);
		}
		start = end + 1;
	}
	free(r.scratch);
	free(r.pairs);
	if (rc < 0) {
		tcf_free(out);
		memset(out, 0, sizeof *out);
		if (!error[0])
			snprintf(error, TCF_ERROR_MAX, "tcString: cannot decode");
	}
	return rc;
}

int tcf_decode(const char *text, size_t len, struct tcf *out, char error[TCF_ERROR_MAX])
{
	return decode(text, len, out, error, false);
}

int tcf_decode_counts(const char *text, size_t len, struct tcf *out, char error[TCF_ERROR_MAX])
{
	return decode(text, len, out, error, true);
}
