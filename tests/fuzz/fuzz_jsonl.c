/*
 * fuzz_jsonl.c -- a whole JSON Lines file as `decide --tests`, `--feedback`
 * and `simulate --tests-file` cut it (file_next_line, host-shim/lib/file.c),
 * each line then read as test requirements through conv_parse and the
 * converter, with the run's warning caps (fuzz_workload fuzzes one record
 * deeply; this target fuzzes the cutting and the caps).
 *
 * Checks: a line handed out holds no NUL and no newline, is not blank and
 * lies inside the input; line numbers only grow and never pass the
 * newlines plus one; a refused line is one line naming "tests.jsonl:N";
 * no record shows more than CONV_WARN_RECORD warnings and the run no more
 * than CONV_WARN_RUN, and the summary counts every one held back.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "file.h"
#include "fuzz_env.h"

#define NAME "tests.jsonl"

static unsigned record_warnings, total_warnings;
static int summary_seen;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_sandbox(argc, argv);
	return 0;
}

static void warned(void *ctx, const char *msg)
{
	(void)ctx;
	/* Only the summaries name no record (input text may quote their
	 * words, so only the words after the leading count are read): the
	 * warnings held back, and the tests decided as mixed. */
	if (strncmp(msg, NAME ":", strlen(NAME ":"))) {
		const char *after = strchr(msg, ' ');

		fuzz_check_error(msg, strlen(msg) + 1, NULL, "the warnings' summary");
		if (after && !strncmp(after, " more warnings suppressed", 25))
			summary_seen = 1;
		return;
	}
	fuzz_check_error(msg, strlen(msg) + 1, NAME ":", "a converter warning");
	if (++record_warnings > CONV_WARN_RECORD)
		fuzz_fail("%u warnings for one record, more than %d", record_warnings,
		          CONV_WARN_RECORD);
	total_warnings++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), err[512], where[64];
	unsigned last = 0, newlines = 0;
	conv_warns run = {0};
	file_lines it;
	char *line;
	size_t len;
	int got;

	if (!text)
		fuzz_fail("out of memory");
	memcpy(text, data, size);
	text[size] = '\0'; /* as file_read gives it */
	for (size_t i = 0; i < size; i++)
		newlines += data[i] == '\n';
	total_warnings = 0;
	summary_seen = 0;
	file_lines_init(&it, text, size, NAME);
	while ((got = file_next_line(&it, &line, &len, err, sizeof err))) {
		if (it.lineno <= last || it.lineno > newlines + 1)
			fuzz_fail("line %u after line %u of a text of %u newlines", it.lineno, last,
			          newlines);
		last = it.lineno;
		snprintf(where, sizeof where, NAME ":%u:", it.lineno);
		if (got < 0) {
			fuzz_check_error(err, sizeof err, where, "file_next_line");
			if (!memchr(data, '\0', size))
				fuzz_fail("%s: refused, but the input holds no NUL byte", where);
			continue;
		}
		if (line < text || line + len > text + size || strlen(line) != len ||
		    memchr(line, '\n', len) || strspn(line, " \t\r") == len)
			fuzz_fail("%s: a bad line of %zu bytes handed out", where, len);

		arena *a = arena_new();
		conv_ctx c = {a, warned, NULL, err, sizeof err, &run};
		lbs_workload wl;

		if (!a)
			fuzz_fail("out of memory");
		record_warnings = 0;
		err[0] = '\0';
		where[strlen(where) - 1] = '\0'; /* the converter adds the colon */
		if (conv_workload_text(&c, line, len, where, &wl))
			fuzz_check_error(err, sizeof err, where, "conv_workload_text");
		arena_free(a);
	}
	if (total_warnings > CONV_WARN_RUN || total_warnings != run.shown)
		fuzz_fail("%u warnings shown, %lu counted, at most %d allowed", total_warnings,
		          run.shown, CONV_WARN_RUN);
	{
		conv_ctx c = {NULL, warned, NULL, err, sizeof err, &run};
		int expect = run.suppressed > 0;

		/* a single test decided as mixed is said at its line, after
		 * the records: not one more of the last record's */
		record_warnings = 0;
		conv_warn_summary(&c);
		if (summary_seen != expect)
			fuzz_fail("summary %s, %lu warnings held back", summary_seen ? "given" : "missing",
			          run.suppressed);
	}
	free(text);
	return 0;
}
