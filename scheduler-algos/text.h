/*
 * text.h -- text from the input, made safe to put in a one-line message.
 */
#ifndef LBS_TEXT_H
#define LBS_TEXT_H

#include <stddef.h>

/* 1 when the NUL-terminated text is valid UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF), else 0. */
int txt_utf8_valid(const char *text);

/*
 * The length of the invisible control character at s (left bytes from
 * it) that valid UTF-8 may still carry, or 0: a C1 control (U+0080 to
 * U+009F; U+009B is CSI, a terminal's ESC [) or a bidirectional
 * formatting character (U+061C, U+200E, U+200F, U+202A to U+202E,
 * U+2066 to U+2069), which turns the text around it backwards
 * ("exe.gnp" shown as "png.exe").
 */
size_t txt_format_control(const unsigned char *s, size_t left);

/*
 * `s` for a message, written to dst (n bytes, at least 16 to hold
 * anything): control bytes (and, in invalid UTF-8, every byte >= 0x80)
 * escaped as \xNN, txt_format_control's characters as \uNNNN, and a
 * backslash doubled (so text that spells "\x1b" does not read as an
 * ESC); cut after about 64 bytes with "...".  NULL shows as empty.
 * Returns dst.
 */
const char *txt_show(char *dst, size_t n, const char *s);

/*
 * Make a sentence the plugin wrote (and perhaps cut short) safe to log, in
 * place: control bytes become '?' (each byte of a txt_format_control
 * character too), a last character the cut split is
 * dropped, and in text that is still not UTF-8 every byte >= 0x80 becomes
 * '?'.  For sentences that embed input, such as worker ids, and are too
 * long for txt_show's bound.
 */
void txt_one_line(char *s);

/* 1 when len bytes of text hold nothing but JSON's white space (an empty
 * document, which readers name as empty rather than as a flaw at byte 0). */
int txt_blank(const char *text, size_t len);

/*
 * What is wrong with JSON text (len bytes) that a parser stopped reading
 * at byte `at`, having read a whole value there (`parsed`) or not, in dst:
 * "not valid JSON near byte N", "nested deeper than LIMIT levels at byte
 * N" (a parser that gives up at `nesting_limit` open brackets, as cJSON
 * does, reports only where), or "text after the JSON document at byte N".
 * Text valid to its end but not whole there (a file cut short) says so:
 * "not valid JSON: it ends at byte LEN with the '{' at byte N still open",
 * or "... inside the string (word) that begins at byte N".  Text of more
 * than one line adds "(line L, column C)" to the byte named.  NULL when a
 * whole value was read and only JSON whitespace follows.  `parsed` < 0: the
 * parser ran out of memory (errno ENOMEM), "out of memory reading the
 * JSON document (LEN bytes), or it is not valid JSON near byte N", not a
 * flaw alone, which the text may not have.  The text is only
 * scanned, not parsed: each layer parses with its own JSON library and
 * says why through here.
 */
const char *txt_json_problem(char *dst, size_t n, const char *text, size_t len, size_t at,
                             int parsed, unsigned nesting_limit);

/*
 * Why text (len bytes, a NUL after them) is not one JSON object exactly as
 * RFC 8259 writes one, in dst, or NULL.  cJSON reads more: control bytes
 * as white space or raw inside strings, 01 and 1., a byte order mark.  For
 * text a host sets inside a document of its own, which any of those would
 * break for a strict reader: "is not JSON (RFC 8259) at byte N of LEN",
 * "ends (at byte LEN) before its JSON is whole", "nests deeper than 256
 * levels at byte N", "is JSON but not an object", "is not UTF-8", "holds
 * no JSON value".
 */
const char *txt_json_object_strict(char *dst, size_t n, const char *text, size_t len);

/*
 * Why text (len bytes) is not UTF-8 JSON in a way a reader could take for
 * an empty or garbled document, or NULL: a UTF-8 byte order mark ("starts
 * with a UTF-8 byte order mark (EF BB BF); save it as UTF-8 without one"),
 * or UTF-16.  RFC 8259 lets a parser skip the mark, and cJSON does;
 * lbsched refuses it, so that every reader of a file sees the same bytes.
 */
const char *txt_not_utf8(const char *text, size_t len);

/* The NUL-terminated s as a number written in decimal as JSON writes one
 * (-?digits[.digits][e[+-]digits]): 1 with *out, 0 for anything else,
 * and for a number that is not 0 but reads as 0 (1e-400).
 * strtod also takes "0x10", "inf", "nan" and " 5", which a header, a
 * directive or an option never means. */
int txt_decimal(const char *s, double *out);

/* txt_decimal() with the forms a person types on a command line as well:
 * a leading '+', and no digit before or after the point (".5", "-.5",
 * "5.", "5.e3"), which JSON writes as "0.5", "5.0" and "5.0e3". */
int txt_typed_decimal(const char *s, double *out);

/*
 * The first flaw of JSON text (len bytes, a document a parser read whole)
 * that cJSON lets through, as in dst, or NULL:
 *  - a string that holds \u0000: "field 'store.path': a string holds
 *    \u0000 (a NUL character) at byte N".  A parser that hands out
 *    NUL-terminated strings cuts it short there without a word, and an id
 *    cut short is another worker's;
 *  - a number JSON does not allow: "field 'alpha': 01 at byte N is not a
 *    JSON number (no leading zeros, a digit after the point)".  cJSON
 *    reads 01 as 1 and 1. as 1;
 *  - a number that is not 0 but reads as 0: "field 'alpha': 1e-400 at
 *    byte N is so near 0 that a double holds it as 0: write 0 if 0 is
 *    meant".  cJSON reads it as 0 without a word.
 * "(line L, column C)" follows the byte as above; a key is "the key 'k'
 * of field 'a': ..." (or "... at the top"), shown as written; the field
 * is left out for a document that is that one value or nested past 64
 * levels.
 */
const char *txt_json_flaw(char *dst, size_t n, const char *text, size_t len);

/* The next string of JSON text that a parser read whole, from *p (end:
 * the text's end): a quote outside a string opens one, and backslashes
 * come only inside.  1 with *p past its closing quote and *nul at the
 * backslash of its first \u0000 (NULL when none), 0 when no string is
 * left.  Keys are strings too, in the text's order, as a parser's tree
 * has them: a caller walking both can name the string. */
int txt_json_next_string(const char **p, const char *end, const char **nul);

#endif
