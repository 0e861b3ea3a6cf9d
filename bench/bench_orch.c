/*
 * bench_orch.c -- issue 20's placement cost: per subtask, the orchestrator's
 * orch_place + orch_record next to one bare sched_select of the same
 * workload on the same fleet (goal: at most 2x).  A measurement, never a
 * test.
 *
 *   bench_orch [--plugin PATH] [--workers 512] [--subtasks 2000] [--schedulers a,b]
 *
 * The graph is `subtasks` independent subtasks (their requirements a
 * rotating mix), so every one is ready; orch_ready is timed apart, once
 * per round as a host calls it per wave of ready work.  Times are the
 * thread's CPU time; each column is the median of ROUNDS rounds, and the
 * ratio the median of each round's own ratio.
 *
 * Then the cost of loading a graph of 10,000 subtasks that each depend on
 * the 20 before (the documented largest, densely linked) against cJSON's
 * parse of the same text: each dependency is found by its id (a linear
 * search made it 10^9 compares, 4 s).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fleetgen.h"
#include "host.h"
#include "orch.h"
#include "scheduler.h"

/* Timed rounds, after one that warms. */
#define ROUNDS 9

static const char *const kinds[] = {
	"{\"test_type\": \"vision_image_classification\", \"minimum_memory\": 2, \"expected_duration\": 30}",
	"{\"test_type\": \"nlp_text_generation\", \"minimum_memory\": 4, \"expected_duration\": 60}",
	"{\"test_type\": \"audio_speech\", \"minimum_memory\": 1, \"expected_duration\": 20}",
	"{\"test_type\": \"sentence_embedding\", \"minimum_memory\": 1, \"expected_duration\": 10}",
};

static char *graph_text(uint32_t n)
{
	size_t cap = (size_t)n * 160 + 64, len = 0;
	char *t = malloc(cap);

	len += (size_t)snprintf(t + len, cap - len, "{\"name\": \"bench\", \"subtasks\": {");
	for (uint32_t i = 0; i < n; i++)
		len += (size_t)snprintf(t + len, cap - len, "%s\"s%u\": {\"requirements\": %s}",
		                        i ? "," : "", i, kinds[i % 4]);
	snprintf(t + len, cap - len, "}}");
	return t;
}

/* n subtasks, each depending on the (up to) k before it. */
static char *dense_text(uint32_t n, uint32_t k)
{
	size_t cap = (size_t)n * (32 + 10 * k) + 64, len = 0;
	char *t = malloc(cap);

	len += (size_t)snprintf(t + len, cap - len, "{\"subtasks\": {");
	for (uint32_t i = 0; i < n; i++) {
		len += (size_t)snprintf(t + len, cap - len, "%s\"s%u\": {\"dependencies\": [",
		                        i ? "," : "", i);
		for (uint32_t from = i > k ? i - k : 0, j = from; j < i; j++)
			len += (size_t)snprintf(t + len, cap - len, "%s\"s%u\"", j > from ? "," : "", j);
		len += (size_t)snprintf(t + len, cap - len, "]}");
	}
	snprintf(t + len, cap - len, "}}");
	return t;
}

/* orch_load of the dense graph against cJSON_Parse of its text, best of 3. */
static void bench_load(void)
{
	char *text = dense_text(10000, 20), err[1024];
	uint64_t best_load = UINT64_MAX, best_parse = UINT64_MAX;

	for (int r = 0; r < 3; r++) {
		uint64_t t0 = now_ns(), t1, t2;
		cJSON *doc = cJSON_Parse(text);
		t1 = now_ns();
		orch *o = orch_load(text, strlen(text), "dense", NULL, 1, err, sizeof err);
		t2 = now_ns();
		if (!doc || !o) {
			fprintf(stderr, "bench_orch: the dense graph: %s\n", doc ? err : "not JSON");
			exit(1);
		}
		cJSON_Delete(doc);
		orch_free(o);
		if (t1 - t0 < best_parse)
			best_parse = t1 - t0;
		if (t2 - t1 < best_load)
			best_load = t2 - t1;
	}
	printf("graph load, 10000 subtasks x 20 dependencies: orch_load %.1f ms, cJSON_Parse of "
	       "the same text %.1f ms, ratio %.2f\n", (double)best_load / 1e6,
	       (double)best_parse / 1e6, (double)best_load / (double)best_parse);
	free(text);
}

int main(int argc, char **argv)
{
	const char *plugin = NULL, *scheds = "hardware-aware,round-robin";
	uint32_t nw = 512, ns = 2000;
	shim_host *h = host_new("bench", LBS_LOG_ERROR);
	char err[1024], *text, *list, *name, *save = NULL;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--plugin"))
			plugin = argv[i + 1];
		else if (!strcmp(argv[i], "--workers"))
			nw = (uint32_t)atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--subtasks"))
			ns = (uint32_t)atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--schedulers"))
			scheds = argv[i + 1];
		else {
			fprintf(stderr, "bench_orch: unknown option %s\n", argv[i]);
			return 1;
		}
	}
	genfleet f = genfleet_make(nw, 2, 42);
	text = graph_text(ns);
	list = strdup(scheds);
	printf("%-16s %8s %9s %14s %14s %7s %14s\n", "scheduler", "workers", "subtasks",
	       "select ns", "place ns", "ratio", "ready ns/sub");
	for (name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		shim_sched *s;
		orch *o;
		uint32_t idx[1], w, *ready = malloc(ns * sizeof *ready);
		const char *ids[1];
		char reason[256];
		uint64_t t0, t_ready;
		double sel_r[ROUNDS], place_r[ROUNDS], ratio_r[ROUNDS];
		uint32_t placed = 0;

		if (sched_open(h, plugin, name, NULL, 0, &s, err, sizeof err) != LBS_OK) {
			fprintf(stderr, "bench_orch: %s\n", err);
			return 1;
		}
		/* Round 0 warms caches and the scheduler's state; it is not
		 * counted.  Each round times its two sides back to back and
		 * gives its own ratio: one block per side over every round let
		 * a preemption land on one side alone (0.5x to 17x under load). */
		for (uint32_t r = 0; r <= ROUNDS; r++) {
			uint64_t t_sel, t_place;

			if (!(o = orch_load(text, strlen(text), "bench", NULL, 1, err, sizeof err))) {
				fprintf(stderr, "bench_orch: %s\n", err);
				return 1;
			}
			/* One bare select per subtask: the reference. */
			t0 = cpu_ns();
			for (uint32_t i = 0; i < ns; i++) {
				lbs_selection sel = {.struct_size = sizeof sel, .capacity = 1,
				                     .indices = idx, .ids = ids, .reason = reason,
				                     .reason_len = sizeof reason};
				sched_select(s, orch_workload(o, i), (const lbs_worker *const *)f.workers,
				             f.n, &sel, NULL);
			}
			t_sel = cpu_ns() - t0;
			/* The orchestrator: place and record each. */
			t0 = cpu_ns();
			for (uint32_t i = 0; i < ns; i++) {
				orch_result res = {1, 1.0, NULL, 1, 0};
				if (orch_place(o, i, s, (const lbs_worker *const *)f.workers, f.n, 1,
				               &w, NULL) == LBS_OK) {
					orch_record(o, i, &res, err, sizeof err);
					placed += r > 0;
				}
			}
			t_place = cpu_ns() - t0;
			orch_free(o);
			if (r > 0) {
				sel_r[r - 1] = (double)t_sel / ns;
				place_r[r - 1] = (double)t_place / ns;
				ratio_r[r - 1] = (double)t_place / (double)(t_sel ? t_sel : 1);
			}
		}
		o = orch_load(text, strlen(text), "bench", NULL, 1, err, sizeof err);
		t0 = now_ns();
		orch_ready(o, 0, ready, ns);
		t_ready = now_ns() - t0;
		orch_free(o);
		printf("%-16s %8u %9u %14.0f %14.0f %7.2f %14.1f%s\n", name, f.n, ns,
		       median_of(sel_r, ROUNDS), median_of(place_r, ROUNDS),
		       median_of(ratio_r, ROUNDS), (double)t_ready / ns,
		       placed == ROUNDS * ns ? "" : "  (some found no worker)");
		free(ready);
		sched_close(s);
	}
	free(list);
	free(text);
	genfleet_free(&f);
	host_free(h);
	bench_load();
	return 0;
}
