/*
 * libFuzzer harness for tcf_decode(): the input is a TC string, decoded from
 * a heap copy of exactly its length. Besides ASan's and UBSan's checks, it
 * aborts when a result breaks what tcf.h promises (version 1 or 2, letters
 * A-Z, masks within their widths, id sets within 1..MaxVendorId whose count
 * is what they hold, restrictions distinct, sorted and bounded), when a
 * failure leaves a message that is empty or unterminated or a result to
 * free, and when a string that decodes decodes differently with a character
 * more at its end (bits after the last field are padding, never read).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../dissectors/tcf.h"

static void check_letters(const char *letters, bool empty_ok)
{
	if (empty_ok && letters[0] == '\0')
		return;
	if (letters[0] < 'A' || letters[0] > 'Z' || letters[1] < 'A' || letters[1] > 'Z' ||
	    letters[2] != '\0')
		abort();
}

static void check_ids(const struct tcf_ids *ids)
{
	if (ids->max > TCF_MAX_VENDOR_ID || (ids->bits == NULL) != (ids->count == 0))
		abort();
	uint32_t count = 0;
	for (uint32_t id = 1; id <= ids->max; id++)
		count += tcf_ids_has(ids, id);
	if (count != ids->count || tcf_ids_has(ids, 0) || tcf_ids_has(ids, ids->max + 1))
		abort();
}

static void check(const struct tcf *t)
{
	if (t->version != 1 && t->version != 2)
		abort();
	if (t->created_ds < 0 || t->created_ds >> 36 || t->last_updated_ds < 0 ||
	    t->last_updated_ds >> 36)
		abort();
	if (t->cmp_id >> 12 || t->cmp_version >> 12 || t->consent_screen >> 6 ||
	    t->vendor_list_version >> 12 || t->tcf_policy_version >> 6)
		abort();
	check_letters(t->consent_language, false);
	check_letters(t->publisher_cc, t->version == 1);
	if (t->purpose_consents >> TCF_PURPOSES || t->purpose_legitimate_interests >> TCF_PURPOSES ||
	    t->special_feature_optins >> TCF_SPECIAL_FEATURES)
		abort();
	check_ids(&t->vendor_consents);
	check_ids(&t->vendor_legitimate_interests);
	check_ids(&t->disclosed_vendors);
	if (!t->has_disclosed_vendors && (t->disclosed_vendors.max || t->disclosed_vendors.bits))
		abort();
	if (t->restriction_count > TCF_MAX_RESTRICTIONS || (t->restriction_count && !t->restrictions))
		abort();
	for (size_t i = 0; i < t->restriction_count; i++) {
		const struct tcf_restriction *r = &t->restrictions[i];
		if (r->purpose_id == 0 || r->purpose_id > 63 || r->restriction_type > 3)
			abort();
		if (i > 0) {
			const struct tcf_restriction *p = &t->restrictions[i - 1];
			if (p->purpose_id > r->purpose_id ||
			    (p->purpose_id == r->purpose_id &&
			     p->restriction_type >= r->restriction_type))
				abort();
		}
		check_ids(&r->vendors);
		/* A restriction's set is as wide as its highest id. */
		if (r->vendors.count && !tcf_ids_has(&r->vendors, r->vendors.max))
			abort();
	}
	if (t->num_custom_purposes > 63 ||
	    t->publisher_custom_consents >> t->num_custom_purposes ||
	    t->publisher_custom_legitimate_interests >> t->num_custom_purposes ||
	    t->publisher_consents >> TCF_PURPOSES || t->publisher_legitimate_interests >> TCF_PURPOSES)
		abort();
	if (!t->has_publisher_tc && (t->num_custom_purposes || t->publisher_consents))
		abort();
	if (t->version == 1 && (t->restriction_count || t->has_disclosed_vendors ||
				t->has_publisher_tc || t->vendor_legitimate_interests.max))
		abort();
}

static bool same_ids(const struct tcf_ids *a, const struct tcf_ids *b)
{
	if (a->max != b->max || a->count != b->count || a->range_encoded != b->range_encoded)
		return false;
	return a->count == 0 || memcmp(a->bits, b->bits, ((size_t)a->max + 8) / 8) == 0;
}

static bool same(const struct tcf *a, const struct tcf *b)
{
	if (a->version != b->version || a->created_ds != b->created_ds ||
	    a->last_updated_ds != b->last_updated_ds || a->cmp_id != b->cmp_id ||
	    a->cmp_version != b->cmp_version || a->consent_screen != b->consent_screen ||
	    memcmp(a->consent_language, b->consent_language, 3) != 0 ||
	    a->vendor_list_version != b->vendor_list_version ||
	    a->tcf_policy_version != b->tcf_policy_version ||
	    a->is_service_specific != b->is_service_specific ||
	    a->use_non_standard_texts != b->use_non_standard_texts ||
	    a->purpose_one_treatment != b->purpose_one_treatment ||
	    a->special_feature_optins != b->special_feature_optins ||
	    a->purpose_consents != b->purpose_consents ||
	    a->purpose_legitimate_interests != b->purpose_legitimate_interests ||
	    memcmp(a->publisher_cc, b->publisher_cc, 3) != 0 ||
	    !same_ids(&a->vendor_consents, &b->vendor_consents) ||
	    !same_ids(&a->vendor_legitimate_interests, &b->vendor_legitimate_interests) ||
	    a->restriction_count != b->restriction_count ||
	    a->has_disclosed_vendors != b->has_disclosed_vendors ||
	    !same_ids(&a->disclosed_vendors, &b->disclosed_vendors) ||
	    a->has_publisher_tc != b->has_publisher_tc ||
	    a->publisher_consents != b->publisher_consents ||
	    a->publisher_legitimate_interests != b->publisher_legitimate_interests ||
	    a->num_custom_purposes != b->num_custom_purposes ||
	    a->publisher_custom_consents != b->publisher_custom_consents ||
	    a->publisher_custom_legitimate_interests != b->publisher_custom_legitimate_interests)
		return false;
	for (size_t i = 0; i < a->restriction_count; i++)
		if (a->restrictions[i].purpose_id != b->restrictions[i].purpose_id ||
		    a->restrictions[i].restriction_type != b->restrictions[i].restriction_type ||
		    !same_ids(&a->restrictions[i].vendors, &b->restrictions[i].vendors))
			return false;
	return true;
}

static int decode_copy(const uint8_t *data, size_t size, char extra, struct tcf *out,
		       char error[TCF_ERROR_MAX])
{
	size_t len = size + (extra ? 1 : 0);
	char *text = malloc(len ? len : 1);
	if (!text)
		abort();
	if (size)
		memcpy(text, data, size);
	if (extra)
		text[size] = extra;
	memset(error, 'x', TCF_ERROR_MAX);
	int rc = tcf_decode(text, len, out, error);
	/* The counting decoder (the consent rules') agrees: same result, same counts. */
	struct tcf counted;
	char counted_error[TCF_ERROR_MAX];
	int counted_rc = tcf_decode_counts(text, len, &counted, counted_error);
	if (counted_rc != rc)
		abort();
	if (rc == 0) {
		if (counted.version != out->version || counted.purpose_consents != out->purpose_consents ||
		    counted.vendor_consents.count != out->vendor_consents.count ||
		    counted.vendor_legitimate_interests.count != out->vendor_legitimate_interests.count ||
		    counted.disclosed_vendors.count != out->disclosed_vendors.count ||
		    counted.restriction_count != out->restriction_count || counted.vendor_consents.bits)
			abort();
		tcf_free(&counted);
	} else if (strcmp(counted_error, error) != 0) {
		abort();
	}
	free(text);
	if (rc == 0) {
		if (error[0] != '\0')
			abort();
		check(out);
	} else {
		if (rc != -1 || !memchr(error, '\0', TCF_ERROR_MAX) || error[0] == '\0')
			abort();
		if (out->restrictions || out->vendor_consents.bits ||
		    out->vendor_legitimate_interests.bits || out->disclosed_vendors.bits)
			abort();
	}
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tcf first, second;
	char error[TCF_ERROR_MAX];
	if (decode_copy(data, size, 0, &first, error) != 0)
		return 0;
	/* Six more bits, after the last field: ignored. */
	if (decode_copy(data, size, 'A', &second, error) != 0 || !same(&first, &second))
		abort();
	tcf_free(&second);
	tcf_free(&first);
	return 0;
}
