/*
 * sink.h -- where the agent publishes: a fleet file, or Redis (keyed by the
 * record's own worker_id), behind the same two calls.
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
	/* Keep the published worker at least `seconds` from now, before work
	 * that may outlast its expiry (a detection); NULL where nothing
	 * expires.  0, or -1 with a one-line reason in err. */
	int (*hold)(ag_sink *s, double seconds, char *err, size_t n);
	void (*close)(ag_sink *s);
};

/* A one-worker fleet file, {"workers": [record with "load"]}, replaced
 * atomically (temporary file, fsync, rename) with the given mode.  NULL
 * when no temporary file can be made beside path, or path exists and is
 * neither a regular file nor a symbolic link; a write fails alike when it
 * has become one. */
ag_sink *ag_sink_file(const char *path, mode_t mode, char *err, size_t n);

/* The hash <prefix>fleet:<id> in the Redis at url (redis://host:port/prefix,
 * plugin/redis/redis_conn.h for the password file and the loopback policy), its
 * expiry set to ttl_s with each sample.  Connects once here, so that a bad
 * address, password or policy is said at the start. */
ag_sink *ag_sink_redis(const char *url, const char *password_file, int insecure,
                       double ttl_s, const char *id, char *err, size_t n);

#endif
