/*
 * config.h -- read a scheduler's JSON config with one-line errors.
 *
 * Every message names the field and the problem, e.g.
 *   config field 'load_ceiling': must be a number in 0..1, got -1
 *   config field 'foo': unknown field (known: load_ceiling, seed)
 * so that create() can hand it to the host unchanged.  Field names are
 * case-sensitive.  A missing field takes its default; a field given twice
 * is an error (JSON allows it, but which one wins would be a guess).
 */
#ifndef LBS_PLUGIN_CONFIG_H
#define LBS_PLUGIN_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <lbsched/abi.h>

/*
 * Exactly one JSON document of any kind in text (`len` bytes, not
 * necessarily NUL-terminated): the plugin's one way to parse a document.
 * NULL with "<what>: <problem>" (only "<problem>" when what is NULL) in
 * err, naming the byte: not valid JSON,
 * nested deeper than cJSON's limit, or text after the document.
 */
cJSON *cfg_json(const char *text, size_t len, const char *what, char *err, size_t errlen);

/*
 * Parse config text (`len` bytes, not necessarily NUL-terminated).  NULL,
 * empty or all-whitespace text gives *out = NULL, meaning "all defaults";
 * the getters below accept a NULL object.  Otherwise the text must be one
 * JSON object.  Returns LBS_OK or LBS_ECONFIG (also when cJSON ran out of
 * memory: it does not say which); free *out with cJSON_Delete.
 */
lbs_status cfg_parse(const char *text, size_t len, cJSON **out, char *err,
                     size_t errlen);

/* LBS_ECONFIG unless every member of obj is named in `known` (a
 * NULL-terminated list) and appears once. */
lbs_status cfg_check_fields(const cJSON *obj, const char *const *known,
                            char *err, size_t errlen);

/* A number in lo..hi, or `def` when absent. */
lbs_status cfg_number(const cJSON *obj, const char *name, double lo, double hi,
                      double def, double *out, char *err, size_t errlen);

/* cfg_number() of the member v itself, named `name` in the message (a key
 * the user wrote, shown with txt_show: the key may hold any byte). */
lbs_status cfg_number_of(const cJSON *v, const char *name, double lo, double hi,
                         double *out, char *err, size_t errlen);

/* A number > 0 and at most hi, or `def` when absent (a ratio's divisor:
 * "in 0..hi" would offer the 0 it refuses). */
lbs_status cfg_positive(const cJSON *obj, const char *name, double hi, double def,
                        double *out, char *err, size_t errlen);

/* true or false, or `def` when absent; *out is 1 or 0. */
lbs_status cfg_bool(const cJSON *obj, const char *name, int def, int *out,
                    char *err, size_t errlen);

/* cfg_uint within lo..hi, into a uint32_t, `*out` when absent ("config
 * field 'NAME': must be an integer in LO..HI, got X", for a fraction too). */
lbs_status cfg_uint_in(const cJSON *obj, const char *name, uint64_t lo, uint64_t hi,
                       uint32_t *out, char *err, size_t errlen);

/* What a value is, for "got ..." in messages: "1", "a string", "null",
 * "an array". */
void cfg_got(const cJSON *v, char *buf, size_t len);

/* An unsigned integer up to 2^53 (the largest a JSON number carries
 * exactly through cJSON's double), or `def` when absent. */
lbs_status cfg_uint(const cJSON *obj, const char *name, uint64_t def,
                    uint64_t *out, char *err, size_t errlen);

/* The load ceiling every scheduler takes: a number in 0..1, default 0.9.
 * 1 means no ceiling (loads never exceed 1).  Values above 1 are refused
 * rather than read as "no ceiling": 90 is far more likely a percentage. */
#define CFG_CEILING_DEFAULT 0.9
lbs_status cfg_load_ceiling(const cJSON *obj, double *out, char *err,
                            size_t errlen);

/*
 * A member object of the config, e.g. "store": *out = the object, or NULL
 * when absent (its getters then give defaults).  LBS_ECONFIG when it is not
 * an object.
 */
lbs_status cfg_object(const cJSON *obj, const char *name, const cJSON **out,
                      char *err, size_t errlen);

/*
 * After a getter failed on a member object: turn "config field 'alpha'"
 * into "config field 'store.alpha'" so the message names the full path.
 * Returns st unchanged.
 */
lbs_status cfg_nested(const char *group, lbs_status st, char *err, size_t errlen);

/* A string field, or `def` when absent; the pointer is into obj. */
lbs_status cfg_string(const cJSON *obj, const char *name, const char *def,
                      const char **out, char *err, size_t errlen);

#endif
