/*
 * fake_values.h -- what the test-only libraries (fake_nvml.c, fake_rocm.c)
 * answer: "key value" or "key.N value" lines of the file named by the
 * environment variable FAKE_ENV (defined before this is included),
 * re-read on every call so that a test can change a GPU while the agent
 * runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The value of key (key.idx when idx >= 0) into buf; 0, or -1 absent. */
static int get(const char *key, long idx, char *buf, size_t n)
{
	const char *path = getenv(FAKE_ENV);
	char want[64], line[512];
	FILE *f;
	int rc = -1;

	if (!path || !(f = fopen(path, "r")))
		return -1;
	if (idx >= 0)
		snprintf(want, sizeof want, "%s.%ld", key, idx);
	else
		snprintf(want, sizeof want, "%s", key);
	while (fgets(line, sizeof line, f)) {
		size_t k = strlen(want);
		if (strncmp(line, want, k) == 0 && line[k] == ' ') {
			line[strcspn(line, "\n")] = 0;
			snprintf(buf, n, "%s", line + k + 1);
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

/* The driver the library was initialised with.  A test that changes the
 * file's "driver" line has upgraded the driver under the running library,
 * whose calls then fail until it is initialised again, as NVML's do
 * (NVML_ERROR_LIB_RM_VERSION_MISMATCH) once the kernel module is new. */
static char inited_driver[128];

static void driver_remember(void)
{
	if (get("driver", -1, inited_driver, sizeof inited_driver) < 0)
		inited_driver[0] = 0;
}

static int driver_changed(void)
{
	char now[128];

	if (get("driver", -1, now, sizeof now) < 0)
		now[0] = 0;
	return strcmp(now, inited_driver) != 0;
}

static int num(const char *key, long idx, unsigned long long *out)
{
	char b[64];

	if (get(key, idx, b, sizeof b) < 0)
		return -1;
	*out = strtoull(b, NULL, 0);
	return 0;
}
