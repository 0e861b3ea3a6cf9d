/*
 * sink.h -- where the agent publishes.  The file sink is the only one
 * today; a Redis sink (the fleet-learning issue's shared client) plugs in
 * behind the same two calls, keyed by the record's own worker_id.
 */
#ifndef LBS_AGENT_SINK_H
#define LBS_AGENT_SINK_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct ag_sink ag_sink;
struct ag_sink {
	/* Every interval: the capability record (changed: it differs from
	 * the one last published, or none was) and the live state.  0, or -1
	 * with a one-line reason in err. */
	int (*publish)(ag_sink *s, const cJSON *record, int changed,
	               const cJSON *load, char *err, size_t n);
	void (*close)(ag_sink *s);
};

/* A one-worker fleet file, {"workers": [record with "load"]}, replaced
 * atomically (temporary file, fsync, rename) with the given mode. */
ag_sink *ag_sink_file(const char *path, mode_t mode, char *err, size_t n);

#endif
