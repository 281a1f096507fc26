/*
 * trackwatch: the command line for everything that is not the sensor:
 * timelines, reports, consent marks, lists, status. Each command lives in a
 * file of its own (commands.h); this one reads the global options and
 * dispatches.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../daemon/version.h"
#include "commands.h"

enum { EXIT_OK = 0, EXIT_USAGE = 2 };

static void usage(FILE *out)
{
	fprintf(out,
"Usage: trackwatch [OPTION]... COMMAND [ARG]...\n"
"Read what the trackwatchd sensor recorded: which trackers each device\n"
"contacted, before and after consent.\n"
"\n"
"Commands:\n"
"  timeline          what each device contacted, in time order, trackers marked\n"
"  report            per device and site: tracker companies and hosts, first and\n"
"                    last seen, hits, the lists that matched; consent decisions\n"
"                    and what each phase (before consent, after accept or\n"
"                    reject) saw\n"
"  consent mark      record a consent decision the operator saw (the click)\n"
"  lists check       parse the configured tracker lists, report counts and errors\n"
"  lists test        what the lists say of each name or URL read on standard input\n"
"  lists cookie      the Open Cookie Database entry of each cookie name read\n"
"  lists update      download the lists that have a URL, check and swap them in\n"
"  tcf decode        decode an IAB TCF consent string (TC string) to JSON\n"
"\n"
"Options:\n"
"  -c, --config FILE  configuration file (default /etc/trackwatch/trackwatch.yaml)\n"
"  -h, --help         show this help and exit\n"
"  -V, --version      show version information and exit\n"
"\n"
"'trackwatch COMMAND --help' shows the options of a command (timeline, report,\n"
"consent mark, status, reload, tcf decode, lists).\n"
"See trackwatch(1) and trackwatchd(8).\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	const char *config = NULL;
	while ((c = getopt_long(argc, argv, "+c:hV", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
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
	if (optind < argc && strcmp(argv[optind], "lists") == 0)
		return cmd_lists(argc - optind, argv + optind, config);
	if (optind < argc && strcmp(argv[optind], "timeline") == 0)
		return cmd_timeline(argc - optind, argv + optind, config);
	if (optind < argc && strcmp(argv[optind], "report") == 0)
		return cmd_report(argc - optind, argv + optind, config);
	if (optind < argc && strcmp(argv[optind], "consent") == 0)
		return cmd_consent(argc - optind, argv + optind, config);
	if (optind < argc && (strcmp(argv[optind], "status") == 0 || strcmp(argv[optind], "reload") == 0))
		return cmd_control(argc - optind, argv + optind, config);
	if (optind < argc && strcmp(argv[optind], "tcf") == 0)
		return cmd_tcf(argc - optind, argv + optind);
	if (optind < argc) {
		fprintf(stderr, "trackwatch: unknown command '%s'\n", argv[optind]);
	} else {
		fprintf(stderr, "trackwatch: no command given\n");
	}
	fprintf(stderr, "Try 'trackwatch --help' for more information.\n");
	return EXIT_USAGE;
}
