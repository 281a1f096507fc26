/*
 * cli/db.c: the helpers trackwatch timeline and report share. Times in
 * (--since, --until) and out (ISO 8601 to the millisecond, truncated),
 * checked against values worked out by hand and against the C library's
 * gmtime_r for a spread of times; names as the store writes them; and the
 * escaping of every output form (text columns, CSV fields, JSON strings).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../cli/db.h"

static const int64_t S = 1000000;

static int64_t parse(const char *text)
{
	int64_t us = -1;
	if (db_parse_time(text, 0, &us) != 0)
		fail_msg("'%s' does not parse", text);
	return us;
}

static void test_parse_iso(void **state)
{
	(void)state;
	assert_int_equal(parse("1970-01-01"), 0);
	assert_int_equal(parse("1970-01-01T00:00:00Z"), 0);
	/* date +%s -d 2026-11-29T04:39:50Z */
	assert_int_equal(parse("2026-11-29T04:39:50Z"), 1795927190 * S);
	assert_int_equal(parse("2026-11-29T04:39:50.597Z"), 1795927190 * S + 597000);
	assert_int_equal(parse("2026-11-29T04:39:50.5Z"), 1795927190 * S + 500000);
	assert_int_equal(parse("2026-11-29T04:39:50.000001Z"), 1795927190 * S + 1);
	assert_int_equal(parse("2026-11-29"), 1795910400 * S);
	/* Leap days: 2024 is a leap year, 2000 too, 1900 and 2100 are not. */
	assert_int_equal(parse("2024-02-29"), 1709164800 * S);
	assert_int_equal(parse("2000-02-29"), 951782400 * S);
	assert_int_equal(parse("2024-12-31T23:59:59Z"), 1735689599 * S);
	assert_int_equal(parse("1969-12-31T23:59:59Z"), -1 * S);
}

static void test_parse_relative(void **state)
{
	(void)state;
	int64_t now = 1795927190 * S, us;
	assert_int_equal(db_parse_time("30m", now, &us), 0);
	assert_int_equal(us, now - 30 * 60 * S);
	assert_int_equal(db_parse_time("2h", now, &us), 0);
	assert_int_equal(us, now - 2 * 3600 * S);
	assert_int_equal(db_parse_time("7d", now, &us), 0);
	assert_int_equal(us, now - 7 * 86400 * S);
	assert_int_equal(db_parse_time("1w", now, &us), 0);
	assert_int_equal(us, now - 7 * 86400 * S);
	assert_int_equal(db_parse_time("45s", now, &us), 0);
	assert_int_equal(us, now - 45 * S);
	assert_int_equal(db_parse_time("0m", now, &us), 0);
	assert_int_equal(us, now);
}

static void test_parse_bad(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "yesterday", "2026", "2026-11", "2026-13-01", "2026-00-10", "2026-11-00",
		"2026-11-31", "2026-02-29", "1900-02-29", "2026-11-29T", "2026-11-29T04:39Z",
		"2026-11-29T24:00:00Z", "2026-11-29T04:60:00Z", "2026-11-29T04:39:60Z",
		"2026-11-29T04:39:50", "2026-11-29T04:39:50.Z", "2026-11-29T04:39:50.1234567Z",
		"2026-11-29T04:39:50Zjunk", "2026-11-29 04:39:50Z", "2026-11-29T04:39:50+01:00",
		"26-11-29", "2026-1-29", " 2026-11-29", "2026-11-29 ", "m", "5", "5y", "-5m", "5 m",
		"5mm", "99999999999999999999d", "9223372036854775807w", "+5m", "0x10m",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t us = 12345;
		if (db_parse_time(bad[i], 1795927190 * S, &us) != -1)
			fail_msg("'%s' parses, to %lld", bad[i], (long long)us);
		assert_int_equal(us, 12345);
	}
}

static void test_format(void **state)
{
	(void)state;
	char buf[DB_TIME_MAX];
	db_format_time(0, buf);
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	db_format_time(1795927190 * S + 597999, buf);  /* truncated, not rounded */
	assert_string_equal(buf, "2026-11-29T04:39:50.597Z");
	db_format_time(1795927190 * S + 999999, buf);
	assert_string_equal(buf, "2026-11-29T04:39:50.999Z");
	db_format_time(1709164800 * S, buf);
	assert_string_equal(buf, "2024-02-29T00:00:00.000Z");
	db_format_time(-1, buf);  /* before the epoch: floor, not toward zero */
	assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
	db_format_time_text(1795927190 * S + 597999, buf);
	assert_string_equal(buf, "2026-11-29 04:39:50");
	/* Far values stay in the buffer. */
	db_format_time(INT64_MAX, buf);
	assert_true(strlen(buf) < DB_TIME_MAX);
	db_format_time(INT64_MIN, buf);
	assert_true(strlen(buf) < DB_TIME_MAX);
}

/* Against gmtime_r, every 7 hours, 13 minutes and some seconds over 1960-2100, and back through the parser. */
static void test_format_against_libc(void **state)
{
	(void)state;
	for (int64_t t = -315619200; t < 4102444800; t += 26011) {
		time_t tt = (time_t)t;
		struct tm tm;
		assert_non_null(gmtime_r(&tt, &tm));
		char want[64], got[DB_TIME_MAX];
		snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(t % 1000 + 1000) % 1000);
		int64_t us = t * S + ((t % 1000 + 1000) % 1000) * 1000 + 999;
		db_format_time(us, got);
		if (strcmp(got, want) != 0)
			fail_msg("%lld: %s, libc %s", (long long)us, got, want);
		int64_t back;
		assert_int_equal(db_parse_time(got, 0, &back), 0);
		assert_int_equal(back, us - 999);
	}
}

static void test_names(void **state)
{
	(void)state;
	char mac[18], addr[DB_ADDRESS_MAX];
	assert_int_equal(db_normalize_mac("AA:bb:CC:0d:EE:ff", mac), 0);
	assert_string_equal(mac, "aa:bb:cc:0d:ee:ff");
	assert_int_equal(db_normalize_mac("aa-bb-cc-dd-ee-ff", mac), 0);
	assert_string_equal(mac, "aa:bb:cc:dd:ee:ff");
	assert_int_equal(db_normalize_mac("aa:bb-cc:dd:ee:ff", mac), -1);
	assert_int_equal(db_normalize_mac("aa:bb:cc:dd:ee", mac), -1);
	assert_int_equal(db_normalize_mac("aa:bb:cc:dd:ee:fg", mac), -1);
	assert_int_equal(db_normalize_mac("aabbccddeeff", mac), -1);
	assert_int_equal(db_normalize_address("2001:DB8:0:0::10", addr), 0);
	assert_string_equal(addr, "2001:db8::10");
	assert_int_equal(db_normalize_address("192.168.1.10", addr), 0);
	assert_string_equal(addr, "192.168.1.10");
	assert_int_equal(db_normalize_address("phone", addr), -1);
	assert_int_equal(db_normalize_address("192.168.1.256", addr), -1);
}

/* What a FILE receives, as a string (caller frees). */
static char *captured(void (*write)(FILE *, const void *), const void *arg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	write(f, arg);
	fclose(f);
	return text;
}

struct field {
	const char *text;
	size_t len;
	size_t width;
};

static void write_csv(FILE *f, const void *arg)
{
	const struct field *x = arg;
	db_csv_field(f, x->text, x->len);
}

static void write_cell(FILE *f, const void *arg)
{
	const struct field *x = arg;
	db_text_cell(f, x->text, x->len, x->width, 1);
	putc('|', f);
}

static void expect_csv(const char *in, const char *want)
{
	struct field x = { in, strlen(in), 0 };
	char *got = captured(write_csv, &x);
	assert_string_equal(got, want);
	free(got);
}

static void test_csv(void **state)
{
	(void)state;
	expect_csv("plain.example", "plain.example");
	expect_csv("", "");
	expect_csv("a,b", "\"a,b\"");
	expect_csv("say \"hi\"", "\"say \"\"hi\"\"\"");
	expect_csv("line\nbreak", "\"line\nbreak\"");
	expect_csv("cr\rhere", "\"cr\rhere\"");
	/* Formulas: a leading quote, inside the quotes when the field needs them. */
	expect_csv("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0");
	expect_csv("+1", "'+1");
	expect_csv("-1", "'-1");
	expect_csv("@SUM(A1)", "'@SUM(A1)");
	expect_csv("\tx", "'\tx");
	expect_csv("=a,b", "\"'=a,b\"");
	expect_csv("a=b", "a=b");
}

static void expect_cell(const char *in, size_t width, const char *want)
{
	struct field x = { in, strlen(in), width };
	char *got = captured(write_cell, &x);
	assert_string_equal(got, want);
	free(got);
}

static void test_text_cell(void **state)
{
	(void)state;
	expect_cell("short", 8, "short   |");
	expect_cell("exactly8", 8, "exactly8|");
	/* 12 bytes in 10: 2 kept before "...", 5 after. */
	expect_cell("abcdefghijkl", 10, "ab...hijkl|");
	expect_cell("abcdefghijkl", 4, "abcd|");
}

static void test_escape(void **state)
{
	(void)state;
	struct db_buf buf = { 0 };
	static const char hostile[] = "q\"uote\n\x1b[31m\xff\xfe sp\\ace";
	assert_non_null(db_escape(&buf, hostile, sizeof hostile - 1, 1));
	assert_string_equal(buf.data, "q\"uote\\x0a\\x1b[31m\\xff\\xfe sp\\x5cace");
	assert_int_equal(buf.len, strlen(buf.data));
	assert_non_null(db_escape(&buf, hostile, sizeof hostile - 1, 0));
	assert_string_equal(buf.data, "q\"uote\\x0a\\x1b[31m\\xff\\xfe\\x20sp\\x5cace");
	/* A long name is not cut. */
	char *big = malloc(5000);
	assert_non_null(big);
	memset(big, 'x', 5000);
	assert_non_null(db_escape(&buf, big, 5000, 1));
	assert_int_equal(buf.len, 5000);
	free(big);
	assert_false(buf.failed);
	db_buf_free(&buf);

	json_t *j = db_json_wire("\xff\x01", 2);
	assert_string_equal(json_string_value(j), "\\xff\\x01");
	json_decref(j);
	j = db_json_wire(NULL, 0);
	assert_true(json_is_null(j));
	json_decref(j);
	/* Text from lists: UTF-8 kept, anything else escaped. */
	j = db_json_text("T\xc3\xa9l\xc3\xa9", 6);
	assert_string_equal(json_string_value(j), "T\xc3\xa9l\xc3\xa9");
	json_decref(j);
	j = db_json_text("bad\xc3", 4);
	assert_string_equal(json_string_value(j), "bad\\xc3");
	json_decref(j);

	json_t *names = json_pack("[sss]", "easyprivacy", "a b", "x\x7fy");
	assert_non_null(db_join_names(&buf, names, ";"));
	assert_string_equal(buf.data, "easyprivacy;a b;x\\x7fy");
	json_decref(names);
	names = json_array();
	assert_non_null(db_join_names(&buf, names, ", "));
	assert_string_equal(buf.data, "");
	json_decref(names);
	db_buf_free(&buf);
}

static void test_options(void **state)
{
	(void)state;
	struct db_query q;
	db_query_init(&q, "test");
	assert_string_equal(q.path, DB_DEFAULT_PATH);
	assert_int_equal(q.format, DB_FORMAT_TEXT);
	assert_int_equal(db_query_option(&q, 'f', "csv"), DB_EXIT_OK);
	assert_int_equal(q.format, DB_FORMAT_CSV);
	assert_int_equal(db_query_option(&q, 'f', "xml"), DB_EXIT_USAGE);
	assert_int_equal(db_query_option(&q, DB_OPT_SINCE, "2026-11-29"), DB_EXIT_OK);
	assert_true(q.has_since);
	assert_int_equal(q.since_us, 1795910400 * S);
	assert_int_equal(db_query_option(&q, DB_OPT_UNTIL, "tomorrow"), DB_EXIT_USAGE);
	assert_false(q.has_until);
	assert_int_equal(db_query_option(&q, 'd', ""), DB_EXIT_USAGE);
	assert_int_equal(db_query_option(&q, 'x', "x"), -1);

	/* The conditions: fixed text with parameters, never the values. */
	char sql[512] = "SELECT 1 FROM observations o WHERE 1";
	q.device_ids = strdup("[1,2]");
	assert_int_equal(db_query_where(&q, sql, sizeof sql), 0);
	assert_non_null(strstr(sql, "o.ts >= :since"));
	assert_null(strstr(sql, ":until"));
	assert_non_null(strstr(sql, "json_each(:devices)"));
	assert_null(strstr(sql, "1795910400"));
	char small[40] = "SELECT 1 WHERE 1";
	assert_int_equal(db_query_where(&q, small, sizeof small), -1);
	db_query_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_iso),
		cmocka_unit_test(test_parse_relative),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_against_libc),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_text_cell),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
