/*
 * A third party's rotation that counts outcomes: built against abi/ alone,
 * with score and report slots and without LBS_CAP_LEARNS (its report
 * changes no decision, abi.h's meaning of the cap).  A composite moves it
 * on through select(), as it does a rotation without report: taken by its
 * slot for a learner, it scored the same worker best for good.
 *
 * Scheduler "org.example.counter": scores 1 for the next worker of its
 * rotation that is not excluded and 0 for the rest; select picks that one
 * and moves on; report counts.
 */
#include <stdlib.h>
#include <string.h>

#include <lbsched/abi.h>

#include "excluded.h"

typedef struct counter {
	uint32_t next;     /* the rotation's next position */
	uint64_t reports;  /* counted, never used to decide */
} counter;

static lbs_status c_create(const lbs_host_api *host, const char *config, size_t len,
                           void **out, char *err, size_t errlen)
{
	(void)host;
	(void)config;
	(void)len;
	(void)err;
	(void)errlen;
	return (*out = calloc(1, sizeof(counter))) ? LBS_OK : LBS_ENOMEM;
}

static void c_destroy(void *inst)
{
	free(inst);
}

/* The rotation's next worker from c->next, or n when none is free. */
static uint32_t turn(const counter *c, const lbs_workload *wl, const lbs_worker *const *w,
                     uint32_t n)
{
	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = (c->next + k) % n;

		if (!excluded(wl, w[i]->id))
			return i;
	}
	return n;
}

static lbs_status c_select(void *inst, const lbs_workload *wl, const lbs_worker *const *w,
                           uint32_t n, lbs_selection *out)
{
	counter *c = inst;
	uint32_t i = turn(c, wl, w, n);

	out->n_selected = 0;
	if (i == n || !out->capacity)
		return LBS_NO_WORKER;
	out->indices[0] = i;
	out->ids[0] = w[i]->id;
	out->n_selected = 1;
	c->next = i + 1;
	return LBS_OK;
}

static lbs_status c_score(void *inst, const lbs_workload *wl, const lbs_worker *const *w,
                          uint32_t n, double *scores)
{
	uint32_t i = turn(inst, wl, w, n);

	for (uint32_t k = 0; k < n; k++)
		scores[k] = k == i ? 1.0 : 0.0;
	return LBS_OK;
}

static lbs_status c_report(void *inst, const lbs_outcome *o)
{
	(void)o;
	((counter *)inst)->reports++;
	return LBS_OK;
}

static const lbs_scheduler_desc counter_desc = {
	.struct_size = sizeof(lbs_scheduler_desc),
	.name = "org.example.counter",
	.description = "a rotation that counts outcomes (tests only; report, no LEARNS)",
	.caps = 0,
	.create = c_create,
	.destroy = c_destroy,
	.select = c_select,
	.score = c_score,
	.report = c_report,
};

#define PLUGIN_NAME "example-counter"
#define THE_SCHEDULER counter_desc
#include "one_scheduler.h"
