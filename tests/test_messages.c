/*
 * test_messages.c -- error messages quote text from the input on one line.
 *
 * The fuzz targets (tests/fuzz/regress/) found that the plugin quoted field
 * names, scheduler names, routes and values into its messages as they came:
 * an escaped newline in a config key or a store document's field made a
 * two-line message, i.e. a forged log line in a load balancer's log.  Each
 * case below is one of those inputs; the message must now name the same
 * thing with the control byte shown as \xNN.  Likewise the select reason,
 * which quotes worker ids: fuzz_fleet found a control byte in one going
 * straight into the sentence a host logs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "loader.h"
#include "support.h"
#include "text.h"

static char err[2048];

/* No byte below 0x20 and valid UTF-8: one line, whatever it quotes. */
static int one_line(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* create() of `name` with `config`: the status, the message in err. */
static lbs_status create(const char *name, const char *config)
{
	shim_sched *s = NULL;
	lbs_status st;

	err[0] = '\0';
	st = sched_open(test_host(), getenv("LBS_PLUGIN"), name, config, strlen(config), &s, err,
	                sizeof err);
	sched_close(s);
	return st;
}

static void test_show(void)
{
	char buf[96], long_in[200];

	CHECK_STR(txt_show(buf, sizeof buf, "load\nceiling"), "load\\x0aceiling");
	CHECK_STR(txt_show(buf, sizeof buf, "a\rb\x7f"), "a\\x0db\\x7f");
	/* a backslash is doubled: text spelling an escape is not the byte */
	CHECK_STR(txt_show(buf, sizeof buf, "a\\x1b"), "a\\\\x1b");
	CHECK_STR(txt_show(buf, sizeof buf, "a\x1b"), "a\\x1b");
	/* Valid UTF-8 stays readable; invalid gets every high byte escaped. */
	CHECK_STR(txt_show(buf, sizeof buf, "caf\xc3\xa9"), "caf\xc3\xa9");
	CHECK_STR(txt_show(buf, sizeof buf, "caf\xc3"), "caf\\xc3");
	CHECK_STR(txt_show(buf, sizeof buf, NULL), "");
	/* Valid UTF-8 that a terminal still obeys or turns backwards: a C1
	 * CSI (ESC's 8-bit twin) and a right-to-left override ("evil" then
	 * "gnp.exe" read backwards as "exe.png"), each as its code point. */
	CHECK_STR(txt_show(buf, sizeof buf, "evil\xc2\x9b" "31m\xe2\x80\xae" "gnp.exe"),
	          "evil\\u009b31m\\u202egnp.exe");
	CHECK_STR(txt_show(buf, sizeof buf, "a\xd8\x9c" "b\xe2\x81\xa6" "c\xe2\x80\x8f"),
	          "a\\u061cb\\u2066c\\u200f");
	/* their neighbours are letters, kept */
	CHECK_STR(txt_show(buf, sizeof buf, "\xc2\xa0\xe2\x80\xaf\xe2\x81\xaa"),
	          "\xc2\xa0\xe2\x80\xaf\xe2\x81\xaa");
	memset(long_in, 'x', sizeof long_in - 1);
	long_in[sizeof long_in - 1] = '\0';
	txt_show(buf, sizeof buf, long_in);
	CHECK(strlen(buf) < 80);
	CHECK(strcmp(buf + strlen(buf) - 3, "...") == 0);
	CHECK_INT(txt_utf8_valid("caf\xc3\xa9"), 1);
	CHECK_INT(txt_utf8_valid("\xed\xa0\x80"), 0); /* a surrogate */
}

static void test_one_line(void)
{
	char a[] = "a\nb\x01" "c", cut[] = "caf\xc3", bad[] = "a\xff\xc3\xa9" "b", ok[] = "caf\xc3\xa9";

	{
		char bidi[] = "w\xe2\x80\xae" "1\xc2\x9b";

		txt_one_line(bidi);
		CHECK_STR(bidi, "w???1??");
	}
	txt_one_line(a);
	CHECK_STR(a, "a?b?c");
	txt_one_line(cut); /* snprintf cut the last character in two */
	CHECK_STR(cut, "caf");
	txt_one_line(bad);
	CHECK_STR(bad, "a???b");
	txt_one_line(ok);
	CHECK_STR(ok, "caf\xc3\xa9");
}

/* A number on a command line: JSON's decimals, and the forms a person
 * types that JSON spells otherwise; never a point alone or other words. */
static void test_typed_decimal(void)
{
	static const struct {
		const char *s;
		double v; /* NAN: refused */
	} cases[] = {
		{".5", 0.5}, {"5.", 5.0}, {"+.5", 0.5}, {"-.5", -0.5}, {"+2", 2.0}, {"0.25", 0.25},
		{"1e-1", 0.1}, {"5.e3", 5000.0}, {"-.5e3", -500.0}, {".", NAN}, {"-.", NAN},
		{"+", NAN}, {"", NAN}, {"++5", NAN}, {"+-5", NAN}, {".e1", NAN}, {"0x10", NAN},
		{"inf", NAN}, {" 5", NAN}, {"5 ", NAN}, {"1..", NAN}, {"5..", NAN}, {"1e5.", NAN},
		{"1e-400", NAN},
	};

	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
		double v = -99.0;
		int got = txt_typed_decimal(cases[k].s, &v);

		if (isnan(cases[k].v)) {
			CHECK_INT(got, 0);
		} else {
			CHECK_INT(got, 1);
			CHECK(v == cases[k].v);
		}
		if (got != !isnan(cases[k].v))
			fprintf(stderr, "    txt_typed_decimal(\"%s\")\n", cases[k].s);
	}
	/* JSON's grammar alone where no person types: a header's value */
	CHECK_INT(txt_decimal(".5", &(double){0}), 0);
}

/* The select reason quotes worker ids, which are the host's input. */
static void test_reason(void)
{
	fleet f = fleet_parse("[{\"worker_id\": \"cpu\\u0001x\", \"cpu_cores\": 8, "
	                      "\"available_memory\": 16},"
	                      " {\"worker_id\": \"cpu\\ny\", \"cpu_cores\": 4, "
	                      "\"available_memory\": 16}]");
	arena *a = arena_new();
	lbs_workload wl = workload_parse(a, "{\"test_id\": \"t\", \"test_type\": \"vision\", "
	                                 "\"custom_properties\": {\"allocation_strategy\": "
	                                 "\"replicated\", \"min_shards\": 2, \"max_shards\": 2}}");
	const char *names[] = {"hardware-aware", "priority", "round-robin", "composite"};
	const char *configs[] = {NULL, NULL, NULL,
	                         "{\"children\": [{\"scheduler\": \"hardware-aware\"}]}"};

	for (int i = 0; i < 4; i++) {
		shim_sched *s = test_sched(names[i], configs[i]);
		const char *got = pick(s, &wl, &f);

		CHECK(strstr(got, "cpu\x01x") != NULL);
		CHECK(pick_reason()[0] != '\0');
		CHECK(one_line(pick_reason()));
		if (i == 0) /* hardware-aware names the best of several */
			CHECK(strstr(pick_reason(), "cpu?x") || strstr(pick_reason(), "cpu?y"));
		sched_close(s);
	}
	arena_free(a);
	fleet_free(&f);
}

static void test_configs(void)
{
	CHECK_INT(create("round-robin", "{\"load\\nceiling\": 1}"), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'load\\x0aceiling': unknown field");
	CHECK(one_line(err));

	CHECK_INT(create("hardware-aware", "{\"weights\": {\"comp\\nute\": 1}}"), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'weights.comp\\x0aute': unknown factor");
	CHECK(one_line(err));

	CHECK_INT(create("hardware-aware", "{\"weights\": {\"compute\": 1, \"compute\": 2}}"),
	          LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'weights.compute': given more than once");

	/* Refused while reading the store object: no directory is made. */
	CHECK_INT(create("priority", "{\"store\": {\"path\": \"never-made\", "
	                 "\"on_error\": \"mem\\nory\"}}"), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'store.on_error': must be \"refuse\" or \"memory\", "
	               "got \"mem\\x0aory\"");
	CHECK(one_line(err));
	CHECK_INT(create("priority", "{\"store\": {\"path\": \"never-made\", "
	                 "\"file_mode\": \"06\\r00\"}}"), LBS_ECONFIG);
	CHECK_CONTAINS(err, "got \"06\\x0d00\"");
	CHECK(one_line(err));
	/* octal digits only: strtoul would take the blank and the sign */
	CHECK_INT(create("priority", "{\"store\": {\"path\": \"never-made\", "
	                 "\"file_mode\": \" 600\"}}"), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'store.file_mode': must be an octal mode like");
	CHECK_INT(create("priority", "{\"store\": {\"path\": \"never-made\", "
	                 "\"file_mode\": \"+0640\"}}"), LBS_ECONFIG);
	CHECK_CONTAINS(err, "got \"+0640\"");
	CHECK(access("never-made", F_OK) != 0);
}

/* A store path as long as a store takes (1,024 bytes) still leaves room
 * for the problem in the message; a longer one is refused as such. */
static void test_long_store_path(void)
{
	char path[1100], config[1200];
	size_t n;

	n = (size_t)snprintf(path, sizeof path, "%s/missing/", getenv("TMPDIR") ? getenv("TMPDIR")
	                                                                        : "/tmp");
	memset(path + n, 'x', 1024 - n);
	path[1024] = '\0';
	snprintf(config, sizeof config, "{\"store\": {\"path\": \"%s\"}}", path);
	CHECK_INT(create("hardware-aware", config), LBS_EIO);
	CHECK_CONTAINS(err, path);
	CHECK_CONTAINS(err, "': cannot create the directory: its parent does not exist (the "
	                    "store makes its own directory, not those above it)");
	path[1024] = 'x';
	path[1025] = '\0';
	snprintf(config, sizeof config, "{\"store\": {\"path\": \"%s\"}}", path);
	CHECK_INT(create("hardware-aware", config), LBS_ECONFIG);
	CHECK_STR(err, "scheduler 'hardware-aware': config field 'store.path': is 1025 bytes, "
	               "more than 1024");
}

/* Issue 15: a config is exactly one document, and too deep nesting is
 * called that, not a syntax error at byte 1000. */
static void test_config_document(void)
{
	char deep[1100];

	CHECK_INT(create("round-robin", "{}}"), LBS_ECONFIG);
	CHECK_STR(err, "scheduler 'round-robin': config: text after the JSON document at byte 2");
	CHECK_INT(create("priority", "{} {\"bogus\": 1}"), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config: text after the JSON document at byte 3");
	CHECK_INT(create("hardware-aware", "{\"weights\": {}}\n\n"), LBS_OK);
	CHECK_INT(create("round-robin", "{\"a\": 1,}"), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config: not valid JSON near byte 8");
	/* A config from a host that reads no file (nginx's lbsched_config,
	 * Python's text) says what a file's reader says of a byte order
	 * mark, not "near byte 0". */
	CHECK_INT(create("round-robin", "\xef\xbb\xbf{}"), LBS_ECONFIG);
	CHECK_STR(err, "scheduler 'round-robin': config: starts with a UTF-8 byte order mark "
	               "(EF BB BF); save it as UTF-8 without one");
	/* cJSON reads 01 as 1 and 1. as 1: numbers JSON refuses are
	 * refused by their field; JSON's own forms pass. */
	CHECK_INT(create("round-robin", "{\"load_ceiling\": 01}"), LBS_ECONFIG);
	CHECK_STR(err, "scheduler 'round-robin': config: field 'load_ceiling': 01 at byte 17 is not "
	               "a JSON number (no leading zeros, a digit after the point)");
	CHECK_INT(create("hardware-aware", "{\"weights\": {\"compute\": 1.e-1}}"), LBS_ECONFIG);
	CHECK_STR(err, "scheduler 'hardware-aware': config: field 'weights.compute': 1.e-1 at byte 24 "
	               "is not a JSON number (no leading zeros, a digit after the point)");
	/* ... and one that is not 0 but reads as 0 (a weight of 1e-400
	 * turned into none at all); one past the largest double is each
	 * field's "beyond +-1.8e308" */
	CHECK_INT(create("hardware-aware", "{\"weights\": {\"energy\": 1e-400}}"), LBS_ECONFIG);
	CHECK_STR(err, "scheduler 'hardware-aware': config: field 'weights.energy': 1e-400 at byte "
	               "23 is so near 0 that a double holds it as 0: write 0 if 0 is meant");
	{
		/* cJSON reads a long one whole: 0. then 600 zeros and a 1 */
		char cfg[700];
		int used = snprintf(cfg, sizeof cfg, "{\"a\": [1, 0.");

		for (int k = 0; k < 600; k++)
			cfg[used++] = '0';
		used += snprintf(cfg + used, sizeof cfg - (size_t)used, "1]}");
		CHECK(txt_json_flaw(err, sizeof err, cfg, (size_t)used) != NULL);
		CHECK_CONTAINS(err, "field 'a[1]': 0.0000");
		CHECK_CONTAINS(err, "is so near 0 that a double holds it as 0");
		/* denormals are numbers, and 0 however written */
		{
			const char *small = "[1e-310, 3e-324, 0e-400, -0.000e-999]";

			CHECK(txt_json_flaw(err, sizeof err, small, strlen(small)) == NULL);
		}
	}
	CHECK_INT(create("round-robin", "{\"load_ceiling\": -2.5E+400}"), LBS_ECONFIG);
	CHECK_STR(err, "scheduler 'round-robin': config field 'load_ceiling': must be a number in "
	               "0..1, got -inf");
	/* 0 written small, and a number small but held, are numbers */
	CHECK_INT(create("round-robin", "{\"load_ceiling\": 0.5, \"x\": 0e-400}"), LBS_ECONFIG);
	CHECK_CONTAINS(err, "'x'");
	CHECK_INT(create("hardware-aware", "{\"weights\": {\"energy\": 1e-320}}"), LBS_OK);
	CHECK_INT(create("composite", "{\"children\": [{\"scheduler\": \"round-robin\", "
	                 "\"weight\": -01.5}]}"), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config: field 'children[0].weight': -01.5 at byte");
	/* A long field path is cut at its buffer's end, never inside a
	 * character (fuzz_prefs found a message that was not UTF-8). */
	for (int pad = 0; pad < 4; pad++) {
		char cfg[2048];
		size_t used = (size_t)snprintf(cfg, sizeof cfg, "{");

		for (int level = 0; level < 14; level++)
			used += (size_t)snprintf(cfg + used, sizeof cfg - used, "\"%.*s%s\": {",
			                         level ? 0 : pad, "aaa",
			                         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			                         "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
		used += (size_t)snprintf(cfg + used, sizeof cfg - used, "\"n\": 01");
		for (int level = 0; level <= 14; level++)
			used += (size_t)snprintf(cfg + used, sizeof cfg - used, "}");
		CHECK(txt_json_flaw(err, sizeof err, cfg, used) != NULL);
		CHECK_CONTAINS(err, "01 at byte");
		CHECK(txt_utf8_valid(err));
	}
	CHECK_INT(create("round-robin", "{\"load_ceiling\": 0.5e+0}"), LBS_OK);
	CHECK_INT(create("round-robin", "{\"load_ceiling\": -0, \"x1\": 1}"), LBS_ECONFIG);
	CHECK_CONTAINS(err, "'x1'");
	/* The ABI's strings are UTF-8: a route's prefix that is not would
	 * match nothing it should.  Named by field, or by its key's object. */
	CHECK_INT(create("composite", "{\"routes\": [{\"prefix\": \"vis\xff\", \"scheduler\": "
	                 "\"round-robin\"}], \"default\": {\"scheduler\": \"priority\"}}"),
	          LBS_ECONFIG);
	CHECK_STR(err, "scheduler 'composite': config field 'routes[0].prefix': must be valid UTF-8");
	CHECK_INT(create("hardware-aware", "{\"store\": {\"pa\xfeth\": \"/x\"}}"), LBS_ECONFIG);
	CHECK_STR(err, "scheduler 'hardware-aware': config field 'store': a key is not valid UTF-8");
	/* A NUL in a string would cut it short there: a store path cut
	 * short is another directory.  An escaped backslash is no NUL. */
	CHECK_INT(create("hardware-aware", "{\"store\": {\"path\": \"/nowhere\\u0000/x\"}}"),
	          LBS_ECONFIG);
	CHECK_STR(err, "scheduler 'hardware-aware': config: field 'store.path': a string holds "
	               "\\u0000 (a NUL character) at byte 28");
	/* Named by its field wherever it is: in an array, or a key. */
	CHECK_INT(create("composite", "{\"children\": [{\"scheduler\": \"round-robin\"}, "
	                              "{\"scheduler\": \"priority\", \"config\": {\"store\": "
	                              "{\"path\": \"a\\u0000\"}}}]}"),
	          LBS_ECONFIG);
	CHECK_CONTAINS(err, "config: field 'children[1].config.store.path': a string holds \\u0000");
	CHECK_INT(create("round-robin", "{\"load_ceiling\": 0.9, \"x\\u0000\": 1}"), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config: the key 'x\\\\u0000' at the top: a string holds \\u0000 (a NUL "
	                    "character) at byte 24");
	CHECK_INT(create("hardware-aware", "{\"weights\": {\"a\\u0000\": 1}}"), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config: the key 'a\\\\u0000' of field 'weights': a string holds");
	CHECK_INT(create("round-robin", "{\"load_ceiling\": 0.9, \"x\\\\u0000\": 1}"),
	          LBS_ECONFIG);
	CHECK_CONTAINS(err, "unknown field");
	/* The store makes its own directory, not its parents: one missing
	 * is named as that, not as the store's own ENOENT. */
	CHECK(create("hardware-aware", "{\"store\": {\"path\": \"/nonexistent-lbs/a/prefs\"}}") !=
	      LBS_OK);
	CHECK_CONTAINS(err, "store '/nonexistent-lbs/a/prefs': cannot create the directory: its "
	                    "parent does not exist");
	/* the object is the first level; the 1000th bracket is too deep */
	memcpy(deep, "{\"a\":", 5);
	memset(deep + 5, '[', 1000);
	deep[1005] = '\0';
	CHECK_INT(create("round-robin", deep), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config: nested deeper than 1000 levels at byte 1004");
	CHECK(one_line(err));
}

/* JSON cut short says so and names what is still open; a syntax error at
 * the last byte is still that (a parser stops at the last byte in both).
 * The byte is where cJSON stopped, as every caller passes it. */
static const char *problem(const char *text)
{
	static char out[200];
	size_t len = strlen(text);
	const char *end = NULL;
	cJSON *doc = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	size_t at = doc ? (size_t)(end - text) : (size_t)(cJSON_GetErrorPtr() - text);
	const char *p = txt_json_problem(out, sizeof out, text, len, at, doc != NULL, 1000);

	cJSON_Delete(doc);
	return p ? p : "(whole)";
}

static void test_json_cut_short(void)
{
	CHECK_STR(problem("{"), "not valid JSON: it ends at byte 1 with the '{' at byte 0 still open");
	CHECK_STR(problem("{\"a\": [1, 2"),
	          "not valid JSON: it ends at byte 11 with the '[' at byte 6 still open");
	CHECK_STR(problem("{\"a\": [1, 2,"),
	          "not valid JSON: it ends at byte 12 with the '[' at byte 6 still open");
	CHECK_STR(problem("{\"a\""), "not valid JSON: it ends at byte 4 with the '{' at byte 0 still open");
	CHECK_STR(problem("{\"a\": \"b\\\"c"),
	          "not valid JSON: it ends at byte 11 inside the string that begins at byte 6");
	CHECK_STR(problem("[1, tr"), "not valid JSON: it ends at byte 6 inside the word that begins at byte 4");
	CHECK_STR(problem("[{\"a\": [\"]\"]}\n"),
	          "not valid JSON: it ends at byte 14 with the '[' at byte 0 (line 1, column 1) "
	          "still open");
	/* wrong before the end: the byte the parser names */
	CHECK_STR(problem("[1 ["), "not valid JSON near byte 3");
	CHECK_STR(problem("[1, ]"), "not valid JSON near byte 4");
	CHECK_STR(problem("{\"a\": [1}"), "not valid JSON near byte 8");
	CHECK_STR(problem("[1, x"), "not valid JSON near byte 4");
	CHECK_STR(problem("[trux"), "not valid JSON near byte 1");
	CHECK_STR(problem("{\"a\" 1"), "not valid JSON near byte 5");
	/* numbers and escapes as JSON has them: wrong is not cut short */
	CHECK_STR(problem("[1-2"), "not valid JSON near byte 2");
	CHECK_STR(problem("[1.2.3"), "not valid JSON near byte 4");
	CHECK_STR(problem("[--1"), "not valid JSON near byte 1");
	CHECK_STR(problem("[01"), "not valid JSON near byte 2");
	CHECK_STR(problem("[\"\\q\", 1"), "not valid JSON near byte 2");
	CHECK_STR(problem("[\"\\ud800\", 1"), "not valid JSON: \\ud800 at byte 2 is half of a UTF-16 "
	                                       "surrogate pair without its other half, which UTF-8 "
	                                       "text cannot carry");
	CHECK_STR(problem("[\"\\u12zz\", 1"), "not valid JSON near byte 11");
	CHECK_STR(problem("[1."), "not valid JSON: it ends at byte 3 inside the number that begins at byte 1");
	CHECK_STR(problem("[\"\\ud83d"), "not valid JSON: it ends at byte 8 inside the string that begins at byte 1");
	CHECK_STR(problem("[\"\\ud83d\\ude00\", 2"),
	          "not valid JSON: it ends at byte 18 with the '[' at byte 0 still open");
	CHECK_STR(problem("[\"\\u00"), "not valid JSON: it ends at byte 6 inside the string that begins at byte 1");
	CHECK_STR(problem("[0"), "not valid JSON: it ends at byte 2 with the '[' at byte 0 still open");
	CHECK_STR(problem("[0]"), "(whole)");
	/* what Python's json writes for float('nan') and float('inf') */
	CHECK_STR(problem("{\"a\": NaN}"),
	          "not valid JSON: NaN at byte 6 is Python's, not a JSON number (give a finite number)");
	CHECK_STR(problem("[1, -Infinity]"), "not valid JSON: -Infinity at byte 4 is Python's, not "
	                                     "a JSON number (give a finite number)");
	/* half a surrogate pair (Python's json writes one for a lone
	 * surrogate in a str) was "not valid JSON near byte 10" */
	CHECK_STR(problem("{\"id\": \"a\\ud800\"}"),
	          "not valid JSON: \\ud800 at byte 9 is half of a UTF-16 surrogate pair without "
	          "its other half, which UTF-8 text cannot carry");
	CHECK_STR(problem("[\"\\uDC00x\"]"),
	          "not valid JSON: \\uDC00 at byte 2 is half of a UTF-16 surrogate pair without "
	          "its other half, which UTF-8 text cannot carry");
	/* a whole pair is text */
	CHECK_STR(problem("[\"\\ud83d\\ude00\"]"), "(whole)");
	CHECK_STR(problem("[Infinity, 1"), "not valid JSON: Infinity at byte 1 is Python's, not a "
	                                   "JSON number (give a finite number)");
}

/* Text a host sets inside its own document (a plugin's stats in nginx's
 * status): one object as RFC 8259 writes it, not as cJSON reads it. */
static void test_json_object_strict(void)
{
	static const struct {
		const char *text;
		size_t len; /* 0: strlen */
		const char *want; /* NULL: passed on */
	} cases[] = {
		{"{\"a\": 1, \"b\": [true, null, -0.5e+3, \"x\\u00e9\\n\"]}\n", 0, NULL},
		{" \t{}\r\n", 0, NULL},
		{"{\"\xc3\xa9\": {\"deep\": [[{}]]}}", 0, NULL},
		/* cJSON's leniencies, each passed on by it */
		{"\001{\"a\": 1}", 0, "is not JSON (RFC 8259) at byte 0 of 9"},
		{"{\"a\": 01}", 0, "is not JSON (RFC 8259) at byte 7 of 9"},
		{"{\"a\": 1.}", 0, "is not JSON (RFC 8259) at byte 6 of 9"},
		{"{\"a\": -.5}", 0, "is not JSON (RFC 8259) at byte 6 of 10"},
		{"{\"a\": \"x\ty\"}", 0, "is not JSON (RFC 8259) at byte 6 of 12"},
		{"\xef\xbb\xbf{\"a\": 1}", 0, "is not JSON (RFC 8259) at byte 0 of 11"},
		{"{\v\"a\"\f: 1}", 0, "is not JSON (RFC 8259) at byte 1 of 10"},
		{"{\"a\":\"x\0y\"}", 13, "is not JSON (RFC 8259) at byte 5 of 13"},
		/* and the rest of what a plugin may get wrong */
		{"{\"decisions\": 1}, \"injected\": {\"a\": 1", 0,
		 "is not JSON (RFC 8259) at byte 16 of 37"},
		{"{\"a\": 1", 0, "ends (at byte 7) before its JSON is whole"},
		{"[1, 2]", 0, "is JSON but not an object"},
		{"\"stats\"", 0, "is JSON but not an object"},
		{"", 0, "holds no JSON value"},
		{"  \n", 0, "holds no JSON value"},
		{"{\"\xff\": 1}", 0, "is not UTF-8"},
		{"{\"a\": NaN}", 0, "is not JSON (RFC 8259) at byte 6 of 10"},
	};
	char deep[700], err[160];

	for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
		size_t len = cases[k].len ? cases[k].len : strlen(cases[k].text);
		const char *got = txt_json_object_strict(err, sizeof err, cases[k].text, len);

		if (cases[k].want)
			CHECK_STR(got ? got : "(passed)", cases[k].want);
		else
			CHECK_STR(got ? got : "(passed)", "(passed)");
	}
	/* 256 levels pass; the 257th is named, not "not JSON" */
	memset(deep, 0, sizeof deep);
	deep[0] = '{';
	memcpy(deep + 1, "\"a\":", 4);
	memset(deep + 5, '[', 255);
	memset(deep + 260, ']', 255);
	deep[515] = '}';
	CHECK(txt_json_object_strict(err, sizeof err, deep, 516) == NULL);
	memset(deep + 5, '[', 256);
	memset(deep + 261, ']', 256);
	deep[517] = '}';
	CHECK_STR(txt_json_object_strict(err, sizeof err, deep, 518),
	          "nests deeper than 256 levels at byte 260");
}

static void test_composite(void)
{
	CHECK_INT(create("composite", "{\"children\": [{\"scheduler\": \"round\\nrobin\"}]}"),
	          LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'children[0]': ");
	CHECK_CONTAINS(err, "no scheduler named 'round\\x0arobin'");
	CHECK(one_line(err));

	CHECK_INT(create("composite", "{\"mode\": \"bl\\nend\", "
	                 "\"children\": [{\"scheduler\": \"round-robin\"}]}"), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'mode': must be \"blend\" or \"vote\", got \"bl\\x0aend\"");
	CHECK(one_line(err));

	CHECK_INT(create("composite", "{\"routes\": ["
	                 "{\"prefix\": \"a\\n\", \"scheduler\": \"round-robin\"},"
	                 "{\"prefix\": \"a\\n\", \"scheduler\": \"priority\"}],"
	                 " \"default\": {\"scheduler\": \"round-robin\"}}"), LBS_ECONFIG);
	CHECK_CONTAINS(err, "config field 'routes[1]': prefix 'a\\x0a' is routed twice");
	CHECK(one_line(err));
}

static void test_import(void)
{
	static const char doc[] = "{\"records\": [{\"su\\nccesses\": 1}]}";
	loaded_plugin *lp;
	const lbs_host_api *api;
	const lbs_ext_store *ext;
	const char *tmp = getenv("TMPDIR");
	char path[512];

	if (host_load(test_host(), getenv("LBS_PLUGIN"), &lp, &api, err, sizeof err) != LBS_OK ||
	    !(ext = loader_extension(lp, LBS_EXT_STORE))) {
		fprintf(stderr, "test fixture broken: %s\n", err);
		exit(99);
	}
	snprintf(path, sizeof path, "%s/lbs-messages.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(path)) {
		fprintf(stderr, "test fixture broken: mkdtemp %s\n", path);
		exit(99);
	}
	err[0] = '\0';
	CHECK_INT(ext->import_json(api, path, doc, strlen(doc), LBS_IMPORT_REPLACE, err, sizeof err),
	          LBS_EINVAL);
	CHECK_STR(err, "records[0]: field 'su\\x0accesses': unknown");
	rmdir(path);
}

int main(void)
{
	test_show();
	test_one_line();
	test_typed_decimal();
	test_reason();
	test_configs();
	test_config_document();
	test_long_store_path();
	test_json_cut_short();
	test_json_object_strict();
	test_composite();
	test_import();
	return check_done("test_messages");
}
