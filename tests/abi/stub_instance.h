/*
 * stub_instance.h -- create and destroy for a test plugin whose scheduler
 * keeps no state: create ignores its config and hands back the address of
 * a static token (never NULL), destroy does nothing.  It needs abi/ alone,
 * as a third party's plugin would; include it after <lbsched/abi.h>.
 */
#ifndef LBS_TEST_STUB_INSTANCE_H
#define LBS_TEST_STUB_INSTANCE_H

static int stub_token;

static lbs_status stub_create(const lbs_host_api *host, const char *config, size_t len,
                              void **out, char *err, size_t errlen)
{
	(void)host;
	(void)config;
	(void)len;
	(void)err;
	(void)errlen;
	*out = &stub_token;
	return LBS_OK;
}

static void stub_destroy(void *inst)
{
	(void)inst;
}

#endif
