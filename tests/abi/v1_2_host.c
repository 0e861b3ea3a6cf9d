/*
 * v1_2_host.c -- a host built against the frozen 1.2 header alone
 * (tests/abi/v1.2/lbsched/abi.h) that uses what 1.2 added, on the current
 * plugin ($LBS_PLUGIN): the fleet extension, "lbs.ext.fleet/1", found
 * through get_extension and called as abi.h documents it.  No Redis
 * listens here: what is asserted is each documented status and its
 * one-line reason, up to the connection a Redis would answer.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define HOST_NAME "v1.2 host"
#include "abi_host.h"

/* A TCP port on 127.0.0.1 that nothing listens on (bound, then let go). */
static int closed_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;

	if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof a) &&
	    !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

typedef lbs_status (*fleet_fn)(const lbs_host_api *, const char *, size_t, lbs_write_fn, void *,
                               char *, size_t);

/* One call of a slot with config text; its status, the reason in err. */
static lbs_status call(fleet_fn fn, const char *config, char *err, size_t errlen)
{
	char text[4096] = "";

	err[0] = '\0';
	return fn(&host, config, config ? strlen(config) : 0, collect, text, err, errlen);
}

static void fleet_extension(const lbs_plugin_entry *e, const char *store_dir)
{
	const lbs_ext_fleet *ext = NULL;
	char config[1024], expect[640], err[512];
	int port = closed_port();

	CHECK(LBS_HAS_FIELD(e, lbs_plugin_entry, get_extension) && e->get_extension);
	if (LBS_HAS_FIELD(e, lbs_plugin_entry, get_extension) && e->get_extension) {
		ext = e->get_extension(LBS_EXT_FLEET);
		/* A revision the plugin does not know is NULL, never a guess. */
		CHECK(e->get_extension("lbs.ext.fleet/2") == NULL);
	}
	CHECK(ext != NULL);
	if (!ext)
		return;
	CHECK(ext->struct_size >= sizeof(lbs_ext_fleet));
	CHECK(ext->totals_json && ext->sync);
	CHECK(port > 0);

	/* LBS_EINVAL: no config, or nowhere to write. */
	CHECK_INT(call(ext->totals_json, NULL, err, sizeof err), LBS_EINVAL);
	CHECK_INT(ext->sync(&host, "{}", 2, NULL, NULL, err, sizeof err), LBS_EINVAL);

	/* LBS_ECONFIG: no store.fleet, a wrong field of it, sync without a path. */
	CHECK_INT(call(ext->totals_json, "{\"store\": {}}", err, sizeof err), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'store.fleet': required");
	CHECK_INT(call(ext->sync, "[1]", err, sizeof err), LBS_ECONFIG);
	CHECK_CONTAINS(err, "must be a JSON object");
	CHECK_INT(call(ext->totals_json, "{\"store\": {\"fleet\": {\"address\": 6379}}}", err,
	               sizeof err),
	          LBS_ECONFIG);
	CHECK_CONTAINS(err, "store.fleet.address");
	snprintf(config, sizeof config,
	         "{\"store\": {\"fleet\": {\"address\": \"127.0.0.1:%d\", \"timeout_ms\": 500}}}",
	         port);
	CHECK_INT(call(ext->sync, config, err, sizeof err), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'store.path': required");

	/* LBS_EIO: a store that is not there has nothing to sync, and sync
	 * makes none (a typo in its path made an empty one) */
	snprintf(config, sizeof config,
	         "{\"store\": {\"path\": \"%s/none\", \"fleet\": {\"address\": \"127.0.0.1:%d\","
	         " \"timeout_ms\": 500}}}",
	         store_dir, port);
	CHECK_INT(call(ext->sync, config, err, sizeof err), LBS_EIO);
	snprintf(expect, sizeof expect, "store '%s/none': no such directory", store_dir);
	CHECK_CONTAINS(err, expect);
	{
		char none[600];
		struct stat st;

		snprintf(none, sizeof none, "%s/none", store_dir);
		CHECK(stat(none, &st) != 0);
	}
	snprintf(config, sizeof config,
	         "{\"store\": {\"fleet\": {\"address\": \"127.0.0.1:%d\", \"timeout_ms\": 500}}}",
	         port);

	/* LBS_EIO: the Redis does not answer; err names it.  The totals need
	 * no store; sync opens the one at store.path first. */
	snprintf(expect, sizeof expect, "redis://127.0.0.1:%d: cannot connect", port);
	CHECK_INT(call(ext->totals_json, config, err, sizeof err), LBS_EIO);
	CHECK_CONTAINS(err, expect);
	snprintf(config, sizeof config,
	         "{\"store\": {\"path\": \"%s\", \"fleet\": {\"address\": \"127.0.0.1:%d\","
	         " \"timeout_ms\": 500}}}",
	         store_dir, port);
	CHECK_INT(call(ext->sync, config, err, sizeof err), LBS_EIO);
	CHECK_CONTAINS(err, expect);
}

/* A Redis outage is not an error on the request path: a scheduler whose
 * store is in an unreachable fleet is made, chooses and learns as one
 * host alone would. */
static void fleet_down(const lbs_plugin_entry *e, const char *store_dir)
{
	static const lbs_device cpu = {
		.struct_size = sizeof(lbs_device), .hw_class = LBS_CLASS_CPU,
		.arch = LBS_ARCH_X86_64, .backends = LBS_BACKEND_CPU, .precisions = LBS_PREC_FP32,
		.mem_total_bytes = 16 * GB, .mem_available_bytes = 8 * GB, .compute_units = 8,
	};
	const lbs_device *devs[] = {&cpu};
	lbs_worker tw = {.struct_size = sizeof tw, .n_devices = 1, .id = "cpu-1", .devices = devs,
	                 .performance_level = 1.0, .capacity = 1,
	                 .pending_work_s = LBS_WORK_UNKNOWN};
	lbs_workload twl = {.struct_size = sizeof twl, .type = LBS_WL_INFERENCE, .id = "t",
	                    .test_type = "inference", .min_memory_bytes = GB,
	                    .compute_intensity = 0.5, .memory_intensity = 0.5,
	                    .io_intensity = 0.5, .network_intensity = 0.5,
	                    .latency_sensitivity = 0.5, .throughput_sensitivity = 0.5,
	                    .priority = 3, .min_shards = 1, .max_shards = 1};
	lbs_outcome done = {.struct_size = sizeof done, .workload_type = LBS_WL_INFERENCE,
	                    .worker_id = "cpu-1", .result = LBS_RESULT_SUCCESS, .duration_s = 1};
	const lbs_worker *workers[1];
	lbs_workload *wl = exact(&twl, sizeof twl);
	const lbs_scheduler_desc *d = find(e, "hardware-aware");
	char config[1024];
	void *inst;

	workers[0] = exact(&tw, sizeof tw);
	snprintf(config, sizeof config,
	         "{\"store\": {\"path\": \"%s\", \"batch_ms\": 0, \"fleet\": "
	         "{\"address\": \"127.0.0.1:%d\", \"timeout_ms\": 500}}}",
	         store_dir, closed_port());
	if (d && (inst = create(d, config))) {
		CHECK_STR(choose_in(d, inst, wl, workers, 1), "cpu-1");
		CHECK_INT(d->report(inst, &done), LBS_OK);
		d->destroy(inst);
	}
	free((void *)workers[0]);
	free(wl);
}

int main(void)
{
	char store_dir[512];
	const lbs_plugin_entry *e;
	void *so;

	if (!make_dir(store_dir, sizeof store_dir))
		return 1;
	if (!(e = open_plugin(&so)))
		return check_done("test_abi_v1_2_host");
	/* fleet_down's scheduler makes the store the sync then needs */
	fleet_down(e, store_dir);
	fleet_extension(e, store_dir);
	e->deinit();
	dlclose(so);
	remove_dir(store_dir);
	return check_done("test_abi_v1_2_host");
}
