/* The commands of the trackwatch program, one file each; main() in trackwatch.c dispatches. */
#ifndef TRACKWATCH_CLI_COMMANDS_H
#define TRACKWATCH_CLI_COMMANDS_H

/* trackwatch lists check|test|cookie|update: argv[0] is "lists"; returns the exit status. */
int cmd_lists(int argc, char **argv, const char *config_path);

#endif
