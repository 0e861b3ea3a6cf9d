/*
 * report.c -- the simulate result as one self-contained HTML page.
 *
 * The page is static: inline CSS and inline SVG, no script, nothing fetched.
 * Charts are drawn from a checked copy of the result (report_data.c) with a
 * handful of helpers (scales, axes, legends); every data mark carries
 * class="mark" and every chart's <svg> a data-chart name, so a DOM check can
 * tell an empty chart from a drawn one.  Colours are Paul Tol's colour-blind
 * safe "muted" set for categories and viridis for the heatmap.
 *
 * Large results stay bounded: a line keeps at most about one point per pixel
 * column, the thermal lanes are capped, dense axes label every n-th worker.
 */
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "report_data.h"
#include "text.h"

#define WIDTH 1040.0       /* every chart's width but a wide heatmap's */
#define LOG_RATIO 30.0     /* wider data than this gets a log axis */
#define CURVE_POINTS 1500  /* per line, after thinning */
#define MAX_LANES 40       /* thermal lanes drawn */
#define MULTIPLES_MAX 64   /* workers up to which other runs get small multiples */
#define CHAR_W 6.4         /* average width of an 11px character */
#define FMT_LEN 400        /* a number's text: the largest double's digits, and more */

static const char *const palette[] = {
	"#332288", "#88CCEE", "#44AA99", "#117733", "#999933",
	"#DDCC77", "#CC6677", "#882255", "#AA4499",
};
#define NPALETTE (sizeof palette / sizeof palette[0])
static const char *const dashes[] = {"", "8 4", "2 3"};
#define ORACLE "oracle"

/* ---- text ---------------------------------------------------------------- */

/* At most max characters of the len bytes at s (UTF-8 aware), escaped for
 * text and attributes; longer text ends in an ellipsis.  max 0 = all. */
static void esc_span(FILE *o, const char *s, size_t len, size_t max)
{
	const char *end = s + len;
	size_t chars = 0, skip;

	for (; s < end; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c & 0xc0) != 0x80 && max && ++chars > max) {
			fputs("\xe2\x80\xa6", o);
			return;
		}
		/* a name carrying a bidirectional control could turn a
		 * tooltip's "X on W: 3 s" backwards: '?', as the C0 controls */
		if ((skip = txt_format_control((const unsigned char *)s, (size_t)(end - s)))) {
			fputc('?', o);
			s += skip - 1;
			continue;
		}
		switch (c) {
		case '&': fputs("&amp;", o); break;
		case '<': fputs("&lt;", o); break;
		case '>': fputs("&gt;", o); break;
		case '"': fputs("&quot;", o); break;
		case '\'': fputs("&#39;", o); break;
		default:
			if (c < 0x20 && c != '\t' && c != '\n')
				fputc('?', o);
			else
				fputc(c, o);
		}
	}
}

static void esc_cut(FILE *o, const char *s, size_t max)
{
	esc_span(o, s, strlen(s), max);
}

static void esc(FILE *o, const char *s)
{
	esc_cut(o, s, 0);
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* A whole number with thousands separators: 20,000.  "—" when missing. */
static void put_count(FILE *o, double v)
{
	char digits[FMT_LEN];
	size_t n, i;

	if (report_missing(v)) {
		fputs("\xe2\x80\x94", o);
		return;
	}
	snprintf(digits, sizeof digits, "%.0f", fabs(v));
	n = strlen(digits);
	if (v <= -0.5)
		fputc('-', o);
	for (i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			fputc(',', o);
		fputc(digits[i], o);
	}
}

/* A measurement with a fixed number of decimals; "—" when missing. */
static void put_fixed(FILE *o, double v, int decimals)
{
	if (report_missing(v))
		fputs("\xe2\x80\x94", o);
	else
		fprintf(o, "%.*f", decimals, v);
}

/* About three significant digits, never an exponent, for any finite v:
 * 0.0000123, 0.0123, 4.5, 123, 45.6k, 1.2M, 3.4G, up to 999Q, then the
 * digits before the Q (1e40 is 10000000000Q).  buf holds FMT_LEN. */
static const char *fmt_short(char *buf, size_t n, double v)
{
	static const char unit[] = "kMGTPEZYRQ";
	double a = fabs(v);
	const char *sign = v < 0 ? "-" : "";

	if (v == 0 || !isfinite(v)) {
		snprintf(buf, n, v == 0 ? "0" : "\xe2\x80\x94");
	} else if (a >= 1e4) {
		/* the first unit that leaves at most three digits before the
		 * point once rounded (999.7k is 1M, not 1e+03k) */
		size_t k = 0;
		double x = a / 1e3;
		char t[16];
		for (;;) {
			snprintf(t, sizeof t, "%.3g", x);
			if (!strchr(t, 'e') || k + 2 == sizeof unit)
				break;
			x /= 1e3;
			k++;
		}
		if (strchr(t, 'e'))
			snprintf(buf, n, "%s%.0f%c", sign, x, unit[k]);
		else
			snprintf(buf, n, "%s%s%c", sign, t, unit[k]);
	} else if (a >= 100) {
		snprintf(buf, n, "%.0f", v);
	} else if (a >= 1e-4) {
		snprintf(buf, n, "%.3g", v);
	} else {
		/* three significant digits in fixed notation, trailing zeros
		 * dropped as %g drops them */
		int decimals = 2 - (int)floor(log10(a));
		size_t len;
		snprintf(buf, n, "%.*f", decimals, v);
		len = strlen(buf);
		while (len > 1 && buf[len - 1] == '0')
			buf[--len] = '\0';
		if (len && buf[len - 1] == '.')
			buf[--len] = '\0';
	}
	return buf;
}

/* ---- scales and axes ----------------------------------------------------- */

typedef struct scale {
	double d0, d1; /* domain, d1 > d0 (and d0 > 0 on a log scale) */
	double r0, r1; /* range in pixels */
	int log;
} scale;

static double nice_step(double span, int want)
{
	double raw = span / want, mag = pow(10, floor(log10(raw))), f = raw / mag;

	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/* The nearest of 1, 2, 5 times a power of ten below (up 0) or above v > 0. */
static double snap125(double v, int up)
{
	static const double m[] = {1, 2, 5, 10};
	double mag = pow(10, floor(log10(v))), f = v / mag;
	int k;

	if (up) {
		for (k = 0; k < 3 && m[k] < f * (1 - 1e-9); k++)
			;
		return m[k] * mag;
	}
	for (k = 3; k > 0 && m[k] > f * (1 + 1e-9); k--)
		;
	return m[k] * mag;
}

/* Fit a scale to data in [lo, hi] (lo > hi: no data).  A linear scale
 * starts at zero when zero_based; a log scale is used when allowed and the
 * data spans more than LOG_RATIO.  An end is rounded out to a tick only
 * when that costs little room. */
static scale scale_fit(double lo, double hi, double r0, double r1,
                       int allow_log, int zero_based)
{
	scale s = {0, 1, r0, r1, 0};
	double step, span;

	if (!(lo <= hi))
		return s;
	if (allow_log && lo > 0 && hi / lo > LOG_RATIO) {
		s.log = 1;
		s.d0 = snap125(lo, 0);
		s.d1 = snap125(hi, 1);
		return s;
	}
	if (zero_based && lo > 0)
		lo = 0;
	if (hi - lo < 1e-9 * (fabs(hi) + 1))
		hi = lo + (lo ? fabs(lo) : 1);
	span = hi - lo;
	step = nice_step(span, 5);
	s.d0 = floor(lo / step) * step;
	s.d1 = ceil(hi / step) * step;
	if (lo - s.d0 > span * 0.1)
		s.d0 = lo;
	if (s.d1 - hi > span * 0.1)
		s.d1 = hi;
	return s;
}

static double at(const scale *s, double v)
{
	double t;

	if (s->log) {
		if (!(v > s->d0))
			v = s->d0;
		t = (log10(v) - log10(s->d0)) / (log10(s->d1) - log10(s->d0));
	} else {
		t = (v - s->d0) / (s->d1 - s->d0);
	}
	if (!isfinite(t))
		t = 0;
	return s->r0 + t * (s->r1 - s->r0);
}

/* Tick values: about five nice steps, or decades (with 2s and 5s when the
 * scale spans few decades). */
static size_t ticks(const scale *s, double *t, size_t max)
{
	size_t n = 0;

	if (s->log) {
		int e0 = (int)floor(log10(s->d0) + 1e-9), e1 = (int)ceil(log10(s->d1) - 1e-9);
		int few = s->d1 / s->d0 <= 1000, e;
		for (e = e0; e <= e1 && n < max; e++) {
			static const double m[] = {1, 2, 5};
			size_t k;
			for (k = 0; k < (few ? 3u : 1u) && n < max; k++) {
				double v = m[k] * pow(10, e);
				if (v >= s->d0 * (1 - 1e-9) && v <= s->d1 * (1 + 1e-9))
					t[n++] = v;
			}
		}
		return n;
	}
	{
		double step = nice_step(s->d1 - s->d0, 5), v;
		for (v = ceil(s->d0 / step - 1e-9) * step; v <= s->d1 + step * 1e-9 && n < max;
		     v += step)
			t[n++] = fabs(v) < step * 1e-9 ? 0 : v;
	}
	return n;
}

/* The x axis at y = base, with grid lines up to y = top. */
static void axis_x(FILE *o, const scale *sx, double base, double top,
                   const char *title)
{
	double t[64];
	size_t n = ticks(sx, t, 64), i;
	char b[FMT_LEN];

	fputs("<g class=\"axis\">", o);
	for (i = 0; i < n; i++) {
		double x = at(sx, t[i]);
		fprintf(o, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
		           "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
		           "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>",
		        x, x, top, base, x, x, base, base + 4, x, base + 16,
		        fmt_short(b, sizeof b, t[i]));
	}
	fprintf(o, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>",
	        sx->r0, sx->r1, base, base);
	fprintf(o, "<text class=\"title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
	        (sx->r0 + sx->r1) / 2, base + 34);
	esc(o, title);
	fputs(sx->log ? " \xe2\x80\x94 log scale</text></g>" : "</text></g>", o);
}

/* The y axis at x = left, with grid lines across to x = right. */
static void axis_y(FILE *o, const scale *sy, double left, double right,
                   const char *title)
{
	double t[64];
	size_t n = ticks(sy, t, 64), i;
	char b[FMT_LEN];

	fputs("<g class=\"axis\">", o);
	for (i = 0; i < n; i++) {
		double y = at(sy, t[i]);
		fprintf(o, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
		           "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
		           "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
		        left, right, y, y, left - 4, left, y, y, left - 7, y + 4,
		        fmt_short(b, sizeof b, t[i]));
	}
	fprintf(o, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>",
	        left, left, sy->r0, sy->r1);
	fprintf(o, "<text class=\"title\" transform=\"translate(%.1f %.1f) rotate(-90)\" "
	           "text-anchor=\"middle\">", left - 50, (sy->r0 + sy->r1) / 2);
	esc(o, title);
	fputs(sy->log ? " \xe2\x80\x94 log scale</text></g>" : "</text></g>", o);
}

/* ---- page pieces --------------------------------------------------------- */

static void svg_open(FILE *o, const char *chart, double w, double h,
                     const char *label, const char *run)
{
	fprintf(o, "<svg data-chart=\"%s\" "
	           "viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\" "
	           "aria-label=\"", chart, w, h, w, h);
	esc(o, label);
	if (run) {
		fputs(", ", o);
		esc(o, run);
		fputs("\" data-run=\"", o);
		esc(o, run);
	}
	fputs("\">", o);
}

static void no_data(FILE *o, double x, double y, const char *what)
{
	fprintf(o, "<text class=\"nodata\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x, y);
	esc(o, what);
	fputs("</text>", o);
}

static void section(FILE *o, const char *id, const char *title)
{
	fprintf(o, "<section id=\"%s\"><h2>%s</h2>\n", id, title);
}

static void legend_box(FILE *o, const char *colour, const char *name)
{
	fprintf(o, "<span class=\"key\"><i class=\"sw\" style=\"background:%s\"></i>", colour);
	esc(o, name);
	fputs("</span>", o);
}

static void legend_line(FILE *o, const char *colour, const char *dash,
                        const char *name, const char *note)
{
	fprintf(o, "<span class=\"key\"><i class=\"ln\" style=\"border-top-color:%s;"
	           "border-top-style:%s\"></i>", colour, *dash ? "dashed" : "solid");
	esc(o, name);
	if (note)
		fprintf(o, " <small>(%s)</small>", note);
	fputs("</span>", o);
}

static const char *type_colour(size_t t)
{
	return palette[t % NPALETTE];
}

/* A run's line: the oracle black and dashed, the others by palette, with a
 * dash pattern once the colours repeat. */
static void run_style(const report_result *r, size_t i, const char **colour,
                      const char **dash)
{
	size_t k = 0, j;

	if (!strcmp(r->run[i].scheduler, ORACLE)) {
		*colour = "#000000";
		*dash = "7 4";
		return;
	}
	for (j = 0; j < i; j++)
		k += strcmp(r->run[j].scheduler, ORACLE) != 0;
	*colour = palette[k % NPALETTE];
	*dash = dashes[(k / NPALETTE) % (sizeof dashes / sizeof dashes[0])];
}

/* The run the single-run charts show: hardware-aware, else the first run
 * that is not the oracle, else the first. */
static size_t primary_run(const report_result *r)
{
	size_t i;

	for (i = 0; i < r->nruns; i++)
		if (!strcmp(r->run[i].scheduler, "hardware-aware"))
			return i;
	for (i = 0; i < r->nruns; i++)
		if (strcmp(r->run[i].scheduler, ORACLE))
			return i;
	return 0;
}

/* Every n-th label when rows are pitch pixels apart and a label needs 12. */
static size_t label_every(double pitch)
{
	return pitch >= 12 ? 1 : (size_t)ceil(12 / pitch);
}

static double label_width(const char *const *names, size_t n, size_t cap)
{
	size_t i, w = 1;

	for (i = 0; i < n; i++) {
		size_t c = utf8_chars(names[i]);
		w = c > w ? c : w;
	}
	return (double)(w < cap ? w : cap) * CHAR_W + 12;
}

/* NaN becomes lo, so a cast to an index stays defined. */
static double clampd(double v, double lo, double hi)
{
	return !(v >= lo) ? lo : v > hi ? hi : v;
}

/* ---- header and table ---------------------------------------------------- */

static const char css[] =
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
	"color:#222;margin:0;background:#fff}"
	"main{max-width:1080px;margin:0 auto;padding:20px 24px 40px}"
	"h1{font-size:24px;margin:0 0 6px}"
	"h2{font-size:18px;margin:34px 0 4px;padding-bottom:4px;border-bottom:1px solid #ddd}"
	"p.how{color:#555;margin:4px 0 10px;max-width:920px}"
	"dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:10px 0}"
	"dt{color:#666}dd{margin:0;font-family:ui-monospace,'DejaVu Sans Mono',monospace;"
	"font-size:13px;overflow-wrap:anywhere}"
	".scroll{overflow-x:auto}"
	"table{border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:13px}"
	"th,td{padding:5px 9px;border-bottom:1px solid #e4e4e4;text-align:right;white-space:nowrap}"
	"th{background:#f4f4f4;font-weight:600;vertical-align:bottom;white-space:normal}"
	"th:first-child,td:first-child{text-align:left}"
	"tr.best td{background:#fff2bf;font-weight:600}"
	"tr.oracle td{color:#555;font-style:italic}"
	".badge{display:inline-block;margin-left:6px;padding:0 5px;border-radius:3px;"
	"background:#DDCC77;color:#222;font-size:11px;font-style:normal}"
	".legend{display:flex;flex-wrap:wrap;gap:4px 16px;margin:6px 0 2px;font-size:13px}"
	".key{display:inline-flex;align-items:center;gap:6px}"
	".sw{display:inline-block;width:13px;height:13px;border-radius:2px}"
	".sw.hatch{background:repeating-linear-gradient(45deg,#33228866 0 3px,#fff 3px 6px);"
	"border:1px solid #ccc}.sw.empty{background:#fff;border:1px solid #bbb}"
	".ln{display:inline-block;width:28px;height:0;border-top-width:3px}"
	".ramp{display:inline-block;width:160px;height:12px;border:1px solid #ccc;background:"
	"linear-gradient(90deg,#440154,#3b528b,#21918c,#5ec962,#fde725)}"
	".multiples{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:14px}"
	"figure{margin:0}figcaption{font-weight:600;font-size:13px;margin-bottom:2px}"
	"svg{display:block;font:11px system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
	"margin:6px 0}"
	"svg text{fill:#333}svg .title{font-size:12px;fill:#222}"
	"svg .axis line{stroke:#999}svg .axis line.grid{stroke:#ececec}"
	"svg .nodata{fill:#888;font-size:14px}"
	"footer{margin-top:40px;color:#777;font-size:12px}";

static void put_file(FILE *o, const char *label, const char *file, const char *none)
{
	fprintf(o, "<dt>%s</dt><dd>", label);
	if (file)
		esc(o, file);
	else
		fputs(none, o);
	fputs("</dd>", o);
}

/* The rolling window the curves used: curve_window, but a run that finished
 * fewer tests averaged over all of them, and its curve's first x says so
 * (docs/SIMULATE.md).  *lo..*hi over the runs with a curve. */
static void windows_used(const report_result *r, double *lo, double *hi)
{
	size_t i;

	*lo = INFINITY;
	*hi = -INFINITY;
	for (i = 0; i < r->nruns; i++) {
		const report_series *c = &r->run[i].curve;
		double w;
		if (!c->n)
			continue;
		w = c->p[0].x >= 1 && c->p[0].x < r->curve_window ? c->p[0].x : r->curve_window;
		*lo = w < *lo ? w : *lo;
		*hi = w > *hi ? w : *hi;
	}
	if (!(*lo <= *hi))
		*lo = *hi = r->curve_window;
}

/* "500 tests", or "20 tests (fewer finished than the window of 500)", or a
 * range "15 to 20 tests (...)" when the runs differ. */
static void put_window(FILE *o, const report_result *r)
{
	double lo, hi;

	windows_used(r, &lo, &hi);
	put_count(o, lo);
	if (hi != lo) {
		fputs(" to ", o);
		put_count(o, hi);
	}
	fputs(" tests", o);
	if (lo < r->curve_window) {
		fputs(" (fewer tests finished than the window of ", o);
		put_count(o, r->curve_window);
		fputs(")", o);
	}
}

static void header(FILE *o, const report_result *r)
{
	size_t p = primary_run(r), i;

	fputs("<header><h1>lbsched simulation report</h1>\n<p class=\"lead\">", o);
	put_count(o, r->tests);
	if (r->tests_file)
		fputs(" tests replayed from a recorded stream", o);
	else {
		fputs(" tests arriving at random (Poisson) at ", o);
		put_fixed(o, r->rate_per_s, r->rate_per_s < 10 ? 2 : 0);
		fputs(" per second", o);
	}
	fprintf(o, ", on %zu worker%s, %zu workload type%s. %zu scheduler%s compared on the "
	           "identical stream of tests: ", r->nworkers, r->nworkers == 1 ? "" : "s",
	        r->ntypes, r->ntypes == 1 ? "" : "s", r->nruns, r->nruns == 1 ? "" : "s");
	for (i = 0; i < r->nruns; i++) {
		fputs(i ? ", " : "", o);
		esc(o, r->run[i].scheduler);
	}
	fputs(". Random seed ", o);
	fprintf(o, "%.0f", r->seed);
	fputs("; the first ", o);
	put_count(o, r->warmup);
	fputs(" tests are the warm-up, left out of \xe2\x80\x9cmean after warm-up\xe2\x80\x9d"
	      " and the ratio to the oracle.</p>\n<dl>", o);
	put_file(o, "Fleet", r->workers_file, "\xe2\x80\x94");
	put_file(o, "Truth (hidden from the schedulers)", r->truth_file, "\xe2\x80\x94");
	put_file(o, "Workload mix", r->mix_file, r->tests_file ? "\xe2\x80\x94" : "default");
	put_file(o, "Tests file", r->tests_file, "generated from the mix");
	fputs("<dt>Duration noise \xcf\x83</dt><dd>", o);
	put_fixed(o, r->noise_sigma, 2);
	fputs("</dd><dt>Rolling window</dt><dd>", o);
	put_window(o, r);
	fputs("</dd></dl>\n<p class=\"how\">The charts for a single run show <b>", o);
	esc(o, r->run[p].scheduler);
	fputs("</b>.</p></header>\n", o);
}

/* The run to highlight: the lowest mean after warm-up (or overall mean)
 * among the real schedulers; the oracle is the yardstick, not a contender. */
static size_t best_run(const report_result *r)
{
	size_t i, best = (size_t)-1;
	double bv = INFINITY;

	for (i = 0; i < r->nruns; i++) {
		const report_run *u = &r->run[i];
		double v = report_missing(u->mean_after_warmup_s) ? u->mean_s
		                                                  : u->mean_after_warmup_s;
		if (!strcmp(u->scheduler, ORACLE) || report_missing(v))
			continue;
		if (v < bv) {
			bv = v;
			best = i;
		}
	}
	return best;
}

/* "1.23×", or the missing-value dash. */
static void put_ratio(FILE *o, double x)
{
	if (!report_missing(x))
		fprintf(o, "%.2f\xc3\x97", x);
	else
		put_fixed(o, NAN, 0);
}

static void comparison(FILE *o, const report_result *r)
{
	size_t best = best_run(r), i;

	section(o, "comparison", "Comparison");
	fputs("<p class=\"how\">One row per scheduler, all on the same tests. Completion time is "
	      "arrival to finish, queueing included; lower is better. The ratio to the oracle "
	      "divides the mean after warm-up by the oracle\xe2\x80\x99s (1.00 = as good as a "
	      "scheduler that knows the truth, and places greedily). The lower bound runs each "
	      "test alone, at once, on its fastest eligible worker; no scheduler can reach it "
	      "on a loaded fleet. The highlighted row is the best scheduler.</p>\n"
	      "<div class=\"scroll\"><table><thead><tr><th>Scheduler</th><th>Tests</th>"
	      "<th>Completed</th><th>Mean (s)</th><th>p95 (s)</th><th>Mean after warm-up (s)</th>"
	      "<th>Makespan (s)</th><th>Throughput (/s)</th><th>Failures</th>"
	      "<th>Deadline misses</th><th>Unplaced</th><th>Ratio to oracle</th>"
	      "<th>Ratio to lower bound</th></tr></thead><tbody>\n", o);
	for (i = 0; i < r->nruns; i++) {
		const report_run *u = &r->run[i];
		int oracle = !strcmp(u->scheduler, ORACLE);
		fprintf(o, "<tr class=\"run%s\"><td>", i == best ? " best" : oracle ? " oracle" : "");
		esc(o, u->scheduler);
		if (i == best)
			fputs("<span class=\"badge\">best</span>", o);
		fputs("</td><td>", o);
		put_count(o, u->tests);
		fputs("</td><td>", o);
		put_count(o, u->completed);
		fputs("</td><td>", o);
		put_fixed(o, u->mean_s, 1);
		fputs("</td><td>", o);
		put_fixed(o, u->p95_s, 1);
		fputs("</td><td>", o);
		put_fixed(o, u->mean_after_warmup_s, 1);
		fputs("</td><td>", o);
		put_fixed(o, u->makespan_s, 0);
		fputs("</td><td>", o);
		put_fixed(o, u->throughput_per_s, 3);
		fputs("</td><td>", o);
		put_count(o, u->failures);
		fputs("</td><td>", o);
		put_count(o, u->deadline_misses);
		fputs("</td><td>", o);
		put_count(o, u->unplaced);
		fputs("</td><td>", o);
		put_ratio(o, u->ratio_to_oracle);
		fputs("</td><td>", o);
		put_ratio(o, u->ratio_to_lower_bound);
		fputs("</td></tr>\n", o);
	}
	fputs("</tbody></table></div>", o);
	if (!report_missing(r->lower_bound_s)) {
		fputs("<p class=\"how\">Lower bound on the mean after warm-up: ", o);
		put_fixed(o, r->lower_bound_s, 1);
		fputs(" s.</p>", o);
	}
	fputs("</section>\n", o);
}

/* ---- learning curves ----------------------------------------------------- */

static void curves(FILE *o, const report_result *r)
{
	const double h = 430, left = 78, right = WIDTH - 16, top = 24, base = h - 52;
	double xmax = r->warmup, ylo = INFINITY, yhi = -INFINITY;
	size_t i, j;
	scale sx, sy;

	section(o, "curves", "Learning curves");
	fputs("<p class=\"how\">The rolling mean completion time of the last ", o);
	put_window(o, r);
	fputs(", as tests finish (in arrival order). Lower is better. A learning "
	      "scheduler starts on its prior and its line falls toward the oracle\xe2\x80\x99s "
	      "(black, dashed) as outcomes come back; a line that keeps rising is a queue "
	      "growing without bound. The grey band is the warm-up.</p>\n", o);
	for (i = 0; i < r->nruns; i++)
		for (j = 0; j < r->run[i].curve.n; j++) {
			const report_xy *p = &r->run[i].curve.p[j];
			xmax = p->x > xmax ? p->x : xmax;
			ylo = p->y < ylo ? p->y : ylo;
			yhi = p->y > yhi ? p->y : yhi;
		}
	sx = scale_fit(0, xmax, left, right, 0, 1);
	sy = scale_fit(ylo, yhi, base, top, 1, 1);
	svg_open(o, "curves", WIDTH, h, "Learning curves: rolling mean completion time by tests finished", NULL);
	if (r->warmup > 0) {
		double wx = at(&sx, r->warmup < sx.d1 ? r->warmup : sx.d1);
		fprintf(o, "<rect class=\"warmup\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
		           "fill=\"#f0f0f0\"/>", left, top, wx - left, base - top);
		fprintf(o, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#777\" "
		           "stroke-dasharray=\"3 3\"/><text x=\"%.1f\" y=\"%.1f\">warm-up: ",
		        wx, wx, top, base, wx + 4, top + 12);
		put_count(o, r->warmup);
		fputs(" tests</text>", o);
	}
	axis_x(o, &sx, base, top, "tests finished (count)");
	axis_y(o, &sy, left, right, "rolling mean completion time (s)");
	for (i = 0; i < r->nruns; i++) {
		const report_series *c = &r->run[i].curve;
		size_t step = c->n > CURVE_POINTS ? (c->n + CURVE_POINTS - 1) / CURVE_POINTS : 1;
		const char *colour, *dash;
		if (!c->n)
			continue;
		run_style(r, i, &colour, &dash);
		fprintf(o, "<polyline class=\"mark line\" fill=\"none\" stroke=\"%s\" "
		           "stroke-width=\"2\" stroke-linejoin=\"round\"%s%s%s data-run=\"",
		        colour, *dash ? " stroke-dasharray=\"" : "", dash, *dash ? "\"" : "");
		esc(o, r->run[i].scheduler);
		fputs("\" points=\"", o);
		for (j = 0; j < c->n; j += step)
			fprintf(o, "%.1f,%.1f ", at(&sx, c->p[j].x), at(&sy, c->p[j].y));
		if ((c->n - 1) % step)
			fprintf(o, "%.1f,%.1f", at(&sx, c->p[c->n - 1].x), at(&sy, c->p[c->n - 1].y));
		fputs("\"><title>", o);
		esc(o, r->run[i].scheduler);
		fputs("</title></polyline>", o);
		/* A curve of one point (a run that finished no more tests than
		 * the window) is a line of no length: a dot shows it. */
		if (c->n == 1) {
			char b[FMT_LEN];
			fprintf(o, "<circle class=\"mark point\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" "
			           "fill=\"%s\" data-run=\"", at(&sx, c->p[0].x), at(&sy, c->p[0].y),
			        colour);
			esc(o, r->run[i].scheduler);
			fputs("\"><title>", o);
			esc(o, r->run[i].scheduler);
			fprintf(o, ": %s s over ", fmt_short(b, sizeof b, c->p[0].y));
			put_count(o, c->p[0].x);
			fputs(" tests</title></circle>", o);
		}
	}
	if (!(ylo <= yhi))
		no_data(o, (left + right) / 2, (top + base) / 2, "no test finished in any run");
	fputs("</svg>\n<div class=\"legend\">", o);
	for (i = 0; i < r->nruns; i++) {
		const char *colour, *dash;
		run_style(r, i, &colour, &dash);
		legend_line(o, colour, dash, r->run[i].scheduler,
		            r->run[i].curve.n ? NULL : "no finished tests");
	}
	fputs("</div></section>\n", o);
}

/* ---- assignments --------------------------------------------------------- */

static double worker_total(const report_result *r, const report_run *u, size_t w)
{
	double s = 0;
	size_t t;

	for (t = 0; t < r->ntypes; t++)
		s += u->assignments[w * r->ntypes + t];
	return s;
}

/* Stacked bars, one per worker, segments by type.  small: a small multiple
 * without worker labels. */
static void assignment_bars(FILE *o, const report_result *r, const report_run *u,
                            double xmax, int small)
{
	size_t nw = r->nworkers, w, t;
	double lw = small ? 8 : label_width(r->worker_id, nw, 26);
	double width = small ? 330 : WIDTH, right = width - (small ? 22 : 60);
	double pitch = clampd((small ? 180 : 560) / (double)nw, small ? 1.5 : 2, 24);
	double top = 8, base = top + pitch * (double)nw, bar = pitch >= 6 ? pitch * 0.75 : pitch;
	size_t every = label_every(pitch);
	scale sx = scale_fit(0, xmax, lw, right, 0, 1);
	char b[FMT_LEN];

	svg_open(o, small ? "assignments-run" : "assignments", width, base + 46,
	         "Tests placed per worker by workload type", small ? u->scheduler : NULL);
	axis_x(o, &sx, base, top, small ? "tests placed" : "tests placed (count)");
	for (w = 0; w < nw; w++) {
		double y = top + pitch * (double)w + (pitch - bar) / 2, cum = 0;
		if (!small && w % every == 0) {
			fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", lw - 6,
			        y + bar / 2 + 4);
			esc_cut(o, r->worker_id[w], 26);
			fputs("</text>", o);
		}
		for (t = 0; t < r->ntypes; t++) {
			double n = u->assignments[w * r->ntypes + t], x0 = at(&sx, cum);
			if (n <= 0)
				continue;
			cum += n;
			fprintf(o, "<rect class=\"mark\" x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" "
			           "height=\"%.1f\" fill=\"%s\"><title>", x0, y, at(&sx, cum) - x0,
			        bar, type_colour(t));
			esc(o, r->worker_id[w]);
			fprintf(o, " (capacity %s) \xc2\xb7 ", fmt_short(b, sizeof b, r->capacity[w]));
			esc(o, r->type[t]);
			fputs(": ", o);
			put_count(o, n);
			fputs(" tests</title></rect>", o);
		}
		if (!small && pitch >= 12)
			fprintf(o, "<text x=\"%.1f\" y=\"%.1f\">%.0f</text>", at(&sx, cum) + 4,
			        y + bar / 2 + 4, cum);
	}
	fputs("</svg>", o);
}

static void assignments(FILE *o, const report_result *r)
{
	size_t p = primary_run(r), i, w, t;
	double xmax = 0;

	for (i = 0; i < r->nruns; i++)
		for (w = 0; w < r->nworkers; w++) {
			double s = worker_total(r, &r->run[i], w);
			xmax = s > xmax ? s : xmax;
		}
	section(o, "assignments", "Assignments per worker by workload type");
	fputs("<p class=\"how\">How many tests each worker was given, split by workload type, "
	      "for <b>", o);
	esc(o, r->run[p].scheduler);
	fputs("</b>. A hardware-aware scheduler gives each type to the workers that run it "
	      "fastest; a rotation spreads every type evenly.</p>\n", o);
	assignment_bars(o, r, &r->run[p], xmax, 0);
	fputs("\n<div class=\"legend\">", o);
	for (t = 0; t < r->ntypes; t++)
		legend_box(o, type_colour(t), r->type[t]);
	fputs("</div>\n", o);
	if (r->nruns > 1 && r->nworkers <= MULTIPLES_MAX) {
		fputs("<p class=\"how\">The other runs, workers in the same order and on the same "
		      "scale:</p><div class=\"multiples\">", o);
		for (i = 0; i < r->nruns; i++) {
			if (i == p)
				continue;
			fputs("<figure><figcaption>", o);
			esc(o, r->run[i].scheduler);
			fputs("</figcaption>", o);
			assignment_bars(o, r, &r->run[i], xmax, 1);
			fputs("</figure>\n", o);
		}
		fputs("</div>\n", o);
	} else if (r->nruns > 1) {
		fprintf(o, "<p class=\"how\">Small multiples of the other runs are left out above %d "
		           "workers.</p>\n", MULTIPLES_MAX);
	}
	fputs("</section>\n", o);
}

/* ---- efficiency heatmap -------------------------------------------------- */

/* Viridis at t in 0..1, as #rrggbb; *dark says whether white text reads. */
static void viridis(double t, char out[8], int *dark)
{
	static const unsigned char stop[5][3] = {
		{0x44, 0x01, 0x54}, {0x3b, 0x52, 0x8b}, {0x21, 0x91, 0x8c},
		{0x5e, 0xc9, 0x62}, {0xfd, 0xe7, 0x25},
	};
	double f = clampd(t, 0, 1) * 4;
	int k = f >= 4 ? 3 : (int)f, c, rgb[3];

	f -= k;
	for (c = 0; c < 3; c++)
		rgb[c] = (int)lround(stop[k][c] + f * (stop[k + 1][c] - stop[k][c]));
	snprintf(out, 8, "#%02x%02x%02x", rgb[0] & 0xff, rgb[1] & 0xff, rgb[2] & 0xff);
	*dark = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] < 140;
}

static void efficiency(FILE *o, const report_result *r)
{
	const report_run *u = &r->run[primary_run(r)];
	size_t nw = r->nworkers, nt = r->ntypes, w, t, every;
	double lo = INFINITY, hi = -INFINITY, lw = label_width(r->type, nt, 32);
	double cw = clampd((WIDTH - lw - 20) / (double)nw, 6, 90), rh = nt > 24 ? 16 : 30;
	double top = 8, bottom = top + rh * (double)nt, wl, width, llo, lhi;
	int numbers = cw >= 34 && rh >= 14;
	char a[FMT_LEN], b[FMT_LEN];

	for (t = 0; t < nt * nw; t++) {
		double v = u->efficiency[t];
		if (!report_missing(v) && v > 0) {
			lo = v < lo ? v : lo;
			hi = v > hi ? v : hi;
		}
	}
	llo = lo <= hi ? log(lo) : 0;
	lhi = lo <= hi ? log(hi) : 1;
	/* Worker labels slant down-left at 40 degrees: they need 0.64 of their
	 * length below the grid, 0.77 of it to the left, and 0.64 of a column
	 * between neighbours for 11px of line height. */
	every = label_every(cw * 0.64);
	wl = label_width(r->worker_id, nw, 22) - 12;
	lw = fmax(lw, wl * 0.77 - cw / 2 + 8);
	width = lw + cw * (double)nw + 20;

	section(o, "efficiency", "Efficiency by workload type and worker");
	fputs("<p class=\"how\">For <b>", o);
	esc(o, u->scheduler);
	fputs("</b>: each cell is the mean of expected \xc3\xb7 actual duration over the "
	      "successful tests of that type on that worker. Above 1 the worker ran the type "
	      "faster than the test expected, below 1 slower. Brighter is faster; a blank cell "
	      "means no test of that type finished there.</p>\n<div class=\"scroll\">", o);
	svg_open(o, "efficiency", width, bottom + wl * 0.64 + 24,
	         "Efficiency heatmap: expected over actual duration, workload type by worker", NULL);
	for (t = 0; t < nt; t++) {
		double y = top + rh * (double)t;
		fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", lw - 8, y + rh / 2 + 4);
		esc_cut(o, r->type[t], 32);
		fputs("</text>", o);
		for (w = 0; w < nw; w++) {
			double v = u->efficiency[t * nw + w], x = lw + cw * (double)w;
			char fill[8];
			int dark;
			if (report_missing(v)) {
				fprintf(o, "<rect class=\"cell empty\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
				           "height=\"%.1f\" fill=\"#fff\" stroke=\"#ddd\"><title>", x + 0.5,
				        y + 0.5, cw - 1, rh - 1);
				esc(o, r->type[t]);
				fputs(" on ", o);
				esc(o, r->worker_id[w]);
				fputs(": none finished</title></rect>", o);
				continue;
			}
			viridis(v > 0 && lhi > llo ? (log(v) - llo) / (lhi - llo) : v > 0 ? 0.6 : 0,
			        fill, &dark);
			fprintf(o, "<rect class=\"cell mark\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			           "height=\"%.1f\" fill=\"%s\"><title>", x, y, cw, rh, fill);
			esc(o, r->type[t]);
			fputs(" on ", o);
			esc(o, r->worker_id[w]);
			fprintf(o, ": %s</title></rect>", fmt_short(b, sizeof b, v));
			if (numbers) {
				fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
				           "style=\"fill:%s\">%s</text>", x + cw / 2, y + rh / 2 + 4,
				        dark ? "#fff" : "#111", fmt_short(b, sizeof b, v));
			}
		}
	}
	for (w = 0; w < nw; w += every) {
		double x = lw + cw * ((double)w + 0.5);
		fprintf(o, "<text transform=\"translate(%.1f %.1f) rotate(-40)\" "
		           "text-anchor=\"end\">", x + 3, bottom + 12);
		esc_cut(o, r->worker_id[w], 22);
		fputs("</text>", o);
	}
	if (!(lo <= hi))
		no_data(o, lw + cw * (double)nw / 2, top + rh * (double)nt / 2 + 4,
		        "no successful test to measure");
	fputs("</svg></div>\n<div class=\"legend\"><span class=\"key\">", o);
	if (lo <= hi) {
		fprintf(o, "%s <i class=\"ramp\"></i> %s</span><span class=\"key\">expected \xc3\xb7 "
		           "actual duration (colour on a log scale)</span>",
		        fmt_short(a, sizeof a, lo), fmt_short(b, sizeof b, hi));
	} else {
		fputs("no values</span>", o);
	}
	fputs("<span class=\"key\"><i class=\"sw empty\"></i>none finished</span></div></section>\n", o);
}

/* ---- thermal timeline ---------------------------------------------------- */

static double throttled_s(const report_series *s)
{
	double sum = 0;
	size_t i;

	for (i = 0; i < s->n; i++)
		sum += s->p[i].y > s->p[i].x ? s->p[i].y - s->p[i].x : 0;
	return sum;
}

static double peak(const report_series *s)
{
	double m = 0;
	size_t i;

	for (i = 0; i < s->n; i++)
		m = s->p[i].y > m ? s->p[i].y : m;
	return m;
}

typedef struct lane_key {
	size_t w;
	double throttled, peak;
} lane_key;

static int by_heat(const void *a, const void *b)
{
	const lane_key *x = a, *y = b;

	if (x->throttled != y->throttled)
		return x->throttled > y->throttled ? -1 : 1;
	if (x->peak != y->peak)
		return x->peak > y->peak ? -1 : 1;
	return x->w < y->w ? -1 : x->w > y->w;
}

static int by_worker(const void *a, const void *b)
{
	const lane_key *x = a, *y = b;

	return x->w < y->w ? -1 : x->w > y->w;
}

/* The temperature of one lane as an area and a line: the step function
 * reduced to its maximum per pixel column, so a worker with 10,000 changes
 * costs no more than the lane is wide.  col holds ncols doubles. */
static void temperature(FILE *o, const report_series *s, const scale *sx,
                        double lane_top, double lane_h, double *col, size_t ncols)
{
	size_t i, c;
	int pass;

	for (c = 0; c < ncols; c++)
		col[c] = -1;
	for (i = 0; i < s->n; i++) {
		double t1 = i + 1 < s->n ? s->p[i + 1].x : sx->d1, v = clampd(s->p[i].y, 0, 1);
		double c0 = floor(at(sx, s->p[i].x) - sx->r0), c1 = ceil(at(sx, t1) - sx->r0);
		if (c1 <= c0)
			c1 = c0 + 1;
		c0 = clampd(c0, 0, (double)ncols);
		c1 = clampd(c1, 0, (double)ncols);
		for (c = (size_t)c0; c < (size_t)c1; c++)
			col[c] = v > col[c] ? v : col[c];
	}
	/* Pass 0 fills the area, pass 1 strokes the line on top. */
	for (pass = 0; pass < 2; pass++) {
		double base = lane_top + lane_h, prev = -1;
		int open = 0;
		fputs(pass ? "<path class=\"mark temp\" fill=\"none\" stroke=\"#882255\" "
		             "stroke-width=\"1.3\" d=\""
		           : "<path fill=\"#CC6677\" fill-opacity=\"0.35\" d=\"", o);
		for (c = 0; c <= ncols; c++) {
			double v = c < ncols ? col[c] : -1, x = sx->r0 + (double)c;
			if (v < 0) {
				if (open && !pass)
					fprintf(o, "L%.0f,%.1fL%.0f,%.1fZ", x, base - prev * lane_h, x, base);
				else if (open)
					fprintf(o, "L%.0f,%.1f", x, base - prev * lane_h);
				open = 0;
				prev = -1;
				continue;
			}
			if (!open) {
				if (pass)
					fprintf(o, "M%.0f,%.1f", x, base - v * lane_h);
				else
					fprintf(o, "M%.0f,%.1fL%.0f,%.1f", x, base, x, base - v * lane_h);
				open = 1;
			} else if (v != prev) {
				fprintf(o, "L%.0f,%.1fL%.0f,%.1f", x, base - prev * lane_h, x,
				        base - v * lane_h);
			}
			prev = v;
		}
		fputs("\"/>", o);
	}
}

static void thermal(FILE *o, const report_result *r, arena *a)
{
	const report_run *u = &r->run[primary_run(r)];
	size_t nw = r->nworkers, nshow = nw < MAX_LANES ? nw : MAX_LANES, i, j;
	lane_key *keys = arena_alloc(a, nw * sizeof *keys);
	double tmax = report_missing(u->makespan_s) ? 0 : u->makespan_s, lw, pitch, lane_h,
	       top = 8, base, *col;
	size_t ncols;
	scale sx;

	section(o, "thermal", "Thermal timeline per worker");
	fputs("<p class=\"how\">For <b>", o);
	esc(o, u->scheduler);
	fputs("</b>: one lane per worker on a shared time axis. The curve is the worker\xe2\x80\x99s "
	      "temperature from 0 (cool) at the lane\xe2\x80\x99s bottom to 1 (hot) at its top; "
	      "hatched spans are when it ran throttled, at reduced speed. A scheduler that "
	      "watches temperature lets hot workers cool down.</p>\n", o);
	if (!keys) {
		fputs("<p>out of memory</p></section>\n", o);
		return;
	}
	for (i = 0; i < nw; i++) {
		const report_series *th = &u->thermal[i], *tr = &u->throttled[i];
		keys[i].w = i;
		keys[i].throttled = throttled_s(tr);
		keys[i].peak = peak(th);
		if (th->n && th->p[th->n - 1].x > tmax)
			tmax = th->p[th->n - 1].x;
		for (j = 0; j < tr->n; j++)
			tmax = tr->p[j].y > tmax ? tr->p[j].y : tmax;
	}
	if (nshow < nw) {
		qsort(keys, nw, sizeof *keys, by_heat);
		qsort(keys, nshow, sizeof *keys, by_worker);
		fprintf(o, "<p class=\"how\">Showing %zu of %zu workers: those that ran throttled "
		           "longest, then the hottest, in fleet order.</p>\n", nshow, nw);
	}
	pitch = nshow <= 12 ? 46 : clampd(560 / (double)nshow, 20, 46);
	lane_h = pitch - 8;
	base = top + pitch * (double)nshow;
	{
		const char **names = arena_alloc(a, nshow * sizeof *names);
		if (!names) {
			fputs("<p>out of memory</p></section>\n", o);
			return;
		}
		for (i = 0; i < nshow; i++)
			names[i] = r->worker_id[keys[i].w];
		lw = label_width(names, nshow, 26);
	}
	sx = scale_fit(0, tmax, lw, WIDTH - 16, 0, 1);
	ncols = (size_t)(sx.r1 - sx.r0) + 1;
	col = arena_alloc(a, ncols * sizeof *col);
	if (!col) {
		fputs("<p>out of memory</p></section>\n", o);
		return;
	}
	svg_open(o, "thermal", WIDTH, base + 46, "Thermal timeline: temperature and throttling per worker over time", NULL);
	fputs("<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
	      "patternTransform=\"rotate(45)\"><rect width=\"3\" height=\"6\" fill=\"#332288\" "
	      "fill-opacity=\"0.4\"/></pattern></defs>", o);
	axis_x(o, &sx, base, top, "time since the first arrival (s)");
	for (i = 0; i < nshow; i++) {
		size_t w = keys[i].w;
		const report_series *tr = &u->throttled[w];
		double y = top + pitch * (double)i + 4;
		fprintf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fafafa\" "
		           "stroke=\"#e2e2e2\"/>", sx.r0, y, sx.r1 - sx.r0, lane_h);
		fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", lw - 6, y + lane_h / 2 + 4);
		esc_cut(o, r->worker_id[w], 26);
		fputs("<title>", o);
		esc(o, r->worker_id[w]);
		fputs("</title></text>", o);
		for (j = 0; j < tr->n; j++) {
			double x0 = at(&sx, tr->p[j].x), x1 = at(&sx, tr->p[j].y);
			if (x1 < x0)
				continue;
			fprintf(o, "<rect class=\"mark throttle\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			           "height=\"%.1f\" fill=\"url(#hatch)\"><title>throttled %.0f\xe2\x80\x93%.0f s"
			           "</title></rect>", x0, y, x1 - x0 < 1 ? 1 : x1 - x0, lane_h,
			        tr->p[j].x, tr->p[j].y);
		}
		temperature(o, &u->thermal[w], &sx, y, lane_h, col, ncols);
	}
	fputs("</svg>\n<div class=\"legend\"><span class=\"key\"><i class=\"sw\" "
	      "style=\"background:#CC667788;border-top:2px solid #882255\"></i>temperature, 0 (cool) "
	      "to 1 (hot) within each lane</span><span class=\"key\"><i class=\"sw hatch\"></i>"
	      "throttled</span></div></section>\n", o);
}

/* ---- estimated against actual durations ---------------------------------- */

static void durations(FILE *o, const report_result *r)
{
	const report_run *u = &r->run[primary_run(r)];
	const double side = 470, left = 80, top = 14, base = top + side;
	double lo = INFINITY, hi = -INFINITY;
	size_t i, t;
	scale sx, sy;
	char b[FMT_LEN];

	for (i = 0; i < u->ndurations; i++) {
		const report_duration *d = &u->durations[i];
		lo = fmin(lo, fmin(d->expected_s, d->actual_s));
		hi = fmax(hi, fmax(d->expected_s, d->actual_s));
	}
	/* Both axes share one domain, so y = x is the diagonal; a log scale
	 * only ever comes with positive data. */
	sx = scale_fit(lo, hi, left, left + side, 1, 1);
	sy = scale_fit(lo, hi, base, top, 1, 1);
	section(o, "durations", "Estimated against actual durations");
	fputs("<p class=\"how\">For <b>", o);
	esc(o, u->scheduler);
	fputs("</b>: each dot is one test (a sample of at most 2,000), at the duration the test "
	      "expected and the duration it really took. Dots on the dashed line took as long as "
	      "expected; above it slower, below it faster. Types that cluster below the line "
	      "found fast hardware.</p>\n", o);
	svg_open(o, "durations", left + side + 30, base + 48,
	         "Expected against actual duration per test", NULL);
	axis_x(o, &sx, base, top, "expected duration (s)");
	axis_y(o, &sy, left, left + side, "actual duration (s)");
	fprintf(o, "<line class=\"ref\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
	           "stroke=\"#555\" stroke-dasharray=\"6 4\"/>",
	        at(&sx, sx.d0), at(&sy, sx.d0), at(&sx, sx.d1), at(&sy, sx.d1));
	for (i = 0; i < u->ndurations; i++) {
		const report_duration *d = &u->durations[i];
		fprintf(o, "<circle class=\"mark\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\" "
		           "fill-opacity=\"0.65\"><title>", at(&sx, d->expected_s),
		        at(&sy, d->actual_s), type_colour(d->type));
		esc(o, r->type[d->type]);
		fputs(" on ", o);
		esc(o, r->worker_id[d->worker]);
		fprintf(o, ": expected %s s, ", fmt_short(b, sizeof b, d->expected_s));
		fprintf(o, "took %s s</title></circle>", fmt_short(b, sizeof b, d->actual_s));
	}
	if (!u->ndurations)
		no_data(o, left + side / 2, top + side / 2, "no finished tests in this run");
	fputs("</svg>\n<div class=\"legend\">", o);
	for (t = 0; t < r->ntypes; t++)
		legend_box(o, type_colour(t), r->type[t]);
	legend_line(o, "#555", "6 4", "actual = expected", NULL);
	fputs("</div></section>\n", o);
}

/* ---- the page ------------------------------------------------------------ */

int report_html(FILE *out, const cJSON *result, char *err, size_t errlen)
{
	report_result r;
	arena *a = arena_new();

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!out) {
		snprintf(err, errlen, "no output stream");
		arena_free(a);
		return -1;
	}
	if (report_read(result, a, &r, err, errlen)) {
		arena_free(a);
		return -1;
	}
	fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	             "<title>lbsched simulation report</title>\n<style>%s</style></head>\n"
	             "<body><main>\n", css);
	header(out, &r);
	comparison(out, &r);
	curves(out, &r);
	assignments(out, &r);
	efficiency(out, &r);
	thermal(out, &r, a);
	durations(out, &r);
	fputs("<footer>Written by lbsched-shim simulate. One self-contained file: no scripts, "
	      "nothing loaded from the network. Hover a mark for its value.</footer>\n"
	      "</main></body></html>\n", out);
	arena_free(a);
	if (fflush(out) || ferror(out)) {
		snprintf(err, errlen, "writing the report: %s",
		         errno ? strerror(errno) : "write error");
		return -1;
	}
	return 0;
}

/* ---- a graph's timeline (issue 20) --------------------------------------- */

int report_gantt_html(FILE *out, const char *title, const char *const *lanes, uint32_t n_lanes,
                      const report_bar *bars, size_t n, double makespan_s, char *err,
                      size_t errlen)
{
	const double left = 150, right = 24, top = 14, lane_h = 22, w = 1000;
	double h = top + n_lanes * lane_h + 48, hi = makespan_s;
	scale sx;

	if (!out) {
		snprintf(err, errlen, "no output stream");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (bars[i].lane >= n_lanes) {
			snprintf(err, errlen, "bar %zu: lane %u out of range", i, bars[i].lane);
			return -1;
		}
		if (bars[i].finish > hi)
			hi = bars[i].finish;
	}
	sx = scale_fit(0, hi > 0 ? hi : 1, left, w - right, 0, 1);
	fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	             "<title>lbsched workload graph timeline</title>\n<style>%s</style></head>\n"
	             "<body><main>\n<h1>", css);
	esc(out, title);
	fputs("</h1>\n", out);
	section(out, "timeline", "Timeline: subtasks per worker");
	fputs("<p class=\"how\">One row per worker, and more (marked \xc2\xb7) for the runs it "
	      "had at once; one bar per run of a subtask, from its start to its end in simulated "
	      "seconds. Critical-path subtasks are red; a hatched bar is a "
	      "run that failed and was recovered by its strategy. Hover a bar for its subtask and "
	      "times.</p>\n<div class=\"legend\">", out);
	legend_box(out, palette[6], "on the critical path");
	legend_box(out, palette[1], "other subtasks");
	fputs("<span class=\"key\"><i class=\"sw hatch\"></i>failed run</span></div>\n"
	      "<div class=\"scroll\">", out);
	svg_open(out, "gantt", w, h, "subtasks per worker over time", NULL);
	fputs("<defs><pattern id=\"fail\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
	      "patternTransform=\"rotate(45)\"><rect width=\"3\" height=\"6\" fill=\"#999\"/>"
	      "</pattern></defs>", out);
	axis_x(out, &sx, top + n_lanes * lane_h, top, "simulated time (s)");
	for (uint32_t l = 0; l < n_lanes; l++) {
		/* A worker's extra row ends in REPORT_LANE_MORE: a long id is cut
		 * before it, so the mark stays and the rows stay told apart;
		 * the whole name is the label's tooltip. */
		size_t len = strlen(lanes[l]), more = sizeof REPORT_LANE_MORE - 1;
		int extra = len > more && !strcmp(lanes[l] + len - more, REPORT_LANE_MORE);
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", left - 6,
		        top + l * lane_h + lane_h * 0.65);
		esc_span(out, lanes[l], extra ? len - more : len, extra ? 20 : 22);
		if (extra)
			fputs(REPORT_LANE_MORE, out);
		fputs("<title>", out);
		esc(out, lanes[l]);
		fputs("</title></text>", out);
	}
	for (size_t i = 0; i < n; i++) {
		const report_bar *b = &bars[i];
		double x0 = at(&sx, b->start), x1 = at(&sx, b->finish);
		fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
		             "fill=\"%s\" stroke=\"#fff\" stroke-width=\"0.5\"><title>",
		        x0, top + b->lane * lane_h + 3, x1 - x0 > 0.5 ? x1 - x0 : 0.5, lane_h - 6,
		        !b->ok ? "url(#fail)" : b->critical ? palette[6] : palette[1]);
		esc(out, b->label);
		fprintf(out, " on ");
		esc(out, lanes[b->lane]);
		fprintf(out, ": %.1f to %.1f s%s</title></rect>", b->start, b->finish,
		        b->ok ? "" : " (failed)");
	}
	fputs("</svg></div></section>\n<footer>Written by lbsched-shim simulate --graphs. One "
	      "self-contained file: no scripts, nothing loaded from the network.</footer>\n"
	      "</main></body></html>\n", out);
	if (fflush(out) || ferror(out)) {
		snprintf(err, errlen, "writing the report: %s",
		         errno ? strerror(errno) : "write error");
		return -1;
	}
	return 0;
}
