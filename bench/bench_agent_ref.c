/*
 * bench_agent_ref.c -- the reference for bench/bench_agent.sh: the least a
 * monitor can do each interval, reading /proc/stat and /proc/meminfo into a
 * buffer and sleeping until the next tick, with nothing parsed or written.
 *   bench_agent_ref INTERVAL_S
 */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void slurp(const char *p)
{
	char b[8192];
	int fd = open(p, O_RDONLY);

	if (fd < 0)
		return;
	while (read(fd, b, sizeof b) > 0)
		;
	close(fd);
}

int main(int argc, char **argv)
{
	double iv = argc > 1 ? atof(argv[1]) : 1;
	struct timespec t;

	if (!(iv > 0))
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t);
	for (;;) {
		double next = (double)t.tv_sec + t.tv_nsec / 1e9 + iv;
		t.tv_sec = (time_t)next;
		t.tv_nsec = (long)((next - floor(next)) * 1e9);
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
		slurp("/proc/stat");
		slurp("/proc/meminfo");
	}
}
