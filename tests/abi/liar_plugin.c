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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lbsched/abi.h>

enum mode { HONEST, OUT_OF_RANGE, WRONG_ID, DUPLICATE, EXCLUDED, INELIGIBLE, TOO_MANY, ERROR };

static const char *const mode_names[] = {"honest", "out_of_range", "wrong_id", "duplicate",
                                         "excluded", "ineligible", "too_many", "error"};

static lbs_status l_create(const lbs_host_api *host, const char *config, size_t len,
                           void **out, char *err, size_t errlen)
{
	enum mode *m;
	char buf[256] = "";

	(void)host;
	if (config && len) {
		if (len >= sizeof buf)
			len = sizeof buf - 1;
		memcpy(buf, config, len);
	}
	m = malloc(sizeof *m);
	if (!m)
		return LBS_ENOMEM;
	*m = HONEST;
	for (int i = 0; i < (int)(sizeof mode_names / sizeof mode_names[0]); i++) {
		char quoted[64];
		snprintf(quoted, sizeof quoted, "\"%s\"", mode_names[i]);
		if (strstr(buf, quoted))
			*m = (enum mode)i;
	}
	if (buf[0] && *m == HONEST && !strstr(buf, "honest")) {
		snprintf(err, errlen, "config field 'mode': unknown mode");
		free(m);
		return LBS_ECONFIG;
	}
	*out = m;
	return LBS_OK;
}

static void l_destroy(void *inst)
{
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
	enum mode m = *(enum mode *)inst;
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
	}
	return LBS_OK;
}

static const lbs_scheduler_desc liar = {
	.struct_size = sizeof(lbs_scheduler_desc),
	.name = "liar",
	.description = "answers wrongly on purpose (tests only)",
	.create = l_create,
	.destroy = l_destroy,
	.select = l_select,
};

#define PLUGIN_NAME "liar"
#define THE_SCHEDULER liar
#include "one_scheduler.h"
