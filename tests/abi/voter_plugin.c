/*
 * A third party's plugin, built against abi/ alone, whose scheduler has no
 * score slot: a composite can only count its answer as a vote.
 *
 * Scheduler "org.example.voter", config {"prefer": "<worker id>"}:
 *   picks that worker when it is offered and not excluded -- whatever else
 *   the workload requires, so that the composite's hard filter is what
 *   keeps an unfit pick out -- and answers no worker when it is absent.
 *   Without "prefer" it picks the last worker not excluded.
 * Config {"rotate": true} instead: a rotation with state a composite's
 * explain must not move, one worker a select (the next not excluded).
 * A sharded or replicated request gets the workers before that one too,
 * walking back from the end of the array.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lbsched/abi.h>

#include "excluded.h"

typedef struct voter {
	char prefer[128]; /* "" = the last worker */
	int rotate;
	uint32_t next;    /* rotate: the position of the next pick */
} voter;

/* The string value of "prefer" in a flat JSON object; 0 when absent. */
static int read_prefer(const char *cfg, size_t len, char *out, size_t outlen,
                       char *err, size_t errlen)
{
	char buf[512] = "";
	const char *p, *q;

	if (len >= sizeof buf)
		len = sizeof buf - 1;
	memcpy(buf, cfg, len);
	p = strstr(buf, "\"prefer\"");
	if (!p) {
		if (strchr(buf, ':')) {
			snprintf(err, errlen, "config: only 'prefer' is known");
			return -1;
		}
		return 0;
	}
	p = strchr(p + 8, '"');
	q = p ? strchr(p + 1, '"') : NULL;
	if (!q || (size_t)(q - p - 1) >= outlen || q == p + 1) {
		snprintf(err, errlen, "config field 'prefer': must be a worker id");
		return -1;
	}
	memcpy(out, p + 1, (size_t)(q - p - 1));
	out[q - p - 1] = '\0';
	return 0;
}

static lbs_status v_create(const lbs_host_api *host, const char *config, size_t len,
                           void **out, char *err, size_t errlen)
{
	const char *r = config && len ? memmem(config, len, "\"rotate\"", 8) : NULL;
	voter *v;

	(void)host;
	v = calloc(1, sizeof *v);
	if (!v)
		return LBS_ENOMEM;
	if (r && memmem(r, len - (size_t)(r - config), "true", 4))
		v->rotate = 1;
	else if (config && len &&
	         read_prefer(config, len, v->prefer, sizeof v->prefer, err, errlen)) {
		free(v);
		return LBS_ECONFIG;
	}
	*out = v;
	return LBS_OK;
}

static void v_destroy(void *inst)
{
	free(inst);
}

static int taken(const lbs_selection *out, uint32_t i)
{
	for (uint32_t k = 0; k < out->n_selected; k++)
		if (out->indices[k] == i)
			return 1;
	return 0;
}

static void take(lbs_selection *out, const lbs_worker *const *w, uint32_t i)
{
	out->indices[out->n_selected] = i;
	out->ids[out->n_selected] = w[i]->id;
	out->n_selected++;
}

static lbs_status v_select(void *inst, const lbs_workload *wl,
                           const lbs_worker *const *w, uint32_t n,
                           lbs_selection *out)
{
	voter *v = inst;
	int multi = wl->allocation == LBS_ALLOC_SHARDED || wl->allocation == LBS_ALLOC_REPLICATED;
	uint32_t want = multi ? wl->max_shards : 1, need = multi ? wl->min_shards : 1;

	out->n_selected = 0;
	if (want > out->capacity)
		want = out->capacity;
	if (v->rotate) {
		for (uint32_t k = 0; k < n; k++) {
			uint32_t i = (v->next + k) % n;

			if (!excluded(wl, w[i]->id)) {
				take(out, w, i);
				v->next = i + 1;
				return LBS_OK;
			}
		}
		return LBS_NO_WORKER;
	}
	if (v->prefer[0]) {
		for (uint32_t i = 0; i < n; i++)
			if (!strcmp(w[i]->id, v->prefer) && !excluded(wl, w[i]->id))
				take(out, w, i);
		if (out->n_selected == 0)
			return LBS_NO_WORKER;
	}
	for (uint32_t i = n; i-- > 0 && out->n_selected < want;)
		if (!excluded(wl, w[i]->id) && !taken(out, i))
			take(out, w, i);
	if (out->n_selected == 0 || out->n_selected < need) {
		out->n_selected = 0;
		return LBS_NO_WORKER;
	}
	return LBS_OK;
}

static const lbs_scheduler_desc voter_desc = {
	.struct_size = sizeof(lbs_scheduler_desc),
	.name = "org.example.voter",
	.description = "picks one configured worker (tests only; no score slot)",
	.caps = LBS_CAP_MULTI,
	.create = v_create,
	.destroy = v_destroy,
	.select = v_select,
};

#define PLUGIN_NAME "example-voter"
#define THE_SCHEDULER voter_desc
#include "one_scheduler.h"
