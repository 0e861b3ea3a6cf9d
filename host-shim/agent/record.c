/*
 * record.c -- detected facts and live samples into the JSON a fleet file
 * holds.  Every number passes ag_num and every string came through ag_name,
 * so what leaves the agent is what the shim's converter accepts.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "record.h"

int ag_num(cJSON *obj, const char *key, double v, double lo, double hi)
{
	if (!isfinite(v) || v < lo || v > hi)
		return 0;
	return cJSON_AddNumberToObject(obj, key, v) ? 1 : -1;
}

static double r2(double v)
{
	return round(v * 100) / 100;
}

static void feature_list(cJSON *hs, unsigned f)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{AG_F_AVX, "avx"}, {AG_F_AVX2, "avx2"}, {AG_F_AVX512, "avx512"},
		{AG_F_NEON, "neon"}, {AG_F_SVE, "sve"}, {AG_F_SMT, "smt"},
		{AG_F_TSX, "tsx"},
	};
	cJSON *a = cJSON_AddArrayToObject(hs, "cpu_features");

	for (size_t i = 0; a && i < sizeof names / sizeof *names; i++)
		if (f & names[i].bit)
			cJSON_AddItemToArray(a, cJSON_CreateString(names[i].name));
}

static void isa_list(cJSON *hs, const char *isa)
{
	char buf[sizeof ((ag_caps *)0)->isa];
	cJSON *a = cJSON_AddArrayToObject(hs, "cpu_isa");

	snprintf(buf, sizeof buf, "%s", isa);
	for (char *s = NULL, *w = strtok_r(buf, " ", &s); a && w; w = strtok_r(NULL, " ", &s))
		cJSON_AddItemToArray(a, cJSON_CreateString(w));
}

static void topology(cJSON *hs, const ag_caps *c)
{
	char hex[16];

	ag_num(hs, "cpu_sockets", c->sockets, 1, AG_MAX_COUNT);
	cJSON *nodes = cJSON_AddArrayToObject(hs, "numa_nodes");
	for (unsigned i = 0; nodes && i < c->numa && i < AG_MAX_NUMA; i++) {
		cJSON *o = cJSON_CreateObject();
		if (!o)
			break;
		cJSON_AddItemToArray(nodes, o);
		ag_num(o, "node", i, 0, AG_MAX_COUNT);
		ag_num(o, "memory_gb", r2(c->numa_kb[i] / 1048576.0), 0, AG_MAX_GB);
	}
	cJSON *caches = cJSON_AddArrayToObject(hs, "cpu_caches");
	for (unsigned i = 0; caches && i < c->n_caches; i++) {
		cJSON *o = cJSON_CreateObject();
		if (!o)
			break;
		cJSON_AddItemToArray(caches, o);
		ag_num(o, "level", c->caches[i].level, 1, 8);
		cJSON_AddStringToObject(o, "type", c->caches[i].type);
		ag_num(o, "size_kb", (double)(c->caches[i].size / 1024), 0, 1e9);
		ag_num(o, "count", c->caches[i].count, 1, AG_MAX_COUNT);
	}
	cJSON *pci = cJSON_AddArrayToObject(hs, "pci_devices");
	for (unsigned i = 0; pci && i < c->n_pci; i++) {
		cJSON *o = cJSON_CreateObject();
		if (!o)
			break;
		cJSON_AddItemToArray(pci, o);
		cJSON_AddStringToObject(o, "address", c->pci[i].addr);
		snprintf(hex, sizeof hex, "0x%04x", c->pci[i].vendor & 0xffff);
		cJSON_AddStringToObject(o, "vendor_id", hex);
		snprintf(hex, sizeof hex, "0x%04x", c->pci[i].device & 0xffff);
		cJSON_AddStringToObject(o, "device_id", hex);
		snprintf(hex, sizeof hex, "0x%04x", c->pci[i].class_id & 0xffff);
		cJSON_AddStringToObject(o, "class_id", hex);
	}
	ag_num(hs, "pci_devices_total", c->pci_total, 0, AG_MAX_COUNT);
}

static void gpus(cJSON *hs, const ag_caps *c)
{
	char cc[16];

	if (!c->n_gpus)
		return;
	/* The flat gpu_* fields describe the first GPU, as the original's
	 * records do; "gpus" lists every one. */
	const ag_gpu *g = &c->gpus[0];
	cJSON_AddStringToObject(hs, "gpu_vendor", g->vendor);
	cJSON_AddStringToObject(hs, "gpu_name", g->name);
	ag_num(hs, "gpu_memory_gb", r2(g->mem_gb), AG_MIN_GB, AG_MAX_GB);
	ag_num(hs, "gpu_compute_units", g->sm, 1, AG_MAX_COUNT);
	ag_num(hs, "gpu_clock_mhz", g->clock_mhz, 1, AG_MAX_MHZ);
	if (g->tensor >= 0)
		cJSON_AddBoolToObject(hs, "gpu_tensor_cores", g->tensor);
	ag_num(hs, "gpu_tdp_watts", r2(g->tdp_w), AG_MIN_WATTS, AG_MAX_WATTS);
	cJSON *all = cJSON_AddArrayToObject(hs, "gpus");
	for (unsigned i = 0; all && i < c->n_gpus; i++) {
		cJSON *o = cJSON_CreateObject();
		if (!o)
			break;
		g = &c->gpus[i];
		cJSON_AddItemToArray(all, o);
		cJSON_AddStringToObject(o, "vendor", g->vendor);
		cJSON_AddStringToObject(o, "name", g->name);
		cJSON_AddStringToObject(o, "source", g->source);
		ag_num(o, "memory_gb", r2(g->mem_gb), AG_MIN_GB, AG_MAX_GB);
		ag_num(o, "compute_units", g->sm, 1, AG_MAX_COUNT);
		ag_num(o, "clock_mhz", g->clock_mhz, 1, AG_MAX_MHZ);
		ag_num(o, "tdp_watts", r2(g->tdp_w), AG_MIN_WATTS, AG_MAX_WATTS);
		if (g->cc_major >= 0) {
			snprintf(cc, sizeof cc, "%d.%d", g->cc_major, g->cc_minor);
			cJSON_AddStringToObject(o, "compute_capability", cc);
		}
		if (g->tensor >= 0)
			cJSON_AddBoolToObject(o, "tensor_cores", g->tensor);
	}
}

cJSON *ag_record(const ag_caps *c)
{
	cJSON *r = cJSON_CreateObject();
	unsigned nv = 0, amd = 0;

	if (!r)
		return NULL;
	for (unsigned i = 0; i < c->n_gpus; i++) {
		nv += !strcmp(c->gpus[i].source, "nvml");
		amd += !strcmp(c->gpus[i].source, "rocm-smi");
	}
	cJSON_AddStringToObject(r, "worker_id", c->id);
	if (c->host[0]) /* a recorded tree may not say */
		cJSON_AddStringToObject(r, "hostname", c->host);
	cJSON *be = cJSON_AddArrayToObject(r, "supported_backends");
	if (be) {
		cJSON_AddItemToArray(be, cJSON_CreateString("cpu"));
		if (nv)
			cJSON_AddItemToArray(be, cJSON_CreateString("cuda"));
		if (amd)
			cJSON_AddItemToArray(be, cJSON_CreateString("rocm"));
	}
	cJSON *sv = cJSON_AddObjectToObject(r, "software_versions");
	cJSON *bs = cJSON_AddArrayToObject(r, "browser_support");
	for (unsigned i = 0; sv && bs && i < c->n_browsers; i++) {
		cJSON_AddItemToArray(bs, cJSON_CreateString(c->browsers[i].name));
		if (c->browsers[i].version[0])
			cJSON_AddStringToObject(sv, c->browsers[i].name, c->browsers[i].version);
	}
	if (sv && c->nv_driver[0])
		cJSON_AddStringToObject(sv, "nvidia_driver", c->nv_driver);
	if (sv && c->cuda[0])
		cJSON_AddStringToObject(sv, "cuda", c->cuda);
	cJSON_AddBoolToObject(r, "has_gpu", c->n_gpus > 0);
	cJSON *acc = cJSON_AddObjectToObject(r, "available_accelerators");
	if (acc) {
		ag_num(acc, "gpu", c->n_gpus + c->gpus_over, 1, AG_MAX_COUNT);
		ag_num(acc, "npu", c->npus, 1, AG_MAX_COUNT);
		ag_num(acc, "tpu", c->tpus, 1, AG_MAX_COUNT);
	}
	ag_num(r, "available_memory",
	       r2((c->cg.limit ? c->cg.limit / 1024 : c->mem_kb) / 1048576.0), AG_MIN_GB,
	       AG_MAX_GB);
	ag_num(r, "cpu_cores", c->cores, 1, AG_MAX_COUNT);
	ag_num(r, "cpu_threads", c->threads, 1, AG_MAX_COUNT);

	cJSON *hs = cJSON_AddObjectToObject(r, "hardware_specs");
	if (!hs)
		goto oom;
	if (c->arch[0])
		cJSON_AddStringToObject(hs, "cpu_arch", c->arch);
	if (c->vendor[0])
		cJSON_AddStringToObject(hs, "cpu_vendor", c->vendor);
	if (c->model[0])
		cJSON_AddStringToObject(hs, "cpu_model", c->model);
	ag_num(hs, "cpu_clock_mhz", c->clock_mhz, 1, AG_MAX_MHZ);
	feature_list(hs, c->feats);
	isa_list(hs, c->isa);
	ag_num(hs, "total_memory_gb", r2(c->mem_kb / 1048576.0), AG_MIN_GB, AG_MAX_GB);
	ag_num(hs, "total_memory_kb", (double)c->mem_kb, 1, AG_MAX_GB * 1048576);
	topology(hs, c);
	gpus(hs, c);
	if (c->npus && c->npu_vendor[0])
		cJSON_AddStringToObject(hs, "npu_vendor", c->npu_vendor);
	return r;
oom:
	cJSON_Delete(r);
	return NULL;
}

static void iso_time(time_t t, char *buf, size_t n)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, n, "1970-01-01T00:00:00Z");
}

cJSON *ag_load_json(const char *worker_id, const ag_load *l)
{
	cJSON *o = cJSON_CreateObject();
	char ts[32];

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "worker_id", worker_id);
	ag_num(o, "cpu_utilization", r2(l->cpu), 0, 100);
	ag_num(o, "memory_utilization", r2(l->memory), 0, 100);
	ag_num(o, "gpu_utilization", r2(l->gpu), 0, 100);
	ag_num(o, "temperature", r2(l->temperature), 0, 1);
	/* the converter refuses both at once; cooling (throttled) wins */
	cJSON_AddBoolToObject(o, "warming_state", l->warming && !l->cooling);
	cJSON_AddBoolToObject(o, "cooling_state", l->cooling);
	ag_num(o, "performance_level", r2(l->performance_level), 0, 1);
	iso_time(l->now, ts, sizeof ts);
	cJSON_AddStringToObject(o, "last_updated", ts);
	return o;
}
