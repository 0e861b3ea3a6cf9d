/*
 * report_render -- the report renderer alone, for the tests:
 *
 *   report_render RESULT.json OUT.html     (OUT "-" = stdout)
 *
 * Exit status: 0 written; 1 unreadable or malformed result (one line on
 * stderr naming the file and field; OUT is not left behind).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "file.h"
#include "report.h"

int main(int argc, char **argv)
{
	char err[512];
	char *text;
	size_t len;
	cJSON *json;
	FILE *out;
	int to_stdout, rc;

	if (argc != 3) {
		fprintf(stderr, "usage: report_render RESULT.json OUT.html\n");
		return 1;
	}
	text = file_read(argv[1], &len, err, sizeof err);
	if (!text) {
		fprintf(stderr, "report_render: %s\n", err);
		return 1;
	}
	json = cJSON_ParseWithLength(text, len);
	if (!json) {
		const char *at = cJSON_GetErrorPtr();
		fprintf(stderr, "report_render: %s: not JSON near byte %ld\n", argv[1],
		        at && at >= text && at <= text + len ? (long)(at - text) : -1L);
		free(text);
		return 1;
	}
	to_stdout = !strcmp(argv[2], "-");
	out = to_stdout ? stdout : fopen(argv[2], "w");
	if (!out) {
		perror(argv[2]);
		rc = 1;
	} else {
		rc = report_html(out, json, err, sizeof err) ? 1 : 0;
		if (rc)
			fprintf(stderr, "report_render: %s: %s\n", argv[1], err);
		if (!to_stdout && fclose(out) && !rc) {
			perror(argv[2]);
			rc = 1;
		}
		if (rc && !to_stdout)
			remove(argv[2]);
	}
	cJSON_Delete(json);
	free(text);
	return rc;
}
