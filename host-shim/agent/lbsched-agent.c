/*
 * lbsched-agent -- the worker side: what this machine is (detect) and how
 * it is doing (run), in the fleet file format lbsched already reads.
 * docs/AGENT.md describes the fields, the sources and the threat model.
 */
#include <errno.h>
#include <sys/stat.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "file.h"
#include "live.h"
#include "nvml.h"
#include "text.h"
#include "record.h"
#include "rocm.h"
#include "sink.h"

#define DEFAULT_NVML "libnvidia-ml.so.1"
/* Debian's runtime package (librocm-smi64-1) has the versioned name only;
 * the unversioned one (a -dev package, AMD's ROCm) is tried after it. */
#define DEFAULT_ROCM "librocm_smi64.so.1"
#define DEFAULT_ROCM_DEV "librocm_smi64.so"
#define ROOT_NO_LIBRARY(opt, var) \
	"a recorded tree (--root) without " opt " or " var ": the default library is " \
	"this machine's"

static const char usage[] =
	"usage: lbsched-agent detect [--explain] [COMMON]\n"
	"       lbsched-agent run --file PATH [--mode OCTAL] [RUN] [COMMON]\n"
	"       lbsched-agent run --redis redis://HOST:PORT/PREFIX [--password-file F]\n"
	"                         [--insecure-redis] [--ttl S] [RUN] [COMMON]\n"
	"RUN: [--interval S] [--once] [--redetect S]\n"
	"COMMON: [--id ID] [--root DIR] [--nvml LIBRARY] [--rocm LIBRARY]\n"
	"  --id        the worker_id (default: the host name)\n"
	"  --root      read DIR/proc and DIR/sys (env LBSCHED_AGENT_ROOT; tests);\n"
	"              browsers only on LBSCHED_AGENT_BROWSER_PATH, NVML and\n"
	"              ROCm SMI only when named\n"
	"  --nvml      the NVML library to dlopen (env LBSCHED_AGENT_NVML;\n"
	"              default " DEFAULT_NVML "; none: no NVML); one named\n"
	"              that cannot be loaded is an error\n"
	"  --rocm      the ROCm SMI library to dlopen (env LBSCHED_AGENT_ROCM;\n"
	"              default " DEFAULT_ROCM ", else " DEFAULT_ROCM_DEV ";\n"
	"              none: no ROCm SMI)\n"
	"  --explain   say on stderr where each value came from\n"
	"  --file      the fleet file to keep current (replaced atomically)\n"
	"  --interval  seconds between samples, 0.1 to 3600 (default 1)\n"
	"  --once      publish one sample, one interval after the start, and exit\n"
	"  --mode      the file's permission bits (default 0644)\n"
	"  --redis     keep the hash PREFIX" "fleet:ID current (default PREFIX lbsched:)\n"
	"  --password-file  the Redis password (line 1), or user and password\n"
	"              (lines 1 and 2); never on the command line\n"
	"  --insecure-redis  allow a Redis off the loopback without a password\n"
	"  --ttl       seconds a worker stays after its last sample, 0.5 to 86400\n"
	"              and more than the interval (default 5)\n"
	"  --redetect  seconds between capability detections, 1 to 604800\n"
	"              (default 300)\n";

typedef struct opts {
	const char *cmd, *id, *file, *redis, *password_file;
	double interval, redetect, ttl;
	int once, explain, insecure, ttl_given, mode_given;
	mode_t mode;
} opts;

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static _Noreturn void help(void)
{
	if (fputs(usage, stdout) < 0 || fflush(stdout) != 0) {
		ag_error("cannot write the usage to stdout: %s", strerror(errno));
		exit(1);
	}
	exit(0);
}

/* A usage error: it quotes what was typed, made one line by ag_error. */
static __attribute__((format(printf, 1, 2))) int bad(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ag_error("%s (lbsched-agent --help)", msg);
	return 2;
}

static int number(const char *opt, const char *s, double lo, double hi, double *out)
{
	double v;

	if (!txt_typed_decimal(s, &v) || !isfinite(v) || v < lo || v > hi) {
		ag_error("%s must be a number from %g to %g, got '%.40s'", opt, lo, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

/* 1 when a is an option of detect (run 0) or run (run 1). */
static int known(const char *a, int run)
{
	static const char *const both[] = {"--id", "--root", "--nvml", "--rocm", NULL};
	static const char *const detect[] = {"--explain", NULL};
	static const char *const runs[] = {"--once", "--insecure-redis", "--file", "--interval",
	                                   "--mode", "--redetect", "--redis", "--password-file",
	                                   "--ttl", NULL};

	for (const char *const *p = both; *p; p++)
		if (!strcmp(a, *p))
			return 1;
	for (const char *const *p = run ? runs : detect; *p; p++)
		if (!strcmp(a, *p))
			return 1;
	return 0;
}

static int parse(int argc, char **argv, opts *o, ag_env *env)
{
	const char *seen[16]; /* the options given: more than the agent has */
	int n_seen = 0;

	o->interval = 1;
	o->redetect = 300;
	o->mode = 0644;
	o->ttl = 5;
	if (argc < 2)
		return bad("%s", "a command is needed: detect or run");
	o->cmd = argv[1];
	if (!strcmp(o->cmd, "--help") || !strcmp(o->cmd, "-h"))
		help();
	if (strcmp(o->cmd, "detect") && strcmp(o->cmd, "run"))
		return bad("unknown command '%.40s'", o->cmd);
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int run = !strcmp(o->cmd, "run");

		if (!strcmp(a, "--help") || !strcmp(a, "-h"))
			help();

		/* An option of this command a second time would drop the
		 * first: say so, as lbsched-shim does (an unknown one is
		 * said below). */
		if (known(a, run)) {
			for (int k = 0; k < n_seen; k++)
				if (!strcmp(seen[k], a))
					return bad("%.40s given twice", a);
			if (n_seen < (int)(sizeof seen / sizeof *seen))
				seen[n_seen++] = a;
		}
		if (!strcmp(a, "--explain") && !run) {
			o->explain = 1;
			continue;
		}
		if (!strcmp(a, "--once") && run) {
			o->once = 1;
			continue;
		}
		if (!strcmp(a, "--insecure-redis") && run) {
			o->insecure = 1;
			continue;
		}
		/* the flags are taken above: what is left takes a value */
		if (known(a, run)) {
			if (!v)
				return bad("%s needs a value", a);
			if (!*v)
				return bad("%s needs a value, not an empty one", a);
			/* "run --file --once" would write a file named --once
			 * and run forever: the value was forgotten */
			if (known(v, 0) || known(v, 1) || !strcmp(v, "--help") ||
			    !strcmp(v, "-h")) {
				char why[128];
				snprintf(why, sizeof why, "%.40s needs a value, got the option %.40s",
				         a, v);
				return bad("%s", why);
			}
			i++;
			if (!strcmp(a, "--id")) {
				/* nginx matches a server by the exact id: one
				 * cut or cleaned here would match nothing */
				size_t n = strlen(v);
				char why[96];

				if (!n || n >= AG_NAME) {
					snprintf(why, sizeof why, "--id must be 1 to %d bytes, got %zu",
					         AG_NAME - 1, n);
					return bad("%s", why);
				}
				for (size_t k = 0; k < n; k++)
					if ((unsigned char)v[k] < 0x20 || v[k] == 0x7f) {
						snprintf(why, sizeof why, "--id holds a control character "
						         "at byte %zu", k);
						return bad("%s", why);
					}
				if (v[0] == ' ' || v[n - 1] == ' ')
					return bad("%s", "--id begins or ends with a space");
				if (!txt_utf8_valid(v))
					return bad("%s", "--id is not valid UTF-8");
				o->id = v;
			} else if (!strcmp(a, "--root")) {
				env->root = v;
			} else if (!strcmp(a, "--nvml")) {
				env->nvml = v;
				env->nvml_from = "--nvml";
			} else if (!strcmp(a, "--rocm")) {
				env->rocm = v;
				env->rocm_from = "--rocm";
			} else if (!strcmp(a, "--file")) {
				o->file = v;
			} else if (!strcmp(a, "--redis")) {
				o->redis = v;
			} else if (!strcmp(a, "--password-file")) {
				o->password_file = v;
			} else if (!strcmp(a, "--ttl")) {
				if (number(a, v, 0.5, 86400, &o->ttl) < 0)
					return 2;
				o->ttl_given = 1;
			} else if (!strcmp(a, "--interval")) {
				if (number(a, v, 0.1, 3600, &o->interval) < 0)
					return 2;
			} else if (!strcmp(a, "--redetect")) {
				if (number(a, v, 1, 86400 * 7, &o->redetect) < 0)
					return 2;
			} else {
				char *end;
				long m = strtol(v, &end, 8);
				/* strtol also takes blanks and a sign before the digits */
				if (strspn(v, "01234567") != strlen(v) || end == v || *end ||
				    m > 0777)
					return bad("--mode must be octal permission bits such as "
					           "0644, got '%.40s'", v);
				/* whoever writes the file steers the balancer */
				if (m & 0002)
					return bad("--mode %.40s lets every user write the file, and so "
					           "steer the load balancer; drop o+w", v);
				if (!(m & 0444))
					return bad("--mode %.40s lets no user read the file (nginx's "
					           "workers read it as their user)", v);
				o->mode = (mode_t)m;
				o->mode_given = 1;
			}
			continue;
		}
		return bad("unknown option '%.40s' for this command", a);
	}
	if (!strcmp(o->cmd, "run") && !o->file == !o->redis)
		return bad("%s", "run needs --file PATH or --redis URL, one of them");
	if (o->redis && o->ttl <= o->interval)
		return bad("%s", o->ttl_given ? "--ttl must be more than --interval, or a worker "
		                                "would leave between two samples"
		                              : "--interval needs a --ttl above it (the default "
		                                "--ttl is 5 s), or a worker would leave between "
		                                "two samples");
	if (!o->redis && (o->password_file || o->insecure))
		return bad("%s", "--password-file and --insecure-redis go with --redis");
	if (!o->redis && o->ttl_given)
		return bad("%s", "--ttl goes with --redis (a file has no expiry)");
	if (o->redis && o->mode_given)
		return bad("%s", "--mode goes with --file (a Redis key has no file mode)");
	return 0;
}

/* Everything a record holds; the NVML and ROCm SMI handles stay open for
 * sampling. */
static int detect(const ag_env *env, const char *id, ag_caps *c, ag_nvml **nv,
                  ag_rocm **rocm)
{
	char err[1024], host[AG_NAME] = "";
	const char *host_from = "/proc/sys/kernel/hostname";

	memset(c, 0, sizeof *c);
	c->clock_mhz = -1;
	/* A recorded tree without its host name is not this machine: its
	 * name is unknown, not "localhost", which every such tree would
	 * share (and so would their keys). */
	if (ag_read(env, "/proc/sys/kernel/hostname", host, sizeof host) <= 0) {
		host[0] = 0;
		host_from = "gethostname()";
		if (env->root[0] || gethostname(host, sizeof host) != 0)
			host[0] = 0;
	}
	host[sizeof host - 1] = 0;
	ag_name(c->host, host);
	if (!c->host[0] && !id) {
		ag_error("%s%s: no host name to take for the worker id; give --id", env->root,
		         "/proc/sys/kernel/hostname");
		return -1;
	}
	ag_name(c->id, id ? id : c->host);
	if (!c->id[0]) {
		ag_error("the worker id is empty");
		return -1;
	}
	ag_why(env, "worker_id", id ? "--id" : "the host name");
	if (c->host[0])
		ag_why(env, "hostname", "%s", host_from);
	else
		ag_why(env, "hostname", "left out: %s%s has none", env->root,
		       "/proc/sys/kernel/hostname");
	if (ag_detect_cpu(env, c, err, sizeof err) < 0) {
		ag_error("%s", err);
		return -1;
	}
	/* A library the operator named and that cannot be loaded is a
	 * mistake to say; only the default may be absent (no driver).  The
	 * default is this machine's driver, and in a recorded tree it listed
	 * this machine's GPUs in that machine's record: there only a named
	 * library is used. */
	int unloadable = 0;
	int use_nvml = env->nvml_from || !env->root[0];
	/* A library whose driver was upgraded or reloaded under the agent
	 * fails every call (NVML's RM version mismatch) until it is loaded
	 * again; kept, each later detection listed no GPU until a restart. */
	if (*nv && !ag_nvml_answers(*nv)) {
		ag_warn("NVML stopped answering (its driver upgraded or reloaded?): loaded again");
		ag_nvml_close(*nv);
		*nv = NULL;
	}
	/* why none is used unless one loads: the tree, or what said "none"
	 * (the option, or the variable) */
	snprintf(err, sizeof err, "%s", !use_nvml ? ROOT_NO_LIBRARY("--nvml", "LBSCHED_AGENT_NVML")
	                                : env->nvml_from && env->nvml_from[0] != '-'
	                                ? "LBSCHED_AGENT_NVML=none" : "--nvml none");
	if (!*nv && use_nvml && strcmp(env->nvml, "none") != 0)
		*nv = ag_nvml_open(env->nvml, &unloadable, err, sizeof err);
	if (unloadable && env->nvml_from) {
		ag_error("%s: %s", env->nvml_from, err);
		return -1;
	}
	unsigned listed = 0;
	if (*nv)
		listed = ag_nvml_detect(*nv, env, c);
	else
		ag_why(env, "NVML", "not used: %s", err);
	unloadable = 0;
	int use_rocm = env->rocm_from || !env->root[0];
	if (*rocm && !ag_rocm_answers(*rocm)) {
		ag_warn("ROCm SMI stopped answering (its driver upgraded or reloaded?): loaded "
		        "again");
		ag_rocm_close(*rocm);
		*rocm = NULL;
	}
	snprintf(err, sizeof err, "%s", !use_rocm ? ROOT_NO_LIBRARY("--rocm", "LBSCHED_AGENT_ROCM")
	                                : env->rocm_from && env->rocm_from[0] != '-'
	                                ? "LBSCHED_AGENT_ROCM=none" : "--rocm none");
	if (!*rocm && use_rocm && strcmp(env->rocm, "none") != 0) {
		const char *lib = env->rocm;
		*rocm = ag_rocm_open(lib, &unloadable, err, sizeof err);
		if (!*rocm && unloadable && !env->rocm_from) {
			/* the default's versioned name is not there: its other */
			char first[500], second[500];
			snprintf(first, sizeof first, "%.499s", err);
			lib = DEFAULT_ROCM_DEV;
			*rocm = ag_rocm_open(lib, &unloadable, second, sizeof second);
			if (unloadable) /* neither: both said */
				snprintf(err, sizeof err, "%s; %s", first, second);
			else
				snprintf(err, sizeof err, "%s", second);
		}
		if (*rocm)
			ag_why(env, "ROCm SMI", "%s", lib);
	}
	if (unloadable && env->rocm_from) {
		ag_error("%s: %s", env->rocm_from, err);
		return -1;
	}
	unsigned amd = 0;
	if (*rocm)
		amd = ag_rocm_detect(*rocm, env, c);
	else
		ag_why(env, "ROCm SMI", "not used: %s", err);
	ag_detect_accel(env, c, listed > 0, amd > 0);
	if (c->gpus_over)
		ag_warn("%u GPUs, more than the %d a record describes: available_accelerators "
		        "counts them all, hardware_specs.gpus lists the first %d",
		        c->n_gpus + c->gpus_over, AG_MAX_GPUS, AG_MAX_GPUS);
	ag_detect_browsers(env, c);
	ag_why(env, "supported_backends", "cpu always; cuda when NVML lists a GPU, rocm when "
	       "ROCm SMI does");
	ag_why(env, "has_gpu", "any GPU from NVML or /sys/class/drm");
	return 0;
}

static int cmd_detect(const ag_env *env, const opts *o)
{
	ag_caps *c = malloc(sizeof *c);
	ag_nvml *nv = NULL;
	ag_rocm *rocm = NULL;
	cJSON *r = NULL;
	char *text = NULL;
	int rc = 1;

	if (!c) {
		ag_error("out of memory");
		return 1;
	}
	if (detect(env, o->id, c, &nv, &rocm) < 0)
		goto out;
	if (!(r = ag_record(c)) || !(text = cJSON_Print(r))) {
		ag_error("out of memory");
		goto out;
	}
	if (strlen(text) > AG_MAX_RECORD) {
		ag_error("the record would be %zu bytes, more than %u", strlen(text),
		         AG_MAX_RECORD);
		goto out;
	}
	if (puts(text) < 0 || fflush(stdout) != 0) {
		ag_error("cannot write the record to stdout: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	cJSON_free(text);
	cJSON_Delete(r);
	ag_nvml_close(nv);
	ag_rocm_close(rocm);
	free(c);
	return rc;
}

/* How long a detection may take, at most, for a machine whose last one
 * found c: each browser's --version (and one more, newly installed) at its
 * longest wait, and 10 s for the rest (hwloc, sensors, the GPUs' libraries)
 * under the unit's CPUQuota. */
static double detect_budget_s(const ag_caps *c)
{
	return (c->n_browsers + 1) * (AG_VERSION_WAIT_MS / 1000.0) + 10.0;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* The signals that stop run are blocked but while it waits: one that came
 * between the test of stop and the start of the wait (a clock_nanosleep)
 * was lost for the whole interval, and with --interval 3600 systemctl stop
 * timed out.  Blocked, it waits as pending, and pselect() unblocks it as it
 * starts to wait, atomically, and returns when it is handled. */
static const int stop_signals[] = {SIGTERM, SIGINT, SIGHUP};

static void sleep_until(double t)
{
	sigset_t block, was, waiting;

	sigemptyset(&block);
	for (size_t i = 0; i < sizeof stop_signals / sizeof *stop_signals; i++)
		sigaddset(&block, stop_signals[i]);
	sigprocmask(SIG_BLOCK, &block, &was);
	waiting = was;
	for (size_t i = 0; i < sizeof stop_signals / sizeof *stop_signals; i++)
		sigdelset(&waiting, stop_signals[i]);
	for (double left; !stop && (left = t - now_s()) > 0;) {
		struct timespec ts = {(time_t)left, (long)((left - floor(left)) * 1e9)};
		pselect(0, NULL, NULL, NULL, &ts, &waiting);
	}
	sigprocmask(SIG_SETMASK, &was, NULL);
}

static int cmd_run(const ag_env *env, const opts *o)
{
	ag_caps *c = malloc(sizeof *c);
	ag_nvml *nv = NULL;
	ag_rocm *rocm = NULL;
	ag_sink *sink = NULL;
	ag_live lv;
	cJSON *record = NULL;
	char *last = NULL, err[1024], said[1024] = "";
	/* The worker id is settled at the start: the Redis key is made from
	 * it then, and a reader keys a file's worker by it.  A host name
	 * changed later (DHCP, hostnamectl) is said once per new name. */
	char id[AG_NAME], host0[AG_NAME], host_said[AG_NAME] = "";
	int rc = 1, live = 0;
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* A Redis that resets the connection mid-write is an error of that
	 * sample (hiredis writes without MSG_NOSIGNAL), not the agent's end;
	 * systemd ignores SIGPIPE for its services, a shell does not. */
	signal(SIGPIPE, SIG_IGN);
	/* A closed terminal: stop between two writes, not in one; unless
	 * started under nohup, which asked to outlive it. */
	{
		struct sigaction was;

		if (sigaction(SIGHUP, NULL, &was) == 0 && was.sa_handler != SIG_IGN)
			sigaction(SIGHUP, &sa, NULL);
	}
	if (!c) {
		ag_error("out of memory");
		goto out;
	}
	if (detect(env, o->id, c, &nv, &rocm) < 0 || !(record = ag_record(c)))
		goto out;
	snprintf(id, sizeof id, "%s", c->id);
	snprintf(host0, sizeof host0, "%s", c->host);
	sink = o->redis ? ag_sink_redis(o->redis, o->password_file, o->insecure, o->ttl,
	                                c->id, err, sizeof err)
	                : ag_sink_file(o->file, o->mode, err, sizeof err);
	if (!sink) {
		ag_error("%s", err);
		goto out;
	}
	ag_live_init(&lv, env);
	ag_live_detected(&lv, c, nv, rocm);
	live = 1;
	double next = now_s(), detected = next;
	/* The first sample of `run` comes within AG_FIRST_SAMPLE_S (time
	 * enough for a CPU figure): a start or a restart with --interval 3600
	 * left the worker out of the fleet for an hour.  --once is cron's, and
	 * samples over the interval it was given. */
	double wait = o->once ? o->interval : fmin(o->interval, AG_FIRST_SAMPLE_S);
	for (;;) {
		next += wait;
		wait = o->interval;
		sleep_until(next);
		if (stop) {
			/* --once promised a sample: stopped before it, it says so */
			if (o->once) {
				ag_error("stopped by a signal before the sample was published");
				goto out;
			}
			break;
		}
		if (now_s() - detected >= o->redetect) {
			cJSON *fresh = NULL;
			/* A detection may outlast the TTL (each browser's
			 * --version is waited for up to AG_VERSION_WAIT_MS, and
			 * the unit's CPUQuota slows hwloc too): the key is held
			 * for that first, or the live worker left the fleet
			 * while its agent looked at it.  A failure here is the
			 * next publish's to say. */
			if (sink->hold)
				sink->hold(sink, o->ttl + detect_budget_s(c), err, sizeof err);
			detected = now_s();
			if (detect(env, id, c, &nv, &rocm) == 0 && (fresh = ag_record(c))) {
				cJSON_Delete(record);
				record = fresh;
				ag_live_detected(&lv, c, nv, rocm);
			} else {
				/* the last record's GPUs, sampled through
				 * whatever handles the detection left (one
				 * may have been loaded again, or closed) */
				lv.nv = nv;
				lv.rocm = rocm;
			}
			if (!o->id && c->host[0] && strcmp(c->host, host0) &&
			    strcmp(c->host, host_said)) {
				char was[96], now[96], keep[96];
				ag_error("the host name changed from '%s' to '%s'; the worker id "
				         "stays '%s' until the agent restarts",
				        txt_show(was, sizeof was, host0),
				        txt_show(now, sizeof now, c->host),
				        txt_show(keep, sizeof keep, id));
				snprintf(host_said, sizeof host_said, "%s", c->host);
			} else if (!strcmp(c->host, host0)) {
				host_said[0] = 0; /* back: a new change is said again */
			}
		}
		ag_load l;
		ag_live_sample(&lv, &l);
		cJSON *load = ag_load_json(c->id, &l);
		char *text = cJSON_PrintUnformatted(record);
		int changed = !last || !text || strcmp(last, text) != 0;
		int r = load ? sink->publish(sink, record, changed, load, err, sizeof err) : -1;
		if (!load)
			snprintf(err, sizeof err, "out of memory");
		cJSON_Delete(load);
		/* After a failure the sink may have written part of it, or
		 * Redis may run a timed-out transaction later: what was last
		 * published is no longer known, so the next success writes the
		 * record whole. */
		free(last);
		last = r == 0 && text ? strdup(text) : NULL;
		cJSON_free(text);
		/* an outage is said once, by its first failure, and its end:
		 * not every interval, nor again as its cause changes (a Redis
		 * restarting closes the connection, then refuses the next) */
		if (r < 0 && !said[0])
			ag_error("%s", err);
		else if (r == 0 && said[0])
			ag_error("publishing again");
		snprintf(said, sizeof said, "%s", r < 0 ? err : "");
		if (o->once) {
			rc = r < 0;
			goto out;
		}
		/* a machine that was suspended catches up once, not in a burst */
		if (now_s() > next + o->interval)
			next = now_s();
	}
	rc = 0;
out:
	if (live)
		ag_live_close(&lv);
	if (sink)
		sink->close(sink);
	free(last);
	cJSON_Delete(record);
	ag_nvml_close(nv);
	ag_rocm_close(rocm);
	free(c);
	return rc;
}

int main(int argc, char **argv)
{
	ag_env env = {"", DEFAULT_NVML, NULL, NULL, DEFAULT_ROCM, NULL, NULL, NULL};
	opts o;
	const char *e, *root_env = getenv("LBSCHED_AGENT_ROOT");

	file_hold_std_fds();
	memset(&o, 0, sizeof o);
	if (root_env)
		env.root = root_env;
	if ((e = getenv("LBSCHED_AGENT_NVML")) != NULL && *e) {
		env.nvml = e;
		env.nvml_from = "LBSCHED_AGENT_NVML";
	}
	if ((e = getenv("LBSCHED_AGENT_ROCM")) != NULL && *e) {
		env.rocm = e;
		env.rocm_from = "LBSCHED_AGENT_ROCM";
	}
	int r = parse(argc, argv, &o, &env);
	if (r)
		return r;
	if (env.root[0]) {
		/* else every file under it is "missing", and the first message
		 * blamed the host name */
		struct stat st;
		int gone = stat(env.root, &st) != 0;

		if (gone || !S_ISDIR(st.st_mode)) {
			ag_error("%s '%s': %s",
			        env.root == root_env ? "LBSCHED_AGENT_ROOT" : "--root", env.root,
			        gone ? strerror(errno) : "not a directory");
			return 2;
		}
	}
	if (!strcmp(env.root, "/"))
		env.root = "";
	/* A recorded tree is another machine: this one's PATH would put its
	 * browsers into that machine's record, unless named for it. */
	if ((e = getenv("LBSCHED_AGENT_BROWSER_PATH")) != NULL) {
		env.path = e;
		env.path_from = "LBSCHED_AGENT_BROWSER_PATH";
	} else if (!env.root[0]) {
		env.path = getenv("PATH");
	}
	if (o.explain)
		env.why = stderr;
	return !strcmp(o.cmd, "detect") ? cmd_detect(&env, &o) : cmd_run(&env, &o);
}
