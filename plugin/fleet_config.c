/*
 * fleet_config.c -- the "fleet" object of a store's config:
 *
 *   "fleet": {"address": "127.0.0.1:6379", "user": "lbsched",
 *             "password_file": "/etc/lbsched/redis.pass",
 *             "prefix": "lbsched:", "push_ms": 200, "pull_ms": 500,
 *             "timeout_ms": 5000, "batch_entries": 256,
 *             "allow_insecure": false}
 *
 * The password is read from its file here and never appears in a config
 * string: nginx -T and stats show the file's name only.  A Redis that is
 * not on this host must have a password unless allow_insecure says so.
 */
#include "fleet_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "text.h"

static const char *const fleet_fields[] = {
	"address", "user", "password_file", "prefix", "push_ms", "pull_ms", "timeout_ms",
	"batch_entries", "allow_insecure", NULL,
};

#define PASSWORD_MAX 512

/* "host:port", "[v6]:port"; the port 1..65535. */
static lbs_status parse_address(const char *a, fleet_opts *o, char *err, size_t errlen)
{
	const char *colon = strrchr(a, ':'), *h = a;
	size_t hl;
	char *end, shown[96];
	long port;

	if (!colon || colon == a)
		goto bad;
	port = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port < 1 || port > 65535)
		goto bad;
	hl = (size_t)(colon - a);
	if (a[0] == '[') {
		if (hl < 3 || a[hl - 1] != ']')
			goto bad;
		h = a + 1;
		hl -= 2;
	}
	o->host = strndup(h, hl);
	if (!o->host)
		return LBS_ENOMEM;
	o->port = (int)port;
	return LBS_OK;
bad:
	snprintf(err, errlen, "config field 'address': must be \"HOST:PORT\" (port 1..65535), "
	         "got \"%s\"", txt_show(shown, sizeof shown, a));
	return LBS_ECONFIG;
}

static int loopback(const char *h)
{
	return !strcmp(h, "localhost") || !strncmp(h, "127.", 4) || !strcmp(h, "::1");
}

/* The first line of the file, without its newline. */
static lbs_status read_password(const char *path, fleet_opts *o, char *err, size_t errlen)
{
	char buf[PASSWORD_MAX + 2], shown[160];
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	txt_show(shown, sizeof shown, path);
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, errlen, "config field 'password_file': cannot read '%s': %s", shown,
		         strerror(errno));
		if (fd >= 0)
			close(fd);
		return LBS_ECONFIG;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 0007)) {
		close(fd);
		snprintf(err, errlen, "config field 'password_file': '%s' must be a regular file "
		         "that others cannot read (chmod o-rwx)", shown);
		return LBS_ECONFIG;
	}
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!buf[0] || strlen(buf) > PASSWORD_MAX) {
		snprintf(err, errlen, "config field 'password_file': '%s' must hold the password "
		         "(1..%d bytes) on its first line", shown, PASSWORD_MAX);
		return LBS_ECONFIG;
	}
	o->password = strdup(buf);
	memset(buf, 0, sizeof buf);
	return o->password ? LBS_OK : LBS_ENOMEM;
}

lbs_status fleet_config_read(const cJSON *obj, fleet_opts *o, char *err, size_t errlen)
{
	const char *address = NULL, *user = NULL, *pass = NULL, *prefix = NULL;
	lbs_status st = cfg_check_fields(obj, fleet_fields, err, errlen);

	memset(o, 0, sizeof *o);
	o->push_ms = 200;
	o->pull_ms = 500;
	o->timeout_ms = 5000;
	o->batch_entries = 256;
	if (st == LBS_OK)
		st = cfg_string(obj, "address", NULL, &address, err, errlen);
	if (st == LBS_OK && !address) {
		snprintf(err, errlen, "config field 'address': required (the Redis server, "
		         "\"HOST:PORT\")");
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
		st = cfg_bool(obj, "allow_insecure", 0, &o->allow_insecure, err, errlen);
	if (st == LBS_OK && strlen(prefix) > 128) {
		snprintf(err, errlen, "config field 'prefix': at most 128 bytes");
		st = LBS_ECONFIG;
	}
	if (st == LBS_OK)
		st = parse_address(address, o, err, errlen);
	if (st == LBS_OK && user && !pass) {
		snprintf(err, errlen, "config field 'user': needs 'password_file' (the ACL user's "
		         "password)");
		st = LBS_ECONFIG;
	}
	if (st == LBS_OK && !pass && !o->allow_insecure && !loopback(o->host)) {
		char shown[96];

		snprintf(err, errlen, "config field 'address': Redis at '%s' is not on this host and "
		         "no 'password_file' is given; anyone on the network could change what the "
		         "fleet learns (give a password, or \"allow_insecure\": true)",
		         txt_show(shown, sizeof shown, o->host));
		st = LBS_ECONFIG;
	}
	if (st == LBS_OK && pass)
		st = read_password(pass, o, err, errlen);
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
	if (o->password)
		memset(o->password, 0, strlen(o->password));
	free(o->host);
	free(o->user);
	free(o->password);
	free(o->password_file);
	free(o->prefix);
	memset(o, 0, sizeof *o);
}
