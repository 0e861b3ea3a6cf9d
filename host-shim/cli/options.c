/*
 * options.c -- getopt_long, --help and the man page from one table per
 * command (options.h).
 */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "text.h"

#define HELP_WIDTH 79
#define HELP_COLUMN 26 /* where an option's help line starts */

static void say(const char *prog, const char *kind, const char *fmt, va_list ap)
{
	char line[8192];

	vsnprintf(line, sizeof line, fmt, ap);
	txt_one_line(line);
	fprintf(stderr, "%s: %s%s\n", prog, kind, line);
}

void cli_error(const char *prog, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(prog, "", fmt, ap);
	va_end(ap);
}

void cli_warn(const char *prog, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(prog, "warning: ", fmt, ap);
	va_end(ap);
}

int cli_usage_error(const char *prog, const cli_cmd *cmd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* cli_error shows it as one line: it quotes what the user typed */
	if (cmd)
		cli_error(prog, "%s: %s (%s %s --help)", cmd->name, msg, prog,
		          cmd->mode ? cmd->mode : cmd->name);
	else
		cli_error(prog, "%s (%s --help)", msg, prog);
	return EXIT_USAGE;
}

/* An option as the user wrote it, without "=value", bounded. */
static const char *as_given(char *buf, size_t n, const char *arg)
{
	size_t len = strcspn(arg, "=");

	snprintf(buf, n, "%.*s", (int)(len < 60 ? len : 60), arg);
	return buf;
}

int cli_open_refused(const char *prog, lbs_status st, const char *config_file,
                     const char *err)
{
	/* A refused plugin is the config's when create() refused it (a
	 * composite's child names it), which sched_open words as
	 * "scheduler '...': ..."; the loader's refusal names the plugin's
	 * file first. */
	if (config_file && (st == LBS_ECONFIG || st == LBS_EIO ||
	                    (st == LBS_EVERSION && !strncmp(err, "scheduler '", 11))))
		cli_error(prog, "%s: %s", config_file, err);
	else
		cli_error(prog, "%s", err);
	return st == LBS_EVERSION ? EXIT_REFUSED : EXIT_BAD_INPUT;
}

/* getopt_long's '?' for a long option it could not take: an abbreviation
 * of two or more names, or no name at all. */
static int unknown(const char *prog, const cli_cmd *cmd, const char *arg)
{
	char given[64], names[256] = "";
	int matches = 0;
	size_t len;

	as_given(given, sizeof given, arg);
	len = strlen(given);
	if (len > 2 && !strncmp(given, "--", 2)) {
		for (const cli_opt *o = cmd->opts; o->name; o++) {
			if (strncmp(o->name, given + 2, len - 2))
				continue;
			snprintf(names + strlen(names), sizeof names - strlen(names), "%s--%s",
			         matches++ ? ", " : "", o->name);
		}
	}
	if (matches > 1)
		return cli_usage_error(prog, cmd, "option '%s' is ambiguous (%s)", given, names);
	if (cmd->of && len > 2 && !strncmp(given, "--", 2))
		for (const cli_opt *o = cmd->of->opts; o->name; o++)
			if (!strcmp(o->name, given + 2))
				return cli_usage_error(prog, cmd, "option '%s' does not apply to %s",
				                       given, cmd->mode);
	return cli_usage_error(prog, cmd, "unknown option '%s'", given);
}

int cli_parse(const char *prog, const cli_cmd *cmd, int argc, char **argv,
              const char *val[CLI_MAX_OPTS], int *first)
{
	enum { FIRST = 256 }; /* option values above any character */
	struct option lo[CLI_MAX_OPTS + 2];
	int n = 0;

	for (; cmd->opts[n].name; n++) {
		if (n == CLI_MAX_OPTS) /* a table grew past val[]: say so, never drop one */
			return cli_usage_error(prog, cmd, "more than %d options (CLI_MAX_OPTS)",
			                       CLI_MAX_OPTS);
		lo[n] = (struct option){cmd->opts[n].name,
		                        cmd->opts[n].arg ? required_argument : no_argument, NULL,
		                        FIRST + n};
	}
	lo[n] = (struct option){"help", no_argument, NULL, 'h'};
	lo[n + 1] = (struct option){NULL, 0, NULL, 0};
	for (int i = 0; i < CLI_MAX_OPTS; i++)
		val[i] = NULL;
	opterr = 0; /* the messages are ours: one line, naming the command */
	optind = 0; /* glibc: start afresh */
	for (;;) {
		int c = getopt_long(argc, argv, ":h", lo, NULL);

		if (c == -1)
			break;
		if (c == 'h') {
			cli_help(stdout, prog, cmd);
			return -1;
		}
		/* A second value would drop the first, and an empty one
		 * names no file or thing: both are mistakes to say. */
		if (c >= FIRST && val[c - FIRST])
			return cli_usage_error(prog, cmd, "option '--%s' given twice",
			                       cmd->opts[c - FIRST].name);
		if (c >= FIRST && optarg && !optarg[0])
			return cli_usage_error(prog, cmd, "option '--%s' needs a value, not an "
			                       "empty one", cmd->opts[c - FIRST].name);
		if (c >= FIRST) {
			val[c - FIRST] = optarg ? optarg : "";
			continue;
		}
		if (c == ':' && optopt >= FIRST)
			return cli_usage_error(prog, cmd, "option '--%s' needs a value",
			                       cmd->opts[optopt - FIRST].name);
		if (optopt >= FIRST)
			return cli_usage_error(prog, cmd, "option '--%s' takes no value",
			                       cmd->opts[optopt - FIRST].name);
		if (optopt == 'h')
			return cli_usage_error(prog, cmd, "option '--help' takes no value");
		if (optopt)
			return cli_usage_error(prog, cmd, "unknown option '-%c'", optopt);
		return unknown(prog, cmd, argv[optind - 1]);
	}
	*first = optind;
	return 0;
}

int cli_has_option(const cli_cmd *const *cmds, int n, int argc, char **argv, const char *name)
{
	struct option *lo;
	char **copy;
	int k = 0, found = 0, max = 0;

	for (int c = 0; c < n; c++)
		for (const cli_opt *op = cmds[c]->opts; op->name; op++)
			max++;
	lo = calloc((size_t)max + 2, sizeof *lo);
	/* getopt_long moves the operands after the options: a copy keeps
	 * the caller's argv in its order. */
	copy = calloc((size_t)argc + 1, sizeof *copy);
	if (!lo || !copy) {
		free(lo);
		free(copy);
		return -1;
	}
	memcpy(copy, argv, (size_t)argc * sizeof *copy);
	/* Each name once: getopt_long calls a name twice in its table an
	 * ambiguous abbreviation of itself. */
	for (int c = 0; c < n; c++)
		for (const cli_opt *op = cmds[c]->opts; op->name; op++) {
			int seen = 0;
			for (int j = 0; j < k && !seen; j++)
				seen = !strcmp(lo[j].name, op->name);
			if (seen)
				continue;
			lo[k] = (struct option){op->name, op->arg ? required_argument : no_argument,
			                        NULL, 256 + k};
			k++;
		}
	lo[k] = (struct option){"help", no_argument, NULL, 'h'};
	opterr = 0;
	optind = 0;
	for (int c; !found && (c = getopt_long(argc, copy, ":h", lo, NULL)) != -1;)
		found = c >= 256 && !strcmp(lo[c - 256].name, name);
	optind = 0;
	free(lo);
	free(copy);
	return found;
}

/* `s` from column `col` (already reached) on, wrapped at HELP_WIDTH with
 * `indent` spaces on each new line; "\n" in the text breaks a line. */
static void wrap(FILE *f, const char *s, int col, int indent)
{
	while (*s) {
		size_t word;

		if (*s == '\n') {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
			s++;
			continue;
		}
		if (*s == ' ') {
			s++;
			continue;
		}
		word = strcspn(s, " \n");
		if (col > indent && col + 1 + (int)word > HELP_WIDTH) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		fwrite(s, 1, word, f);
		col += (int)word;
		s += word;
	}
	fputc('\n', f);
}

/* Paragraphs "\n\n" apart, each wrapped, an empty line between them. */
static void paragraphs(FILE *f, const char *text, int indent)
{
	char buf[2048];

	while (text && *text) {
		const char *end = strstr(text, "\n\n");
		size_t len = end ? (size_t)(end - text) : strlen(text);

		snprintf(buf, sizeof buf, "%.*s", (int)len, text);
		fprintf(f, "\n%*s", indent, "");
		wrap(f, buf, indent, indent);
		text = end ? end + 2 : NULL;
	}
}

static void help_line(FILE *f, const char *left, const char *help)
{
	int col = fprintf(f, "  %s", left);

	if (col + 2 > HELP_COLUMN) {
		fprintf(f, "\n%*s", HELP_COLUMN, "");
	} else {
		fprintf(f, "%*s", HELP_COLUMN - col, "");
	}
	wrap(f, help, HELP_COLUMN, HELP_COLUMN);
}

void cli_help(FILE *f, const char *prog, const cli_cmd *cmd)
{
	char left[96];

	fprintf(f, "usage: %s %s %s\n", prog, cmd->name, cmd->synopsis);
	wrap(f, cmd->summary, 0, 0);
	fprintf(f, "\noptions:\n");
	for (const cli_opt *o = cmd->opts; o->name; o++) {
		snprintf(left, sizeof left, "--%s%s%s", o->name, o->arg ? " " : "",
		         o->arg ? o->arg : "");
		help_line(f, left, o->help);
	}
	help_line(f, "-h, --help", "show this help and exit");
	paragraphs(f, cmd->details, 0);
}

/* A command as the lists name it: a second command of the same name is a
 * mode of the first, chosen by the first option of its synopsis, and
 * named with it ("simulate --graphs"), or the list would show the name
 * twice with no word on how to reach the second. */
static void cmd_label(const cli_prog *p, const cli_cmd *c, char *buf, size_t len)
{
	size_t word = strcspn(c->synopsis, " ");

	for (const cli_cmd *const *e = p->cmds; *e != c; e++) {
		if (!strcmp((*e)->name, c->name)) {
			snprintf(buf, len, "%s %.*s", c->name, (int)word, c->synopsis);
			return;
		}
	}
	snprintf(buf, len, "%s", c->name);
}

void cli_help_all(FILE *f, const cli_prog *p)
{
	char left[96];

	fprintf(f, "usage: %s COMMAND [OPTION]... [ARG]...\n"
	           "       %s --help | --version\n",
	        p->name, p->name);
	wrap(f, p->summary, 0, 0);
	fprintf(f, "\ncommands:\n");
	for (const cli_cmd *const *c = p->cmds; *c; c++) {
		cmd_label(p, *c, left, sizeof left);
		help_line(f, left, (*c)->summary);
	}
	fprintf(f, "\n'%s COMMAND --help' lists a command's options.\n\nexit status:\n",
	        p->name);
	wrap(f, p->exit_status, 0, 0);
}

/* ===== roff ================================================================ */

/* Text for a roff line: backslashes escaped, a leading '.' or '\'' made
 * literal; `dashes`: '-' as \- (options and commands, which readers copy). */
static void roff_text(FILE *f, const char *s, int dashes)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-' && dashes)
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

/* Paragraphs as .PP; a "\n" inside one is a line break (.br). */
static void roff_paragraphs(FILE *f, const char *text)
{
	int start = 1;

	for (const char *s = text; s && *s;) {
		size_t len = strcspn(s, "\n");
		char line[1024];

		if (start)
			fputs(".PP\n", f);
		snprintf(line, sizeof line, "%.*s", (int)len, s);
		roff_text(f, line, 0);
		fputs("\n", f);
		s += len;
		start = s[0] == '\n' && s[1] == '\n';
		if (s[0] == '\n' && !start)
			fputs(".br\n", f);
		s += start ? 2 : s[0] == '\n';
	}
}

static void roff_option(FILE *f, const char *name, const char *arg, const char *help)
{
	fputs(".TP\n", f);
	/* "-h, --help": each name bold, the comma not */
	for (const char *s = name; *s;) {
		size_t len = strcspn(s, ",");
		char one[64];

		snprintf(one, sizeof one, "%.*s", (int)len, s);
		fputs("\\fB", f);
		roff_text(f, one, 1);
		fputs("\\fR", f);
		s += len;
		if (*s) {
			fputs(", ", f);
			s += strspn(s, ", ");
		}
	}
	if (arg) {
		fputs(" \\fI", f);
		roff_text(f, arg, 0);
		fputs("\\fR", f);
	}
	fputs("\n", f);
	roff_text(f, help, 0);
	fputs("\n", f);
}

/* "lbsched-shim decide" in bold, then its synopsis, on one line. */
static void roff_usage(FILE *f, const cli_prog *p, const cli_cmd *c)
{
	fputs("\\fB", f);
	roff_text(f, p->name, 1);
	fputs(" ", f);
	roff_text(f, c->name, 1);
	fputs("\\fR ", f);
	roff_text(f, c->synopsis, 1);
	fputs("\n", f);
}

void cli_roff(FILE *f, const cli_prog *p)
{
	char upper[64];
	size_t i;

	for (i = 0; p->name[i] && i + 1 < sizeof upper; i++)
		upper[i] = (char)(p->name[i] >= 'a' && p->name[i] <= 'z' ? p->name[i] - 32
		                                                          : p->name[i]);
	upper[i] = '\0';
	/* No date: the page is the same whenever it is built. */
	fprintf(f, ".\\\" Generated by '%s --roff' from the tables that also make --help.\n",
	        p->name);
	fprintf(f, ".TH %s 1 \"\" \"lbsched %s\" \"User Commands\"\n", upper, p->version);
	fputs(".nh\n.SH NAME\n", f); /* no hyphenation: option names stay whole */
	roff_text(f, p->name, 1);
	fputs(" \\- ", f);
	roff_text(f, p->summary, 0);
	fputs("\n.SH SYNOPSIS\n.nf\n", f);
	for (const cli_cmd *const *c = p->cmds; *c; c++)
		roff_usage(f, p, *c);
	fputs("\\fB", f);
	roff_text(f, p->name, 1);
	fputs("\\fR \\-\\-help | \\-\\-version\n.fi\n.SH DESCRIPTION\n", f);
	roff_paragraphs(f, p->description);
	fputs(".SH COMMANDS\n", f);
	for (const cli_cmd *const *c = p->cmds; *c; c++) {
		char label[96];

		cmd_label(p, *c, label, sizeof label);
		fputs(".SS ", f);
		roff_text(f, label, 1);
		fputs("\n", f);
		roff_usage(f, p, *c);
		fputs(".PP\n", f);
		roff_text(f, (*c)->summary, 0);
		fputs("\n", f);
		for (const cli_opt *o = (*c)->opts; o->name; o++) {
			char name[64];
			snprintf(name, sizeof name, "--%s", o->name);
			roff_option(f, name, o->arg, o->help);
		}
		roff_option(f, "-h, --help", NULL, "show this help and exit");
		roff_paragraphs(f, (*c)->details);
	}
	fputs(".SH EXIT STATUS\n", f);
	roff_paragraphs(f, p->exit_status);
	if (p->see_also) {
		fputs(".SH SEE ALSO\n", f);
		roff_text(f, p->see_also, 0);
		fputs("\n", f);
	}
}

int cli_uint(const char *prog, const cli_cmd *cmd, const char *opt, const char *s, uint64_t lo,
             uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	/* strtoull skips spaces, takes a sign ("+5", and " -1" as 2^64 - 1)
	 * and clamps past 2^64 - 1: digits only */
	if (!(*s >= '0' && *s <= '9') || *end || errno == ERANGE || v < lo || v > hi)
		return cli_usage_error(prog, cmd, "%s must be an integer in %llu..%llu, got '%s'", opt,
		                       (unsigned long long)lo, (unsigned long long)hi, s);
	*out = v;
	return 0;
}

int cli_seed(const char *prog, const cli_cmd *cmd, const char *s, uint64_t *out)
{
	return cli_uint(prog, cmd, "--seed", s, 0, CLI_SEED_MAX, out);
}

/* Whether a store is anywhere in the config (a composite's children have
 * their own): a "store" object with a "path", the one shape every
 * scheduler takes; the word alone may be a key of something else (a
 * worker named "store" in weighted-round-robin's "weights").  A config
 * that does not parse says nothing, as the scheduler has said why already. */
/* How many stores j names at any depth, each path to each() (may be NULL). */
static int stores_of(const cJSON *j, void (*each)(void *, const char *), void *ctx)
{
	int n = 0;

	for (const cJSON *c = j ? j->child : NULL; c; c = c->next) {
		const cJSON *path = c->string && !strcmp(c->string, "store") && cJSON_IsObject(c)
		                            ? cJSON_GetObjectItemCaseSensitive(c, "path")
		                            : NULL;

		if (cJSON_IsString(path)) {
			n++;
			if (each)
				each(ctx, path->valuestring);
		}
		n += stores_of(c, each, ctx);
	}
	return n;
}

int cli_config_names_store(const char *config, size_t len)
{
	cJSON *doc = config ? cJSON_ParseWithLength(config, len) : NULL;
	int yes = !doc && config ? 1 : stores_of(doc, NULL, NULL) > 0;

	cJSON_Delete(doc);
	return yes;
}

void cli_config_stores(const char *config, size_t len, void (*each)(void *, const char *),
                       void *ctx)
{
	cJSON *doc = config ? cJSON_ParseWithLength(config, len) : NULL;

	stores_of(doc, each, ctx);
	cJSON_Delete(doc);
}

int cli_is_stdin(const char *path)
{
	return path && (!strcmp(path, "-") || !strcmp(path, "/dev/stdin") ||
	                !strcmp(path, "/dev/fd/0") || !strcmp(path, "/proc/self/fd/0"));
}
