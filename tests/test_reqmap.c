/*
 * test_reqmap.c -- request values (nginx headers) to a workload: what each
 * field takes, and which reason an ignored value gets.  The nginx test
 * checks the same mapping end to end through a real nginx.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "reqmap.h"
#include "taxonomy.h"

static rq_text text;
static const char *why[RQ_COUNT];

/* The workload for one value in field f, every other field absent;
 * returns how many values were ignored. */
static int one(int f, const char *v, lbs_workload *w)
{
	rq_value vals[RQ_COUNT] = {{NULL, 0}};

	vals[f].data = v;
	vals[f].len = v ? strlen(v) : 0;
	return rq_workload(vals, &text, w, why);
}

static void test_defaults(void)
{
	lbs_workload w;

	CHECK_INT(one(RQ_TEST_TYPE, NULL, &w), 0);
	CHECK_INT(w.struct_size, sizeof w);
	CHECK(w.test_type == NULL && w.model_id == NULL);
	CHECK_INT(w.priority, 3);
	CHECK_INT(w.allocation, LBS_ALLOC_SINGLE);
	CHECK_INT(w.min_shards, 1);
	CHECK_INT(w.max_shards, 1);
	CHECK_INT(w.min_memory_bytes, 0);
	CHECK_NEAR(w.memory_intensity, 0.5, 0);
	CHECK_NEAR(w.compute_intensity, 0.5, 0);
	CHECK_INT(w.required_backends, 0);
	CHECK_INT(w.preferred_backends, 0);
	CHECK_INT(w.type, tax_workload_from_test_type(NULL));
	for (int i = 0; i < RQ_COUNT; i++)
		CHECK(why[i] == NULL);
	/* an empty value is absent, not ignored */
	CHECK_INT(one(RQ_PRIORITY, "", &w), 0);
	CHECK_INT(w.priority, 3);
}

static void test_accepted(void)
{
	lbs_workload w;
	const char *given[RQ_COUNT] = {"vision_classification", "resnet50", "32", "1",
	                               "cuda,tensorrt", "cuda", "300", "600"};
	rq_value vals[RQ_COUNT];

	for (int i = 0; i < RQ_COUNT; i++)
		vals[i] = (rq_value){given[i], strlen(given[i])};
	CHECK_INT(rq_workload(vals, &text, &w, why), 0);
	CHECK_STR(w.test_type, "vision_classification");
	CHECK(w.test_type == text.test_type);
	CHECK_INT(w.type, LBS_WL_VISION);
	CHECK_STR(w.model_id, "resnet50");
	CHECK_INT(w.min_memory_bytes, 32ull << 30);
	CHECK_NEAR(w.memory_intensity, 1, 0);
	CHECK_INT(w.priority, 1);
	CHECK_INT(w.required_backends, LBS_BACKEND_CUDA | LBS_BACKEND_TENSORRT);
	CHECK_INT(w.preferred_backends, LBS_BACKEND_CUDA);
	CHECK_NEAR(w.est_duration_s, 300, 0);
	CHECK_NEAR(w.compute_intensity, 0.8, 0);
	CHECK_NEAR(w.deadline_s, 600, 0);

	/* an HTTP list's optional whitespace, beside its commas and at its
	 * ends ("cuda, tensorrt" was refused whole, and a request that
	 * required CUDA went to any server) */
	{
		static const char *const lists[] = {"cuda, tensorrt", " cuda ,\ttensorrt\t",
		                                    "cuda ,  tensorrt"};

		for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
			CHECK_INT(one(RQ_REQUIRED_BACKEND, lists[i], &w), 0);
			CHECK_INT(w.required_backends, LBS_BACKEND_CUDA | LBS_BACKEND_TENSORRT);
		}
		CHECK_INT(one(RQ_PRIORITY, " 2 ", &w), 0);
		CHECK_INT(w.priority, 2);
		CHECK_INT(one(RQ_TEST_TYPE, " vision ", &w), 0);
		CHECK_STR(w.test_type, "vision");
		CHECK_INT(one(RQ_TEST_TYPE, "  ", &w), 0); /* blank: not stated */
		CHECK(w.test_type == NULL);
	}

	/* values need not be NUL-terminated: nginx's are not */
	vals[RQ_PRIORITY] = (rq_value){"45", 1};
	vals[RQ_TEST_TYPE] = (rq_value){"nlpXXXX", 3};
	CHECK_INT(rq_workload(vals, &text, &w, why), 0);
	CHECK_INT(w.priority, 4);
	CHECK_STR(w.test_type, "nlp");
	CHECK_INT(w.type, LBS_WL_NLP);

	CHECK_INT(one(RQ_MIN_MEMORY, "4", &w), 0);
	CHECK_NEAR(w.memory_intensity, 0.25, 1e-12);
	CHECK_INT(one(RQ_EXPECTED_DURATION, "5", &w), 0);
	CHECK_NEAR(w.compute_intensity, 0.3, 0);
	CHECK_INT(one(RQ_EXPECTED_DURATION, "60", &w), 0);
	CHECK_NEAR(w.compute_intensity, 0.5, 0);
	/* a stated 0 is the smallest, not "not known" (0.5): the metric
	 * grows with the value, as the shim maps it */
	CHECK_INT(one(RQ_MIN_MEMORY, "0", &w), 0);
	CHECK_NEAR(w.memory_intensity, 0, 0);
	CHECK_INT(w.min_memory_bytes, 0);
	CHECK_INT(one(RQ_MIN_MEMORY, "0.1", &w), 0);
	CHECK_NEAR(w.memory_intensity, tax_memory_intensity(0.1), 0);
	CHECK_INT(one(RQ_EXPECTED_DURATION, "0", &w), 0);
	CHECK_NEAR(w.compute_intensity, 0.3, 0);
	CHECK_NEAR(w.est_duration_s, 0, 0);
	/* a plus sign and leading zeros, as a person writes a header: the
	 * memory requirement was dropped for them */
	CHECK_INT(one(RQ_MIN_MEMORY, "0100", &w), 0);
	CHECK_INT(w.min_memory_bytes, 100ull << 30);
	CHECK_INT(one(RQ_MIN_MEMORY, "+100", &w), 0);
	CHECK_INT(w.min_memory_bytes, 100ull << 30);
	CHECK_INT(one(RQ_MIN_MEMORY, "00.5", &w), 0);
	CHECK_INT(w.min_memory_bytes, 1ull << 29);
	CHECK_INT(one(RQ_PRIORITY, "03", &w), 0);
	CHECK_INT(w.priority, 3);
	CHECK_INT(one(RQ_PRIORITY, "+1", &w), 0);
	CHECK_INT(w.priority, 1);
}

/* Each bad value leaves its field at the default and says why. */
static void test_ignored(void)
{
	static const struct {
		int field;
		const char *value;
		const char *why;
	} cases[] = {
		{RQ_PRIORITY, "99", "is not a whole number from 1 to 5"},
		{RQ_PRIORITY, "0", "is not a whole number from 1 to 5"},
		{RQ_PRIORITY, "2.5", "is not a whole number from 1 to 5"},
		{RQ_PRIORITY, "nan", "is not a whole number from 1 to 5"},
		{RQ_PRIORITY, "2 5", "has a character outside [A-Za-z0-9_.:/,+-]"},
		{RQ_REQUIRED_BACKEND, "cuda tensorrt", "has a character outside [A-Za-z0-9_.:/,+-]"},
		{RQ_MIN_MEMORY, "1e999", "is not a number of GB from 0 to 1048576"},
		{RQ_MIN_MEMORY, "-1", "is not a number of GB from 0 to 1048576"},
		{RQ_MIN_MEMORY, "1048577", "is not a number of GB from 0 to 1048576"},
		{RQ_EXPECTED_DURATION, "5s", "is not a number of seconds from 0 to 604800"},
		{RQ_EXPECTED_DURATION, "inf", "is not a number of seconds from 0 to 604800"},
		/* strtod's hex and C forms are no header's decimal */
		{RQ_EXPECTED_DURATION, "0x10", "is not a number of seconds from 0 to 604800"},
		{RQ_EXPECTED_DURATION, "0x1p3", "is not a number of seconds from 0 to 604800"},
		{RQ_MIN_MEMORY, "+-4", "is not a number of GB from 0 to 1048576"},
		{RQ_MIN_MEMORY, "++4", "is not a number of GB from 0 to 1048576"},
		{RQ_MIN_MEMORY, "4.", "is not a number of GB from 0 to 1048576"},
		{RQ_DEADLINE, "-1", "is not a number of seconds from 0 to 604800"},
		{RQ_DEADLINE, "604801", "is not a number of seconds from 0 to 604800"},
		{RQ_REQUIRED_BACKEND, "cuda,bogus", "names an unknown backend"},
		{RQ_REQUIRED_BACKEND, "cuda,bogus!", "has a character outside [A-Za-z0-9_.:/,+-]"},
		{RQ_PREFERRED_BACKEND, ",,", "names no backend"},
		{RQ_TEST_TYPE, "vision\nX-Forged: 1", "has a character outside [A-Za-z0-9_.:/,+-]"},
		{RQ_MODEL_ID, "model\"id", "has a character outside [A-Za-z0-9_.:/,+-]"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		lbs_workload w;
		int f = cases[i].field;

		CHECK_INT(one(f, cases[i].value, &w), 1);
		CHECK_STR(why[f], cases[i].why);
		CHECK_INT(w.priority, 3);
		CHECK_INT(w.min_memory_bytes, 0);
		CHECK_INT(w.required_backends | w.preferred_backends, 0);
		CHECK(w.test_type == NULL && w.model_id == NULL);
		CHECK_NEAR(w.est_duration_s + w.deadline_s, 0, 0);
		/* an ignored value is not known, as an absent one */
		CHECK_NEAR(w.memory_intensity, 0.5, 0);
		CHECK_NEAR(w.compute_intensity, 0.5, 0);
	}

	/* 256 bytes are taken, 257 are not */
	{
		char v[RQ_MAX_VALUE + 2];
		lbs_workload w;

		memset(v, 'v', sizeof v - 1);
		v[RQ_MAX_VALUE] = '\0';
		CHECK_INT(one(RQ_TEST_TYPE, v, &w), 0);
		CHECK_INT(strlen(w.test_type), RQ_MAX_VALUE);
		v[RQ_MAX_VALUE] = 'v';
		v[RQ_MAX_VALUE + 1] = '\0';
		CHECK_INT(one(RQ_TEST_TYPE, v, &w), 1);
		CHECK_STR(why[RQ_TEST_TYPE], "is longer than 256 bytes");
		CHECK(w.test_type == NULL);
	}

	/* several at once: each named, the good ones kept */
	{
		rq_value vals[RQ_COUNT] = {{NULL, 0}};
		lbs_workload w;

		vals[RQ_PRIORITY] = (rq_value){"7", 1};
		vals[RQ_DEADLINE] = (rq_value){"x", 1};
		vals[RQ_MODEL_ID] = (rq_value){"bert", 4};
		CHECK_INT(rq_workload(vals, &text, &w, why), 2);
		CHECK(why[RQ_PRIORITY] && why[RQ_DEADLINE] && !why[RQ_MODEL_ID]);
		CHECK_STR(w.model_id, "bert");
	}
	CHECK_STR(rq_field_name[RQ_REQUIRED_BACKEND], "required backend");
}

int main(void)
{
	test_defaults();
	test_accepted();
	test_ignored();
	return check_done("test_reqmap");
}
