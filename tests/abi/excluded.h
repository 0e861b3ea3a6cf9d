/*
 * excluded.h -- whether a workload excludes a worker by id, for the test
 * plugins that honour exclude_ids themselves.  It needs abi/ alone, as a
 * third party's plugin would; include it after <lbsched/abi.h>.
 */
#ifndef LBS_TEST_EXCLUDED_H
#define LBS_TEST_EXCLUDED_H

#include <string.h>

static int excluded(const lbs_workload *wl, const char *id)
{
	for (uint32_t i = 0; i < wl->n_exclude; i++)
		if (!strcmp(wl->exclude_ids[i], id))
			return 1;
	return 0;
}

#endif
