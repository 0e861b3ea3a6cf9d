/*
 * fleet_config.c -- the "fleet" object of a store's config:
 *
 *   "fleet": {"address": "127.0.0.1:6379", "user": "lbsched",
 *             "password_file": "/etc/lbsched/redis.pass",
 *             "prefix": "lbsched:", "push_ms": 200, "pull_ms": 500,
 *             "timeout_ms": 5000, "batch_entries": 256,
 *             "allow_insecure": false}
 *
 * The address, the password file and the loopback policy are the Redis
 * client layer's (redis/redis_conn.h), as for every other Redis user of
 * the project.  The password is read from its file here, at create (a
 * forking host's workers need not read it again), and never appears in a
 * config string: nginx -T and stats show the file's name only.  A Redis
 * that is not on this host must have a password unless allow_insecure
 * says so.
 */
#include "fleet_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "text.h"

static const char *const fleet_fields[] = {
	"address", "user", "password_file", "prefix", "push_ms", "pull_ms", "timeout_ms",
	"batch_entries", "allow_insecure", NULL,
};

lbs_status fleet_config_read(const cJSON *obj, fleet_opts *o, char *err, size_t errlen)
{
	const char *address = NULL, *user = NULL, *pass = NULL, *prefix = NULL;
	lbs_status st = cfg_check_fields(obj, fleet_fields, err, errlen);
	char msg[400];
	int insecure = 0;

	memset(o, 0, sizeof *o);
	o->push_ms = 200;
	o->pull_ms = 500;
	o->timeout_ms = 5000;
	o->batch_entries = 256;
	if (st == LBS_OK)
		st = cfg_string(obj, "address", NULL, &address, err, errlen);
	if (st == LBS_OK && !address) {
		snprintf(err, errlen, "config field 'address': required (the Redis server, "
		         "\"HOST:PORT\" or a unix socket's path)");
		st = LBS_ECONFIG;
	}
	if (st == LBS_OK)
		st = cfg_string(obj, "user", NULL, &user, err, errlen);
	if (st == LBS_OK)
		st = cfg_string(obj, "password_file", NULL, &pass, err, errlen);
	if (st == LBS_OK)
		st = cfg_string(obj, "prefix", "lbsched:", &prefix, err, errlen);
	if (st == LBS_OK)
		st = cfg_uint_in(obj, "push_ms", 1, 3600000, &o->push_ms, err, errlen);
	if (st == LBS_OK)
		st = cfg_uint_in(obj, "pull_ms", 1, 3600000, &o->pull_ms, err, errlen);
	if (st == LBS_OK)
		st = cfg_uint_in(obj, "timeout_ms", 1, 600000, &o->timeout_ms, err, errlen);
	if (st == LBS_OK)
		st = cfg_uint_in(obj, "batch_entries", 1, 65536, &o->batch_entries, err, errlen);
	if (st == LBS_OK)
		st = cfg_bool(obj, "allow_insecure", 0, &insecure, err, errlen);
	if (st == LBS_OK && strlen(prefix) > 128) {
		snprintf(err, errlen, "config field 'prefix': at most 128 bytes");
		st = LBS_ECONFIG;
	}
	if (st == LBS_OK && rc_check_prefix(prefix, msg, sizeof msg) < 0) {
		snprintf(err, errlen, "config field 'prefix': %s", msg);
		st = LBS_ECONFIG;
	}
	if (st == LBS_OK && rc_parse_address(address, &o->redis, msg, sizeof msg) < 0) {
		snprintf(err, errlen, "config field 'address': %s", msg);
		st = LBS_ECONFIG;
	}
	o->redis.insecure = insecure;
	o->redis.timeout_ms = (int)o->timeout_ms;
	/* Cut, it would log in as another user; dropped, as the default one. */
	if (st == LBS_OK && user && strlen(user) >= RC_SECRET_MAX) {
		snprintf(err, errlen, "config field 'user': longer than %d bytes", RC_SECRET_MAX - 1);
		st = LBS_ECONFIG;
	}
	if (st == LBS_OK && user && !pass) {
		snprintf(err, errlen, "config field 'user': needs 'password_file' (the ACL user's "
		         "password)");
		st = LBS_ECONFIG;
	}
	if (st == LBS_OK && !pass && rc_check_policy(&o->redis, msg, sizeof msg) < 0) {
		snprintf(err, errlen, "config field 'address': %s; here that is "
		         "\"allow_insecure\": true", msg);
		st = LBS_ECONFIG;
	}
	if (st == LBS_OK && pass) {
		o->secret = malloc(sizeof *o->secret);
		if (!o->secret)
			st = LBS_ENOMEM;
		else if (rc_secret_read(pass, user, o->secret, msg, sizeof msg) < 0) {
			snprintf(err, errlen, "config field 'password_file': %s", msg);
			st = LBS_ECONFIG;
		}
	}
	if (st == LBS_OK) {
		o->prefix = strdup(prefix);
		o->user = user ? strdup(user) : NULL;
		o->password_file = pass ? strdup(pass) : NULL;
		if (!o->prefix || (user && !o->user) || (pass && !o->password_file))
			st = LBS_ENOMEM;
	}
	return st;
}

void fleet_opts_free(fleet_opts *o)
{
	if (!o)
		return;
	if (o->secret)
		rc_secret_clear(o->secret);
	free(o->secret);
	free(o->user);
	free(o->password_file);
	free(o->prefix);
	memset(o, 0, sizeof *o);
}
