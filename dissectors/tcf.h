/*
 * tcf: the IAB Transparency and Consent Framework's TC string (TCF v2.0 to
 * v2.3, policy versions 2 to 5; the format has not changed, so any policy
 * version decodes): the core segment and the disclosed-vendors and
 * publisher-TC segments, as "IAB Tech Lab - Consent string and vendor list
 * formats v2" specifies them (an allowed-vendors segment, obsolete since
 * v2.2, is checked and dropped). A TCF v1 ("B...") string is recognised as
 * such and its v1 fields decoded, so that a report can say what it is.
 *
 * The string comes from the wire (a cookie, a URL parameter): every length
 * is checked against the bits there are, id sets are bounded, and a string
 * that does not decode gets an error naming the field where it stopped.
 */
#ifndef TRACKWATCH_TCF_H
#define TRACKWATCH_TCF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	TCF_MAX_VENDOR_ID = 65535,   /* the 16-bit MaxVendorId field */
	TCF_PURPOSES = 24,           /* bits of PurposesConsent / PurposesLITransparency */
	TCF_SPECIAL_FEATURES = 12,
	TCF_MAX_RESTRICTIONS = 1024, /* NumPubRestrictions above this is an error */
	TCF_ERROR_MAX = 160,
};

/*
 * A set of ids 1..65535 as a bitmap (at most 8 KiB); count is the number of
 * ids set. Ask tcf_ids_has() rather than reading bits.
 */
struct tcf_ids {
	uint8_t *bits;      /* (max + 8) / 8 bytes, id i in bits[i / 8] & 1 << i % 8; NULL when empty */
	uint32_t max;       /* the encoded MaxVendorId; a restriction's: its highest id */
	uint32_t count;
	bool range_encoded; /* vendor sets: encoded as a range list (IsRangeEncoding) */
};

struct tcf_restriction {
	uint8_t purpose_id;
	uint8_t restriction_type;   /* 0 not allowed, 1 require consent, 2 require LI, 3 undefined */
	struct tcf_ids vendors;
};

/*
 * A decoded string. Version 1 fills only what v1 has: the times, cmp_id to
 * vendor_list_version, purpose_consents (v1's PurposesAllowed) and
 * vendor_consents (range_encoded is v1's EncodingType; a DefaultConsent of 1
 * is applied); the rest is zero.
 */
struct tcf {
	int version;                 /* 1 or 2 */
	int64_t created_ds, last_updated_ds; /* deciseconds since the epoch */
	uint16_t cmp_id, cmp_version;
	uint8_t consent_screen;
	char consent_language[3];    /* two letters A-Z, NUL */
	uint16_t vendor_list_version;
	uint8_t tcf_policy_version;
	bool is_service_specific, use_non_standard_texts, purpose_one_treatment;
	uint32_t special_feature_optins;   /* bit i-1 for feature i (1..12) */
	uint32_t purpose_consents;         /* bit i-1 for purpose i (1..24) */
	uint32_t purpose_legitimate_interests;
	char publisher_cc[3];
	struct tcf_ids vendor_consents, vendor_legitimate_interests;
	/* Sorted by purpose, then type; a pair that comes twice is merged into one. */
	struct tcf_restriction *restrictions;
	size_t restriction_count;
	/* The disclosed-vendors segment (type 1). */
	bool has_disclosed_vendors;
	struct tcf_ids disclosed_vendors;
	/* The publisher-TC segment (type 3). */
	bool has_publisher_tc;
	uint32_t publisher_consents, publisher_legitimate_interests; /* bit i-1 for purpose i */
	uint8_t num_custom_purposes;
	uint64_t publisher_custom_consents, publisher_custom_legitimate_interests; /* bit i-1 for custom purpose i (1..63) */
};

/*
 * Decodes the TC string of `len` bytes (base64url without padding, each
 * character 6 bits; a '.' between segments; bits after a segment's last
 * field are padding and ignored). Returns 0 with `out` filled (free it with
 * tcf_free()), or -1 with `error` saying which field and what ("vendorConsents:
 * bitfield of 808 bits but 512 left"); then out is zeroed and needs no
 * tcf_free(). A v1 string decodes with version 1.
 */
int tcf_decode(const char *text, size_t len, struct tcf *out, char error[TCF_ERROR_MAX]);

/*
 * The same, but every id set only counted (bits NULL, count set; a
 * restriction's vendors left empty): what the consent rules read. Its cost
 * grows with the string's length only, whatever ranges it names (the
 * bitmaps of tcf_decode() cost up to 8 KiB for each range entry).
 */
int tcf_decode_counts(const char *text, size_t len, struct tcf *out, char error[TCF_ERROR_MAX]);

void tcf_free(struct tcf *tcf);

/* Whether id (1..65535) is in the set. */
bool tcf_ids_has(const struct tcf_ids *ids, uint32_t id);

#endif
