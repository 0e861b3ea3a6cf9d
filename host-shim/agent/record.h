/*
 * record.h -- the JSON the agent publishes: a capability record in the
 * original's WorkerCapabilities field names and a live state in its
 * WorkerLoad names, both bounded (docs/AGENT.md).
 */
#ifndef LBS_AGENT_RECORD_H
#define LBS_AGENT_RECORD_H

#include <cjson/cJSON.h>
#include <time.h>

#include "agent.h"

/* The largest numbers published: the shim's converter refuses more. */
#define AG_MAX_GB 1e6
#define AG_MAX_COUNT 1e6
#define AG_MAX_MHZ 1e6
#define AG_MAX_WATTS 1e6
/* The smallest sizes published: a memory or power limit of 0 is a device
 * that could not say, not one that has none (the 2 decimals published). */
#define AG_MIN_GB 0.01
#define AG_MIN_WATTS 0.01

/* The capability record of c; NULL when out of memory. */
cJSON *ag_record(const ag_caps *c);

/* A live sample; a negative number is "not measured" and left out. */
typedef struct ag_load {
	double cpu, memory, gpu;  /* percent */
	double temperature;       /* 0..1 of the hottest device's own limit */
	double performance_level; /* 0..1 */
	int warming, cooling;
	time_t now;
} ag_load;

cJSON *ag_load_json(const char *worker_id, const ag_load *l);

/* A finite number in [lo, hi] added as key; anything else is left out,
 * so that no NaN, infinity or out-of-range value is ever published. */
int ag_num(cJSON *obj, const char *key, double v, double lo, double hi);

#endif
