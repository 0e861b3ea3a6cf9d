/*
 * text.c -- text from the input, made safe to put in a one-line message.
 *
 * Messages name what was wrong, often by quoting it: a field name, a
 * scheduler name, a value.  Quoted as it came, an escaped newline in a
 * field name would split the message into two log lines (the second one
 * forged), and invalid UTF-8 would spoil any JSON the message ends up in.
 * The converters and the plugin's config readers quote through here.
 */
#include "text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int txt_utf8_valid(const char *text)
{
	const unsigned char *s = (const unsigned char *)text;

	while (*s) {
		unsigned char b = *s;
		size_t n;
		uint32_t cp;

		if (b < 0x80) {
			s++;
			continue;
		} else if (b >= 0xc2 && b <= 0xdf) {
			n = 1;
			cp = b & 0x1f;
		} else if (b >= 0xe0 && b <= 0xef) {
			n = 2;
			cp = b & 0x0f;
		} else if (b >= 0xf0 && b <= 0xf4) {
			n = 3;
			cp = b & 0x07;
		} else {
			return 0;
		}
		for (size_t i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		s += n + 1;
	}
	return 1;
}

size_t txt_format_control(const unsigned char *s, size_t left)
{
	if (left >= 2 && s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
		return 2;
	if (left >= 2 && s[0] == 0xd8 && s[1] == 0x9c)
		return 2;
	if (left >= 3 && s[0] == 0xe2 &&
	    ((s[1] == 0x80 && (s[2] == 0x8e || s[2] == 0x8f || (s[2] >= 0xaa && s[2] <= 0xae))) ||
	     (s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9)))
		return 3;
	return 0;
}

/* The code point of the 2- or 3-byte character at s. */
static unsigned code_point(const unsigned char *s, size_t len)
{
	return len == 2 ? (unsigned)(s[0] & 0x1f) << 6 | (s[1] & 0x3f)
	                : (unsigned)(s[0] & 0x0f) << 12 | (unsigned)(s[1] & 0x3f) << 6 |
	                      (s[2] & 0x3f);
}

const char *txt_show(char *dst, size_t n, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	int valid = txt_utf8_valid((const char *)p);
	size_t o = 0, i = 0;

	if (n < 16) {
		if (n)
			dst[0] = '\0';
		return dst;
	}
	for (; p[i]; i++) {
		/* Stop only between characters, so the cut stays UTF-8; the
		 * headroom covers one escape or a character's last bytes. */
		int cont = valid && (p[i] & 0xc0) == 0x80;
		size_t fc;

		if (!cont && (i >= 64 || o + 12 >= n))
			break;
		/* valid: the character's bytes are all there, before the NUL */
		if (valid && p[i] >= 0xc2 && (fc = txt_format_control(p + i, 3))) {
			o += (size_t)snprintf(dst + o, n - o, "\\u%04x", code_point(p + i, fc));
			i += fc - 1;
		} else if (p[i] < 0x20 || p[i] == 0x7f || (p[i] >= 0x80 && !valid))
			o += (size_t)snprintf(dst + o, n - o, "\\x%02x", p[i]);
		else if (p[i] == '\\') /* an id spelling \x1b is not an ESC */
			o += (size_t)snprintf(dst + o, n - o, "\\\\");
		else
			dst[o++] = (char)p[i];
	}
	if (p[i]) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
	return dst;
}

void txt_one_line(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t len = strlen(s);

	for (size_t i = 0; i < len; i++) {
		size_t fc = txt_format_control(p + i, len - i);

		if (fc)
			memset(p + i, '?', fc);
		else if (p[i] < 0x20 || p[i] == 0x7f)
			p[i] = '?';
	}
	if (txt_utf8_valid(s))
		return;
	/* A cut inside the last character: drop what is left of it. */
	for (size_t back = 1; back <= 4 && back <= len; back++) {
		unsigned char b = p[len - back];
		if ((b & 0xc0) == 0x80)
			continue;
		if (b >= 0xc0) {
			p[len - back] = '\0';
			if (txt_utf8_valid(s))
				return;
			p[len - back] = b;
		}
		break;
	}
	for (size_t i = 0; i < len; i++)
		if (p[i] >= 0x80)
			p[i] = '?';
}

/* Open brackets around byte `at`, strings skipped. */
static size_t json_depth(const char *text, size_t at)
{
	size_t depth = 0;
	int in_str = 0;

	for (size_t i = 0; i < at; i++) {
		char ch = text[i];

		if (in_str) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_str = 0;
		} else if (ch == '"') {
			in_str = 1;
		} else if (ch == '[' || ch == '{') {
			depth++;
		} else if ((ch == ']' || ch == '}') && depth) {
			depth--;
		}
	}
	return depth;
}

/* How a JSON token read from text[*i] ends: */
enum { TOK_BAD = -1, TOK_CUT = 0, TOK_WHOLE = 1 }; /* wrong, at the text's end, whole */

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The four hex digits of a \u escape from t[i], as *cp. */
static int hex4(const char *t, size_t i, size_t len, unsigned *cp)
{
	*cp = 0;
	for (size_t k = i; k < i + 4; k++) {
		char c;
		if (k >= len)
			return TOK_CUT;
		c = t[k];
		if (is_digit(c))
			*cp = *cp << 4 | (unsigned)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			*cp = *cp << 4 | (unsigned)((c | 0x20) - 'a' + 10);
		else
			return TOK_BAD;
	}
	return TOK_WHOLE;
}

/* A string from its opening quote at *i; *i past it when whole.  Escapes
 * as JSON has them, a high surrogate followed by a low one; no control
 * byte written raw. */
static int json_string(const char *t, size_t *i, size_t len)
{
	size_t k = *i + 1;

	while (k < len && t[k] != '"') {
		unsigned cp, lo;
		int r;
		if ((unsigned char)t[k] < 0x20)
			return TOK_BAD;
		if (t[k++] != '\\')
			continue;
		if (k >= len)
			return TOK_CUT;
		if (!t[k] || !strchr("\"\\/bfnrtu", t[k]))
			return TOK_BAD;
		if (t[k++] != 'u')
			continue;
		if ((r = hex4(t, k, len, &cp)) != TOK_WHOLE)
			return r;
		k += 4;
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return TOK_BAD;
		if (cp < 0xd800 || cp > 0xdbff)
			continue;
		if (k >= len || (t[k] == '\\' && k + 1 >= len))
			return TOK_CUT;
		if (t[k] != '\\' || t[k + 1] != 'u')
			return TOK_BAD;
		if ((r = hex4(t, k + 2, len, &lo)) != TOK_WHOLE)
			return r;
		if (lo < 0xdc00 || lo > 0xdfff)
			return TOK_BAD;
		k += 6;
	}
	if (k >= len)
		return TOK_CUT;
	*i = k + 1;
	return TOK_WHOLE;
}

/* A number from *i: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; *i past
 * it.  TOK_CUT: the text ends where the number still needs a digit. */
static int json_number(const char *t, size_t *i, size_t len)
{
	size_t k = *i;

	if (k < len && t[k] == '-')
		k++;
	if (k >= len)
		return TOK_CUT;
	if (!is_digit(t[k]))
		return TOK_BAD;
	if (t[k++] != '0')
		while (k < len && is_digit(t[k]))
			k++;
	if (k < len && t[k] == '.') {
		if (++k >= len)
			return TOK_CUT;
		if (!is_digit(t[k]))
			return TOK_BAD;
		while (k < len && is_digit(t[k]))
			k++;
	}
	if (k < len && (t[k] == 'e' || t[k] == 'E')) {
		if (++k < len && (t[k] == '+' || t[k] == '-'))
			k++;
		if (k >= len)
			return TOK_CUT;
		if (!is_digit(t[k]))
			return TOK_BAD;
		while (k < len && is_digit(t[k]))
			k++;
	}
	*i = k;
	return TOK_WHOLE;
}

/*
 * JSON text read from its start by RFC 8259's grammar, as far as it goes:
 * SCAN_WHOLE, one value and only white space after it (*at = len);
 * SCAN_CUT, valid up to its end and not yet whole there, *at at what is
 * still open (the innermost bracket, or the string, number or word under
 * way); SCAN_DEEP, a bracket at *at past OPEN_MAX levels, not followed;
 * SCAN_BAD, *at at the byte that cannot be there (the start of a string
 * or number that is wrong inside; len for text with no value).  A parser
 * reports where it stopped, and at the last byte that is the same for "{"
 * cut short and for "1 [" wrong there; only reading the text from its
 * start tells them apart.
 */
#define OPEN_MAX 256
enum { SCAN_BAD, SCAN_CUT, SCAN_DEEP, SCAN_WHOLE };
static int json_scan(const char *text, size_t len, size_t *at)
{
	enum { VALUE, VALUE_OR_CLOSE, KEY, KEY_OR_CLOSE, COLON, NEXT, DONE } want = VALUE;
	size_t open[OPEN_MAX], depth = 0, i = 0;

	while (i < len) {
		char ch = text[i];
		size_t start = i;
		int r;

		if (strchr(" \t\r\n", ch) && ch) {
			i++;
			continue;
		}
		*at = start;
		if (want == DONE)
			return SCAN_BAD;
		if (ch == '"' && want != COLON && want != NEXT) {
			if ((r = json_string(text, &i, len)) != TOK_WHOLE)
				return r == TOK_CUT ? SCAN_CUT : SCAN_BAD;
			want = want == KEY || want == KEY_OR_CLOSE ? COLON : depth ? NEXT : DONE;
			continue;
		}
		if (want == KEY || want == KEY_OR_CLOSE) {
			if (ch != '}' || want == KEY)
				return SCAN_BAD;
			i++;
			depth--;
		} else if (want == COLON) {
			if (ch != ':')
				return SCAN_BAD;
			i++;
			want = VALUE;
			continue;
		} else if (want == NEXT) {
			i++;
			if (ch == ',') {
				want = text[open[depth - 1]] == '{' ? KEY : VALUE;
				continue;
			}
			if (ch != (text[open[depth - 1]] == '{' ? '}' : ']'))
				return SCAN_BAD;
			depth--;
		} else if (ch == '[' || ch == '{') {
			if (depth == OPEN_MAX)
				return SCAN_DEEP;
			open[depth++] = i++;
			want = ch == '[' ? VALUE_OR_CLOSE : KEY_OR_CLOSE;
			continue;
		} else if (ch == ']' && want == VALUE_OR_CLOSE) {
			i++;
			depth--;
		} else if (ch == '-' || is_digit(ch)) {
			if ((r = json_number(text, &i, len)) != TOK_WHOLE)
				return r == TOK_CUT ? SCAN_CUT : SCAN_BAD;
		} else {
			const char *word = ch == 't' ? "true" : ch == 'f' ? "false" : ch == 'n' ? "null" : "";
			size_t k = 0;
			if (!*word)
				return SCAN_BAD;
			while (word[k] && start + k < len && text[start + k] == word[k])
				k++;
			if (word[k])
				return start + k < len ? SCAN_BAD : SCAN_CUT; /* CUT: it ends inside */
			i = start + k;
		}
		want = depth ? NEXT : DONE;
	}
	if (depth) {
		*at = open[depth - 1];
		return SCAN_CUT;
	}
	*at = len;
	return want == DONE ? SCAN_WHOLE : SCAN_BAD;
}

/* Whether JSON text is cut short (json_scan's SCAN_CUT), *from at what is
 * still open. */
static int json_cut_short(const char *text, size_t len, size_t *from)
{
	size_t at;

	if (json_scan(text, len, &at) != SCAN_CUT)
		return 0;
	*from = at;
	return 1;
}

const char *txt_json_object_strict(char *dst, size_t n, const char *text, size_t len)
{
	size_t at = 0;
	int r = json_scan(text, len, &at);

	/* json_scan let no NUL through: text's own ends it at len */
	if (r == SCAN_WHOLE && !txt_utf8_valid(text))
		snprintf(dst, n, "is not UTF-8");
	else if (r == SCAN_WHOLE && text[strspn(text, " \t\r\n")] != '{')
		snprintf(dst, n, "is JSON but not an object");
	else if (r == SCAN_WHOLE)
		return NULL;
	else if (r == SCAN_DEEP)
		snprintf(dst, n, "nests deeper than %d levels at byte %zu", OPEN_MAX, at);
	else if (r == SCAN_CUT)
		snprintf(dst, n, "ends (at byte %zu) before its JSON is whole", len);
	else if (len == 0 || at == len)
		snprintf(dst, n, "holds no JSON value");
	else
		snprintf(dst, n, "is not JSON (RFC 8259) at byte %zu of %zu", at, len);
	return dst;
}

/* " (line L, column C)" of byte at, for text of more than one line. */
static void line_col(char *where, size_t n, const char *text, size_t len, size_t at)
{
	size_t line = 1, col = 1;

	*where = '\0';
	if (!memchr(text, '\n', len))
		return;
	for (size_t i = 0; i < at; i++, col++)
		if (text[i] == '\n') {
			line++;
			col = 0;
		}
	snprintf(where, n, " (line %zu, column %zu)", line, col);
}

int txt_json_next_string(const char **p, const char *end, const char **nul)
{
	const char *q = memchr(*p, '"', (size_t)(end - *p));

	*nul = NULL;
	if (!q)
		return 0;
	for (q++; q < end && *q != '"'; q++) {
		/* An escape: "\\" steps over the second backslash. */
		if (*q == '\\') {
			if (!*nul && end - q > 5 && !memcmp(q + 1, "u0000", 5))
				*nul = q;
			q++;
		}
	}
	*p = q < end ? q + 1 : end;
	return 1;
}

/* Levels of a document flaw_find() names; deeper, only the byte is. */
#define NUL_DEPTH 64

/* One level's part of a field's name: ".key" (or "key" first) or "[i]". */
static size_t nul_part(char *dst, size_t n, size_t used, const char *text, size_t key,
                       size_t klen, int obj, size_t idx)
{
	char raw[128], shown[96];

	if (used >= n)
		return used;
	if (!obj)
		return used + (size_t)snprintf(dst + used, n - used, "[%zu]", idx);
	snprintf(raw, sizeof raw, "%.*s", (int)(klen < sizeof raw ? klen : sizeof raw - 1),
	         text + key);
	return used + (size_t)snprintf(dst + used, n - used, "%s%s", used ? "." : "",
	                               txt_show(shown, sizeof shown, raw));
}

typedef struct flaw_level {
	int obj;
	size_t idx, key, klen;
} flaw_level;

/* The field of what the walk is at (a key when `key`, from s to e), into
 * dst; "" for the document itself or past NUL_DEPTH. */
static void flaw_field(char *dst, size_t n, const char *text, const flaw_level *lv, size_t depth,
                       int key, size_t s, size_t e)
{
	char path[256] = "";
	size_t used = 0;

	if (!depth || depth > NUL_DEPTH)
		return;
	for (size_t j = 0; j + (size_t)key < depth; j++)
		used = nul_part(path, sizeof path, used, text, lv[j].key, lv[j].klen, lv[j].obj,
		                lv[j].idx);
	/* a long path is cut at the buffer's end, perhaps inside a character */
	txt_one_line(path);
	if (key) {
		char k[96];

		nul_part(k, sizeof k, 0, text, s, e - s, 1, 0);
		txt_one_line(k);
		snprintf(dst, n, "the key '%s' %s%s%s", k, used ? "of field '" : "at the top", path,
		         used ? "'" : "");
	} else {
		snprintf(dst, n, "field '%s'", path);
	}
}

/* 2 when a JSON number's text s (len bytes) reads as 0 with a digit other
 * than 0 before its exponent (1e-400), else 0.  A parser reads it without
 * a word, and 1e-400 meant 0, a default of its own.  (One past the
 * largest double reads as infinite, which every reader refuses as "beyond
 * +-1.8e308".) */
static int number_range(const char *s, size_t len)
{
	char small[512], *buf = small;
	double v;
	size_t k;
	int nonzero = 0;

	/* Without an exponent it takes 309 digits to pass either end: most
	 * numbers of a fleet's file are not read twice. */
	if (len < 300 && !memchr(s, 'e', len) && !memchr(s, 'E', len))
		return 0;
	for (k = 0; k < len && s[k] != 'e' && s[k] != 'E'; k++)
		nonzero |= s[k] >= '1' && s[k] <= '9';
	if (!nonzero)
		return 0;
	/* a number of 0. and 600 zeros and a 1 is read whole by cJSON too */
	if (len >= sizeof small && !(buf = malloc(len + 1)))
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	v = strtod(buf, NULL);
	if (buf != small)
		free(buf);
	return v == 0.0 ? 2 : 0;
}

/*
 * The first flaw of a document a parser read whole (NULL when none): a
 * \u0000 in a string (*number 0), or a number JSON does not allow (*number
 * 1) or that reads as 0 though it is not (number_range's 2), with *end
 * past it, and that value's field in dst: "field 'a.b[2]'",
 * "the key 'k' of field 'a'", "the key 'k' at the top", or "" (the
 * document is that value, or it lies deeper than NUL_DEPTH).  The walk
 * counts what a tree would hold: each object's key before its value, each
 * array's items from 0; strings are read by txt_json_next_string.  Keys
 * are shown as written, escapes and all.
 */
static const char *flaw_find(char *dst, size_t n, const char *text, size_t len, int *number,
                             size_t *end)
{
	flaw_level lv[NUL_DEPTH];
	size_t depth = 0, i = 0;
	int want_key = 0;

	*dst = '\0';
	*number = 0;
	while (i < len) {
		char ch = text[i];

		if (ch == '"') {
			const char *p = text + i, *nul;
			size_t s = i + 1, e;
			int key = depth && depth <= NUL_DEPTH && lv[depth - 1].obj && want_key;

			txt_json_next_string(&p, text + len, &nul);
			i = (size_t)(p - text);
			e = i > s ? i - 1 : s; /* the closing quote */
			if (nul) {
				flaw_field(dst, n, text, lv, depth, key, s, e);
				return nul;
			}
			if (key) {
				lv[depth - 1].key = s;
				lv[depth - 1].klen = e - s;
				want_key = 0;
			}
			continue;
		}
		if (ch == '{' || ch == '[') {
			if (depth < NUL_DEPTH) {
				lv[depth].obj = ch == '{';
				lv[depth].idx = 0;
				lv[depth].key = lv[depth].klen = 0;
			}
			depth++;
			want_key = ch == '{';
		} else if (ch == '}' || ch == ']') {
			depth -= depth > 0;
			want_key = 0;
		} else if (ch == ',' && depth && depth <= NUL_DEPTH) {
			if (lv[depth - 1].obj)
				want_key = 1;
			else
				lv[depth - 1].idx++;
		} else if (ch == '-' || is_digit(ch)) {
			/* cJSON reads "01" as 1 and "1." as 1: text JSON refuses
			 * must not mean a number here. */
			size_t k = i;

			if (json_number(text, &k, len) != TOK_WHOLE ||
			    (k < len && text[k] && (is_digit(text[k]) || strchr(".eE+-", text[k])))) {
				while (k < len && text[k] && (is_digit(text[k]) || strchr(".eE+-", text[k])))
					k++;
				*number = 1;
			} else {
				*number = number_range(text + i, k - i);
			}
			if (*number) {
				flaw_field(dst, n, text, lv, depth, 0, 0, 0);
				*end = k;
				return text + i;
			}
			i = k;
			continue;
		}
		i++;
	}
	return NULL;
}


const char *txt_json_flaw(char *dst, size_t n, const char *text, size_t len)
{
	char where[64], field[400], shown[48];
	size_t at, end = 0;
	int number;
	const char *bad = flaw_find(field, sizeof field, text, len, &number, &end);

	if (!bad)
		return NULL;
	at = (size_t)(bad - text);
	line_col(where, sizeof where, text, len, at);
	if (number) {
		size_t k = end - at < sizeof shown - 4 ? end - at : sizeof shown - 4;

		snprintf(shown, sizeof shown, "%.*s%s", (int)k, bad, k < end - at ? "..." : "");
		snprintf(dst, n, "%s%s%s at byte %zu%s %s", field, *field ? ": " : "", shown, at, where,
		         number == 1 ? "is not a JSON number (no leading zeros, a digit after the point)"
		         : "is so near 0 that a double holds it as 0: write 0 if 0 is meant");
	} else {
		snprintf(dst, n, "%s%sa string holds \\u0000 (a NUL character) at byte %zu%s", field,
		         *field ? ": " : "", at, where);
	}
	txt_one_line(dst); /* as cut by a short dst */
	return dst;
}

int txt_decimal(const char *s, double *out)
{
	size_t len = strlen(s), i = 0;

	if (json_number(s, &i, len) != TOK_WHOLE || i != len || number_range(s, len))
		return 0;
	*out = strtod(s, NULL);
	return 1;
}

int txt_typed_decimal(const char *s, double *out)
{
	char buf[128];
	size_t j = 0, mant;
	const char *p;

	s += *s == '+' && s[1] != '-' && s[1] != '+';
	mant = strcspn(s, "eE");
	/* a point alone, or before an exponent alone, is no number */
	if (strcspn(s, "0123456789") >= mant)
		return txt_decimal(s, out);
	/* "-.5" as "-0.5", "5." as "5.0", "5.e3" as "5.0e3" */
	for (p = s; *p; p++) {
		if (j + 3 >= sizeof buf)
			return txt_decimal(s, out);
		if (*p == '.' && (p == s || p[-1] == '-'))
			buf[j++] = '0';
		buf[j++] = *p;
		if (*p == '.' && !is_digit(p[1]))
			buf[j++] = '0';
	}
	buf[j] = '\0';
	return txt_decimal(buf, out);
}

const char *txt_not_utf8(const char *text, size_t len)
{
	const unsigned char *b = (const unsigned char *)text;

	if (len >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF)
		return "starts with a UTF-8 byte order mark (EF BB BF); save it as UTF-8 without one";
	if (len >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) || (b[0] == 0xFE && b[1] == 0xFF)))
		return "is UTF-16 (it starts with a byte order mark); save it as UTF-8";
	/* A JSON text starts with an ASCII byte: a NUL among the first two
	 * is UTF-16 without a mark. */
	if (len >= 2 && (b[0] == 0) != (b[1] == 0))
		return "looks like UTF-16 (a NUL byte among the first two); save it as UTF-8";
	return NULL;
}

int txt_blank(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n')
			return 0;
	return 1;
}

const char *txt_json_problem(char *dst, size_t n, const char *text, size_t len, size_t at,
                             int parsed, unsigned nesting_limit)
{
	const char *what = "not valid JSON near";
	char where[64] = "";

	if (at > len)
		at = len;
	if (parsed < 0) {
		/* malloc may leave ENOMEM behind a call that got its memory
		 * (brk refused, mmap gave it), so the flaw is not ruled out */
		line_col(where, sizeof where, text, len, at);
		snprintf(dst, n, "out of memory reading the JSON document (%zu bytes), or it is not "
		         "valid JSON near byte %zu%s", len, at, where);
		return dst;
	}
	if (parsed) {
		while (at < len && strchr(" \t\r\n", text[at]) && text[at])
			at++;
		if (at == len)
			return NULL;
		what = "text after the JSON document at";
	} else if (txt_blank(text, len)) {
		/* as a config file says it: "near byte 0" read as a flaw */
		snprintf(dst, n, "is empty (expected a JSON document)");
		return dst;
	} else if (at < len && (text[at] == '[' || text[at] == '{') &&
	           json_depth(text, at) >= nesting_limit) {
		snprintf(dst, n, "nested deeper than %u levels at byte %zu", nesting_limit, at);
		return dst;
	} else if (json_cut_short(text, len, &at)) {
		line_col(where, sizeof where, text, len, at);
		if (text[at] == '[' || text[at] == '{')
			snprintf(dst, n, "not valid JSON: it ends at byte %zu with the '%c' at byte "
			         "%zu%s still open", len, text[at], at, where);
		else
			snprintf(dst, n, "not valid JSON: it ends at byte %zu inside the %s that "
			         "begins at byte %zu%s", len, text[at] == '"' ? "string"
			         : text[at] == '-' || is_digit(text[at]) ? "number" : "word", at, where);
		return dst;
	}
	line_col(where, sizeof where, text, len, at);
	/* cJSON stops at the escape of half a surrogate pair; said as that,
	 * not as a flaw the user must find (Python's json writes one for a
	 * lone surrogate in a str). */
	if (!parsed && len - at >= 6 && text[at] == '\\' && text[at + 1] == 'u') {
		unsigned cp;

		if (hex4(text, at + 2, len, &cp) == TOK_WHOLE && cp >= 0xd800 && cp <= 0xdfff) {
			snprintf(dst, n, "not valid JSON: \\u%.4s at byte %zu%s is half of a UTF-16 "
			         "surrogate pair without its other half, which UTF-8 text cannot carry",
			         text + at + 2, at, where);
			return dst;
		}
	}
	/* Python's json writes these for float('nan') and float('inf') */
	if (!parsed) {
		static const char *const py[] = {"NaN", "Infinity", "-Infinity"};

		for (size_t i = 0; i < sizeof py / sizeof *py; i++)
			if (len - at >= strlen(py[i]) && !memcmp(text + at, py[i], strlen(py[i]))) {
				snprintf(dst, n, "not valid JSON: %s at byte %zu%s is Python's, not a "
				         "JSON number (give a finite number)", py[i], at, where);
				return dst;
			}
	}
	snprintf(dst, n, "%s byte %zu%s", what, at, where);
	return dst;
}
