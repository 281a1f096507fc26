/* The commands of the trackwatch program, one file each; main() in trackwatch.c dispatches. */
#ifndef TRACKWATCH_CLI_COMMANDS_H
#define TRACKWATCH_CLI_COMMANDS_H

/* trackwatch lists check|test|cookie|update: argv[0] is "lists"; returns the exit status. */
int cmd_lists(int argc, char **argv, const char *config_path);

/* trackwatch timeline [OPTION]...: argv[0] is "timeline"; returns the exit status. */
int cmd_timeline(int argc, char **argv, const char *config_path);

/* trackwatch report [OPTION]...: argv[0] is "report"; returns the exit status. */
int cmd_report(int argc, char **argv, const char *config_path);

/* trackwatch consent mark [OPTION]... DECISION: argv[0] is "consent"; returns the exit status. */
int cmd_consent(int argc, char **argv, const char *config_path);

/* trackwatch status|reload [OPTION]...: argv[0] is the command; returns the exit status. */
int cmd_control(int argc, char **argv, const char *config_path);

/* trackwatch tcf decode STRING|-: argv[0] is "tcf"; returns the exit status. */
int cmd_tcf(int argc, char **argv);

#endif
