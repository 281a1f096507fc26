/*
 * trackwatch: the command line for everything that is not the sensor:
 * timelines, reports, consent marks, lists, status. For now it knows only
 * --help and --version; the commands come with the store.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../daemon/version.h"

enum { EXIT_OK = 0, EXIT_USAGE = 2 };

static void usage(FILE *out)
{
	fprintf(out,
"Usage: trackwatch [OPTION]... COMMAND [ARG]...\n"
"Read what the trackwatchd sensor recorded: which trackers each device\n"
"contacted, before and after consent.\n"
"\n"
"Options:\n"
"  -h, --help       show this help and exit\n"
"  -V, --version    show version information and exit\n"
"\n"
"No commands are available yet in this version: trackwatchd writes\n"
"observations as JSON lines (trackwatchd --jsonl).\n"
"See trackwatch(1) and trackwatchd(8).\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "+hV", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("trackwatch %s\n", TRACKWATCH_VERSION);
			return EXIT_OK;
		default:
			fprintf(stderr, "Try 'trackwatch --help' for more information.\n");
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "trackwatch: unknown command '%s'\n", argv[optind]);
	} else {
		fprintf(stderr, "trackwatch: no command given\n");
	}
	fprintf(stderr, "Try 'trackwatch --help' for more information.\n");
	return EXIT_USAGE;
}
