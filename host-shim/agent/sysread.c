/*
 * sysread.c -- reading /proc and /sys under the agent's root, and the
 * explanation lines of --explain.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "text.h"

/* One line of at most sizeof line - 1 bytes: a longer one is cut, and
 * txt_one_line drops a character the cut split. */
static void say(FILE *to, const char *prefix, const char *fmt, va_list ap)
{
	char line[8192];

	vsnprintf(line, sizeof line, fmt, ap);
	txt_one_line(line);
	fprintf(to, "%s%s\n", prefix, line);
}

void ag_why(const ag_env *env, const char *field, const char *fmt, ...)
{
	char prefix[AG_NAME + 2];
	va_list ap;

	if (!env->why)
		return;
	snprintf(prefix, sizeof prefix, "%s: ", field);
	txt_one_line(prefix);
	va_start(ap, fmt);
	say(env->why, prefix, fmt, ap);
	va_end(ap);
}

void ag_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(stderr, "lbsched-agent: ", fmt, ap);
	va_end(ap);
}

void ag_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(stderr, "lbsched-agent: warning: ", fmt, ap);
	va_end(ap);
}

int ag_path(const ag_env *env, const char *rel, char *buf, size_t n)
{
	int k = snprintf(buf, n, "%s%s", env->root, rel);

	return k < 0 || (size_t)k >= n ? -1 : 0;
}

int ag_read(const ag_env *env, const char *rel, char *buf, size_t n)
{
	char p[4096];
	size_t got = 0;
	int fd;

	if (!n || ag_path(env, rel, p, sizeof p) < 0)
		return -1;
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (got < n - 1) {
		ssize_t r = read(fd, buf + got, n - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = 0;
	while (got && (buf[got - 1] == '\n' || buf[got - 1] == ' '))
		buf[--got] = 0;
	return (int)got;
}

/* sysfs writes its integers with "%d"/"%u"/"%llu", or "0x%04x" for PCI
 * ids: anything else (junk after the digits, a sign where none belongs, a
 * number strtoull would wrap) is a file the agent cannot trust, not one to
 * read as far as it goes. */
int ag_read_u64(const ag_env *env, const char *rel, uint64_t *out)
{
	char b[64], *end;

	if (ag_read(env, rel, b, sizeof b) <= 0 || b[0] < '0' || b[0] > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(b, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int ag_read_s64(const ag_env *env, const char *rel, int64_t *out)
{
	char b[64], *end;
	const char *d;

	if (ag_read(env, rel, b, sizeof b) <= 0)
		return -1;
	d = b[0] == '-' ? b + 1 : b;
	if (*d < '0' || *d > '9')
		return -1;
	errno = 0;
	long long v = strtoll(b, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int ag_read_hex(const ag_env *env, const char *rel, uint64_t *out)
{
	char b[64], *end;

	if (ag_read(env, rel, b, sizeof b) <= 0 || strncmp(b, "0x", 2) != 0 ||
	    !isxdigit((unsigned char)b[2]))
		return -1;
	errno = 0;
	unsigned long long v = strtoull(b + 2, &end, 16);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

void ag_text(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
	txt_one_line(dst);
	/* names end up as JSON strings; trailing blanks only confuse matching */
	size_t n = strlen(dst);
	while (n && dst[n - 1] == ' ')
		dst[--n] = 0;
}

void ag_name(char dst[AG_NAME], const char *src)
{
	ag_text(dst, AG_NAME, src);
}

unsigned ag_cpus_present(const ag_env *env)
{
	char b[4096];
	const char *p;
	unsigned long last;

	if (ag_read(env, "/sys/devices/system/cpu/present", b, sizeof b) <= 0)
		return AG_CPUS_UNREAD;
	b[strcspn(b, "\n")] = 0;
	p = b + strlen(b);
	while (p > b && p[-1] >= '0' && p[-1] <= '9')
		p--;
	if (!*p || (last = strtoul(p, NULL, 10)) >= 1UL << 20)
		return AG_CPUS_UNREAD;
	return (unsigned)last + 1;
}
