/*
 * options.h -- the commands of lbsched-shim as tables: one per command,
 * each option's name, value and help line.  The same table drives
 * getopt_long, the command's --help and the man page lbsched-shim(1)
 * (`lbsched-shim --roff`, run by the build), so none of the three can say
 * what the others do not.
 */
#ifndef LBS_OPTIONS_H
#define LBS_OPTIONS_H

#include <stdio.h>

#include "lbsched/abi.h"

/* Exit status of every command (the man page says it: cli_prog.exit_status). */
#define EXIT_BAD_INPUT 1
#define EXIT_USAGE 2   /* the command line itself is wrong */
#define EXIT_REFUSED 2 /* a plugin was refused */

/*
 * A scheduler that sched_open() refused: "PROG: [CONFIG: ]ERR" on stderr,
 * the config file named when the refusal is its content's (a field, or the
 * store directory it names: LBS_ECONFIG, LBS_EIO; a refused plugin a
 * composite's child names: LBS_EVERSION from create), since the plugin
 * knows only the field.  config_file may be NULL.  Returns the exit status.
 */
int cli_open_refused(const char *prog, lbs_status st, const char *config_file,
                     const char *err);

typedef struct cli_opt {
	const char *name; /* long name without "--"; NULL ends a table */
	const char *arg;  /* the value's name ("FILE"); NULL: a flag */
	const char *help; /* one sentence, for --help and the man page */
} cli_opt;

typedef struct cli_cmd {
	const char *name;     /* "decide" */
	const char *synopsis; /* after "lbsched-shim NAME": "--workers FILE [OPTION]..." */
	const char *summary;  /* one line: what the command does */
	const char *details;  /* paragraphs ("\n\n" apart) after the options; may be NULL */
	const cli_opt *opts;  /* NULL-terminated; --help is every command's own */
	/* argv[0] is the command's name; returns the exit status */
	int (*run)(const char *prog, int argc, char **argv);
	/* A mode of another command (simulate --graphs of simulate): its
	 * name in a usage error's --help hint ("simulate --graphs G"), and
	 * that command, whose options are named as not applying here.
	 * NULL for a command of its own. */
	const char *mode;
	const struct cli_cmd *of;
} cli_cmd;

/* The value of each option of a table after parsing, by its index:
 * NULL when not given, "" for a flag given.  An option given twice, or
 * with an empty value, is a usage error. */
#define CLI_MAX_OPTS 32

/*
 * Parse argv (argv[0] is the command's name) with getopt_long: --opt=value
 * and --opt value, unambiguous abbreviations, "--" ends the options.
 * `val` gets the values (CLI_MAX_OPTS entries), *first the index in argv
 * of the first operand (the operands are moved after the options).
 * Returns 0; EXIT_USAGE after a one-line message on stderr naming the
 * command and the option; or -1 after printing the command's --help on
 * stdout (the caller exits 0).
 */
int cli_parse(const char *prog, const cli_cmd *cmd, int argc, char **argv,
              const char *val[CLI_MAX_OPTS], int *first);

/*
 * Whether argv (argv[0] the command's name) gives the option `name`, read
 * as cli_parse would over the options of cmds[0..n-1] together: as
 * --name, --name=VALUE or an abbreviation, but not as another option's
 * value nor after "--".  For a command whose options depend on one of
 * them (simulate --graphs).  argv is left as it was; -1 when out of
 * memory.
 */
int cli_has_option(const cli_cmd *const *cmds, int n, int argc, char **argv, const char *name);

/* Standard input by name: "-", or the paths a shell gives for it.  The
 * first file read from it would leave the next nothing: a command takes
 * it for one of its files at most. */
int cli_is_stdin(const char *path);

/* "PROG: MSG" (cli_error) or "PROG: warning: MSG" (cli_warn) on stderr,
 * MSG printf's fmt with its arguments,
 * as one line: a message quotes file names and values as the user gave
 * them, and a newline or an escape sequence in one would otherwise reach
 * the terminal (shown as '?', txt_one_line). */
void cli_error(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_warn(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A usage error about `cmd` (NULL: the command line as a whole): one line
 * "PROG: CMD: MESSAGE (PROG CMD --help)" on stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *prog, const cli_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* An option's integer value in lo..hi, digits only (no sign, no space);
 * 0 with *out set, else EXIT_USAGE after "OPT must be an integer in
 * LO..HI, got 'S'". */
int cli_uint(const char *prog, const cli_cmd *cmd, const char *opt, const char *s, uint64_t lo,
             uint64_t hi, uint64_t *out);

/* --seed's value: an integer in 0..2^53, which a report's JSON number
 * holds exactly; 0 with *out set, else EXIT_USAGE after the message. */
#define CLI_SEED_MAX 9007199254740992ull
int cli_seed(const char *prog, const cli_cmd *cmd, const char *s, uint64_t *out);

/* The program as a whole, for its --help and its man page. */
typedef struct cli_prog {
	const char *name, *version;
	const char *summary;     /* the man page's NAME line */
	const char *description; /* paragraphs ("\n\n" apart) */
	const char *exit_status; /* paragraphs */
	const char *see_also;    /* "lbsched(7)" */
	const cli_cmd *const *cmds; /* NULL-terminated */
} cli_prog;

/* A command's --help. */
void cli_help(FILE *f, const char *prog, const cli_cmd *cmd);

/* The program's --help: its commands, one line each. */
void cli_help_all(FILE *f, const cli_prog *p);

/* The man page, in roff: every command with every option of its table. */
void cli_roff(FILE *f, const cli_prog *p);

/* 1 when a scheduler's config (len bytes) names a store anywhere, a
 * composite's children included, or does not parse (the scheduler says
 * why); for the commands that warn about what a store would learn. */
int cli_config_names_store(const char *config, size_t len);
/* Each store's path such a config names, as written, to each(ctx, path);
 * none for a config that does not parse. */
void cli_config_stores(const char *config, size_t len, void (*each)(void *, const char *),
                       void *ctx);

#endif
