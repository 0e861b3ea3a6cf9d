/*
 * A plugin that answers wrongly on purpose, to prove the host checks every
 * answer.  Scheduler "liar", config {"mode": "<how to lie>"}:
 *   honest        the first worker not excluded (a control)
 *   out_of_range  index n
 *   wrong_id      a right index with another worker's id
 *   duplicate     the same worker twice (for a sharded request)
 *   excluded      the first excluded worker
 *   ineligible    the second worker, whatever the requirements
 *   too_many      two workers for a single request
 *   error         LBS_EINTERNAL
 *   einval        LBS_EINVAL, an error select() may answer (no lie: the
 *                 host falls back without calling it a breach)
 *   bad_stats     honest, but stats() writes an object, a comma and a key
 *                 of its own: text that breaks a host's document around it
 *   unterminated_reason  an honest answer, its reason buffer filled with
 *                 'R' and no terminator
 *   forged_id     a right index with an id that carries a newline and a
 *                 terminal escape
 *   unterminated_error   create fails, its error buffer filled with 'E'
 *                 and no terminator
 *   silent_error  create fails with LBS_EIO and writes no error
 *   huge_score    an honest answer; scores 1e303 for the first worker and
 *                 5e302 for the others (every other mode scores 1 and 0)
 *   copied_id     an honest answer whose id is the plugin's own copy of the
 *                 text, not the host's pointer (not a lie: the host must
 *                 compare the text)
 *   thread_log    an honest answer; create starts a thread that logs 100
 *                 lines, "thread line N", through the host at once (a
 *                 store's flusher logs from its own thread too)
 *   every_other   honest with a cookie (1, 2, ...) on the 1st, 3rd, ...
 *                 call, out_of_range on the others (the host falls back)
 *   range_then_error  out_of_range on the first call, error on the others
 *   die_on_die    honest, but a workload whose test_type is "die" kills
 *                 the process inside select (SIGKILL: a crash or the OOM
 *                 killer, in the middle of a decision)
 *   unterminated_id  a right index with an id of a page of 'A' and no NUL,
 *                 a page the process may not read after it
 *   rewritten_header  an out-of-range index in arrays of its own, put in
 *                 place of the host's, a capacity of 0 and a reason_len
 *                 of 2^40 (the fields are the caller's)
 * Every mode counts the outcomes reported to it by result, and stats
 * shows them: {"success": N, "failure": N, "timeout": N, "rejected": N,
 * "cancelled": N, "last_cookie": C}, so a test sees what a host reported.
 * Built with -std=c99 by test_install, as a third party's plugin would be:
 * mmap's MAP_ANONYMOUS is POSIX's, not C99's.
 */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lbsched/abi.h>

enum mode { HONEST, OUT_OF_RANGE, WRONG_ID, DUPLICATE, EXCLUDED, INELIGIBLE, TOO_MANY, ERROR,
            UNTERMINATED_REASON, FORGED_ID, UNTERMINATED_ERROR, HUGE_SCORE, COPIED_ID,
            THREAD_LOG, EVERY_OTHER, RANGE_THEN_ERROR, DIE_ON_DIE, UNTERMINATED_ID,
            REWRITTEN_HEADER, SILENT_ERROR, EINVAL_ANSWER, BAD_STATS };

static const char *const mode_names[] = {"honest", "out_of_range", "wrong_id", "duplicate",
                                         "excluded", "ineligible", "too_many", "error",
                                         "unterminated_reason", "forged_id",
                                         "unterminated_error", "huge_score", "copied_id",
                                         "thread_log", "every_other",
                                         "range_then_error", "die_on_die", "unterminated_id",
                                         "rewritten_header", "silent_error", "einval",
                                         "bad_stats"};

/* The instance: the mode first, so that a pointer to it is one to the
 * mode; then the outcomes by LBS_RESULT_*. */
typedef struct liar_inst {
	enum mode m;
	unsigned long results[5];
	unsigned long calls, last_cookie;
	const lbs_host_api *host;
	pthread_t logger;
	int logging;
} liar_inst;

static void *log_lines(void *arg)
{
	liar_inst *li = arg;
	char line[64];

	for (int i = 1; i <= 100; i++) {
		snprintf(line, sizeof line, "thread line %d", i);
		li->host->log(li->host->host_data, LBS_LOG_WARN, line);
	}
	return NULL;
}

static lbs_status l_create(const lbs_host_api *host, const char *config, size_t len,
                           void **out, char *err, size_t errlen)
{
	liar_inst *li;
	enum mode *m;
	char buf[256] = "";

	if (config && len) {
		if (len >= sizeof buf)
			len = sizeof buf - 1;
		memcpy(buf, config, len);
	}
	li = calloc(1, sizeof *li);
	if (!li)
		return LBS_ENOMEM;
	m = &li->m;
	*m = HONEST;
	for (int i = 0; i < (int)(sizeof mode_names / sizeof mode_names[0]); i++) {
		char quoted[64];
		snprintf(quoted, sizeof quoted, "\"%s\"", mode_names[i]);
		if (strstr(buf, quoted))
			*m = (enum mode)i;
	}
	if (*m == SILENT_ERROR) {
		free(li);
		return LBS_EIO;
	}
	if (*m == UNTERMINATED_ERROR) {
		memset(err, 'E', errlen);
		free(li);
		return LBS_ECONFIG;
	}
	if (buf[0] && *m == HONEST && !strstr(buf, "honest")) {
		snprintf(err, errlen, "config field 'mode': unknown mode");
		free(li);
		return LBS_ECONFIG;
	}
	li->host = host;
	if (*m == THREAD_LOG) {
		if (pthread_create(&li->logger, NULL, log_lines, li)) {
			snprintf(err, errlen, "cannot start the logging thread");
			free(li);
			return LBS_EINTERNAL;
		}
		li->logging = 1;
	}
	*out = m;
	return LBS_OK;
}

static void l_destroy(void *inst)
{
	liar_inst *li = inst;

	if (li->logging)
		pthread_join(li->logger, NULL);
	free(inst);
}

static int is_excluded(const lbs_workload *wl, const char *id)
{
	for (uint32_t i = 0; i < wl->n_exclude; i++)
		if (!strcmp(wl->exclude_ids[i], id))
			return 1;
	return 0;
}

static lbs_status l_select(void *inst, const lbs_workload *wl,
                           const lbs_worker *const *workers, uint32_t n,
                           lbs_selection *out)
{
	liar_inst *li = inst;
	enum mode m = li->m;
	/* Outlives the call, as an answer's ids must until the host reads them. */
	static char copy[64];
	uint32_t first = 0;

	while (first < n && is_excluded(wl, workers[first]->id))
		first++;
	if (first == n)
		return LBS_NO_WORKER;
	out->n_selected = 1;
	out->indices[0] = first;
	out->ids[0] = workers[first]->id;
	switch (m) {
	case HONEST:
	case BAD_STATS:
	case THREAD_LOG:
	case SILENT_ERROR: /* never created */
		break;
	case DIE_ON_DIE:
		if (wl->test_type && !strcmp(wl->test_type, "die"))
			raise(SIGKILL);
		break;
	case OUT_OF_RANGE:
		out->indices[0] = n;
		break;
	case WRONG_ID:
		out->ids[0] = workers[(first + 1) % n]->id;
		break;
	case DUPLICATE:
	case TOO_MANY:
		if (out->capacity < 2)
			return LBS_EINTERNAL;
		out->n_selected = 2;
		out->indices[1] = m == DUPLICATE ? first : (first + 1) % n;
		out->ids[1] = workers[out->indices[1]]->id;
		break;
	case EXCLUDED:
		for (uint32_t i = 0; i < n; i++)
			if (is_excluded(wl, workers[i]->id)) {
				out->indices[0] = i;
				out->ids[0] = workers[i]->id;
			}
		break;
	case INELIGIBLE:
		out->indices[0] = n > 1 ? 1 : 0;
		out->ids[0] = workers[out->indices[0]]->id;
		break;
	case ERROR:
		out->n_selected = 0;
		return LBS_EINTERNAL;
	case EINVAL_ANSWER:
		out->n_selected = 0;
		return LBS_EINVAL;
	case UNTERMINATED_REASON:
		if (out->reason)
			memset(out->reason, 'R', out->reason_len);
		break;
	case FORGED_ID:
		out->ids[0] = "cpu_c\nlbsched-shim: error: forged\x1b[2J";
		break;
	case UNTERMINATED_ERROR:
	case HUGE_SCORE:
		break;
	case COPIED_ID:
		snprintf(copy, sizeof copy, "%s", workers[first]->id);
		out->ids[0] = copy;
		break;
	case RANGE_THEN_ERROR:
		if (li->calls++) {
			out->n_selected = 0;
			return LBS_EINTERNAL;
		}
		out->indices[0] = n;
		break;
	case EVERY_OTHER:
		if (li->calls++ % 2)
			out->indices[0] = n;
		else
			out->cookie = li->calls / 2 + 1;
		break;
	case UNTERMINATED_ID: {
		static char *page;
		long size = sysconf(_SC_PAGESIZE);

		if (!page) {
			page = mmap(NULL, 2 * (size_t)size, PROT_READ | PROT_WRITE,
			            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (page == MAP_FAILED)
				return LBS_ENOMEM;
			memset(page, 'A', (size_t)size);
			mprotect(page + size, (size_t)size, PROT_NONE);
		}
		out->ids[0] = page;
		break;
	}
	case REWRITTEN_HEADER: {
		static uint32_t idx[1];
		static const char *ids[1];

		idx[0] = n;
		ids[0] = workers[first]->id;
		out->indices = idx;
		out->ids = ids;
		out->capacity = 0;
		out->reason_len = (size_t)1 << 40;
		break;
	}
	}
	return LBS_OK;
}

static lbs_status l_score(void *inst, const lbs_workload *wl,
                          const lbs_worker *const *workers, uint32_t n, double *scores)
{
	int huge = *(enum mode *)inst == HUGE_SCORE;

	(void)wl;
	(void)workers;
	for (uint32_t i = 0; i < n; i++)
		scores[i] = huge ? (i == 0 ? 1e303 : 5e302) : (i == 0 ? 1.0 : 0.0);
	return LBS_OK;
}

static lbs_status l_report(void *inst, const lbs_outcome *o)
{
	liar_inst *li = inst;

	/* as the ABI says: an unknown result is a failure */
	li->results[o->result >= 0 && o->result <= 4 ? o->result : LBS_RESULT_FAILURE]++;
	li->last_cookie = o->cookie;
	return LBS_OK;
}

static lbs_status l_stats(void *inst, lbs_write_fn write, void *ctx)
{
	const liar_inst *li = inst;
	char buf[256];
	int len = li->m == BAD_STATS ? snprintf(buf, sizeof buf, "{\"decisions\": 1}, "
	                                        "\"injected\": {\"a\": 1")
	          : snprintf(buf, sizeof buf, "{\"success\": %lu, \"failure\": %lu, \"timeout\": %lu, "
	                   "\"rejected\": %lu, \"cancelled\": %lu, \"last_cookie\": %lu}",
	                   li->results[0], li->results[1], li->results[2], li->results[3],
	                   li->results[4], li->last_cookie);

	return write(ctx, buf, (size_t)len) ? LBS_EIO : LBS_OK;
}

static const lbs_scheduler_desc liar = {
	.struct_size = sizeof(lbs_scheduler_desc),
	.name = "liar",
	.description = "answers wrongly on purpose (tests only)",
	.create = l_create,
	.destroy = l_destroy,
	.select = l_select,
	.score = l_score,
	.report = l_report,
	.stats = l_stats,
};

#define PLUGIN_NAME "liar"
#define THE_SCHEDULER liar
#include "one_scheduler.h"
