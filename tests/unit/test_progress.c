/* The progress line's text (daemon/progress.c), and that it stays off when standard error is no terminal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "../../daemon/progress.h"

static void test_format(void **state)
{
	(void)state;
	char line[80];
	/* 141.2 of 336.7 MB in 2 s: 41 % (cut, not rounded), the rest at that pace 2.77 s: 0:02. */
	progress_format(line, sizeof line, 141200000, 336700000, 2400000, 2000000);
	assert_string_equal(line, " 41% 141.2 MB of 336.7 MB, 1200000 packets/s, 0:02 left");
	progress_format(line, sizeof line, 0, 1500000000, 0, 1000000);
	assert_string_equal(line, "  0% 0 B of 1.5 GB, 0 packets/s");
	progress_format(line, sizeof line, 1500000000, 1500000000, 10, 10000000);
	assert_string_equal(line, "100% 1.5 GB of 1.5 GB, 1 packets/s, 0:00 left");
	/* Minutes, and a total not known (standard input). */
	progress_format(line, sizeof line, 100000000, 1000000000, 1, 100000000);
	assert_string_equal(line, " 10% 100.0 MB of 1.0 GB, 0 packets/s, 15:00 left");
	progress_format(line, sizeof line, 812000, 0, 50, 1000000);
	assert_string_equal(line, "812.0 kB, 50 packets/s");
	/* More read than the total (a file that grew): no share. */
	progress_format(line, sizeof line, 2000, 1000, 5, 1000000);
	assert_string_equal(line, "2.0 kB, 5 packets/s");
}

static void test_off_without_terminal(void **state)
{
	(void)state;
	FILE *f = tmpfile();
	assert_non_null(f);
	struct progress p;
	progress_init(&p, f, 1000);
	assert_null(p.out);
	progress_update(&p, 500, 5);
	progress_end(&p);
	assert_int_equal(ftell(f), 0);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_off_without_terminal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
