/*
 * lbsched_fast.c -- _lbsched_fast, the CPython extension behind
 * PluginScheduler.select_worker's common case (docs/PYTHON.md, "Cost per
 * call").  It reads the original's records through the C API instead of
 * the Python that lbsched/__init__.py falls back to:
 *   - the capabilities are compared with a snapshot of those sent last: a
 *     flat array of references to every value in them, so that a value
 *     that is the same object costs a pointer comparison;
 *   - the loads are read into the numeric form of lbsched_py.h;
 *   - the test is written as JSON;
 * and then calls lbspy_select_fleet, whose address the package passes in,
 * so that the checks and conversion are the library's (convert.h) and
 * there is one copy of the library in the process.
 *
 * Whatever it does not handle exactly (a shape, a type, a value the
 * numeric form cannot carry) it leaves to the package: select() answers
 * None and the package does the call the slow way, with the converter's
 * messages.  So this file decides speed, never an answer or a message.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lbsched_py.h"

/* PEP 509's dict version, which moves on every change of the dict: CPython
 * has it up to 3.11 (later ones compare everything, slower). */
#if PY_VERSION_HEX < 0x030C0000
#define DICT_VERSION(d) (((PyDictObject *)(d))->ma_version_tag)
#else
#define DICT_VERSION(d) ((uint64_t)0)
#define NO_DICT_VERSION 1
#endif

typedef int (*select_fleet_fn)(lbspy *, const char *, const char *,
                               const uint32_t *, const double *, size_t,
                               const char *, unsigned, uint32_t *, unsigned *,
                               char *, size_t, char *, size_t);

#define ERRLEN 1024
#define REASONLEN 512
#define MAX_FIELDS 64  /* load fields the layout may list */
#define KEY_CACHE 64   /* positions of a load's keys remembered */

/* ----- the layout: lbspy_load_layout, given by configure() --------------- */

enum kind { K_NUMBER, K_INTEGER, K_BOOL, K_STRING, K_SCALAR, K_ARRAY, K_OBJECT };

typedef struct field {
	PyObject *name;  /* interned */
	int kind;
	int slot;        /* position in the numeric form, -1 for the others */
	int nullable;
	int json_only;   /* not empty: the load goes as JSON */
	int is_id;       /* worker_id: the worker's own or None */
} field;

static select_fleet_fn select_fleet;
/* lbspy_load_layout's loose_max and string_max (loose_item) */
static double loose_max;
static Py_ssize_t string_max;
static field fields[MAX_FIELDS];
static int n_fields, n_slots;
/* The field at each position of the last load read: loads of one class
 * have their keys in one order, so this is one pointer comparison. */
static PyObject *key_at[KEY_CACHE];
static int field_at[KEY_CACHE];

static int kind_of(const char *s)
{
	static const char *const names[] = {"number", "integer", "bool", "string",
	                                    "scalar", "array", "object"};
	for (int i = 0; i < 7; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

/* configure(select_fleet_address, slots, others, json_only, loose_max,
 * string_max): slots and others as lbspy_load_layout gives them ([name,
 * kind, nullable]), json_only a collection of field names, the last two
 * the layout's. */
static PyObject *configure(PyObject *self, PyObject *args)
{
	unsigned long long addr;
	PyObject *slots, *others, *json_only;

	(void)self;
	if (!PyArg_ParseTuple(args, "KO!O!Odn", &addr, &PyList_Type, &slots,
	                      &PyList_Type, &others, &json_only, &loose_max, &string_max))
		return NULL;
	for (int i = 0; i < n_fields; i++)
		Py_CLEAR(fields[i].name);
	n_fields = n_slots = 0;
	for (int i = 0; i < KEY_CACHE; i++)
		Py_CLEAR(key_at[i]);
	for (int pass = 0; pass < 2; pass++) {
		PyObject *list = pass ? others : slots;
		for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
			const char *name, *kind;
			int nullable, contains;
			if (n_fields == MAX_FIELDS || (pass == 0 && n_fields >= 31)) {
				PyErr_SetString(PyExc_ValueError, "lbsched: too many load fields");
				return NULL;
			}
			if (!PyArg_ParseTuple(PyList_GET_ITEM(list, i), "ssp", &name, &kind,
			                      &nullable))
				return NULL;
			field *f = &fields[n_fields];
			f->kind = kind_of(kind);
			if (f->kind < 0) {
				PyErr_Format(PyExc_ValueError, "lbsched: load field kind '%s'", kind);
				return NULL;
			}
			f->name = PyUnicode_InternFromString(name);
			if (!f->name)
				return NULL;
			contains = PySequence_Contains(json_only, f->name);
			if (contains < 0)
				return NULL;
			f->json_only = contains;
			f->slot = pass ? -1 : n_slots++;
			f->nullable = nullable;
			f->is_id = strcmp(name, "worker_id") == 0;
			n_fields++;
		}
	}
	select_fleet = (select_fleet_fn)(uintptr_t)addr;
	Py_RETURN_NONE;
}

/* ----- JSON text of a test ------------------------------------------------ */

typedef struct buf {
	char *p;
	size_t n, cap;
} buf;

static int put(buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 512;
		while (cap < b->n + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
	return 0;
}

static int put_str(buf *b, PyObject *s)
{
	Py_ssize_t n;
	const char *u = PyUnicode_AsUTF8AndSize(s, &n);
	char esc[8];

	if (!u) { /* a lone surrogate: the package says so */
		PyErr_Clear();
		return 1;
	}
	if (put(b, "\"", 1))
		return -1;
	for (Py_ssize_t i = 0, from = 0; i <= n; i++) {
		unsigned char c = i < n ? (unsigned char)u[i] : 0;
		if (i < n && c >= 0x20 && c != '"' && c != '\\')
			continue;
		if (i < n && !c) /* the package names its field; the library, its byte */
			return 1;
		if (put(b, u + from, (size_t)(i - from)))
			return -1;
		from = i + 1;
		if (i == n)
			break;
		snprintf(esc, sizeof esc, c == '"' || c == '\\' ? "\\%c" : "\\u%04x", c);
		if (put(b, esc, strlen(esc)))
			return -1;
	}
	return put(b, "\"", 1);
}

/* An integer's digits, without printf (a test has a dozen numbers). */
static int put_int(buf *b, long long x)
{
	char d[24], *p = d + sizeof d;
	unsigned long long u = x < 0 ? 0ULL - (unsigned long long)x : (unsigned long long)x;

	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (x < 0)
		*--p = '-';
	return put(b, p, (size_t)(d + sizeof d - p));
}

/* 0 written, 1 not handled here (the package writes it), -1 error. */
/* JSON's decimal point in the number printf wrote: a process that set a
 * locale (de_DE writes "0,5") had every select refused as bad JSON.  Any
 * run of bytes that is not a digit, sign or exponent is the locale's point,
 * one or more bytes: it becomes '.'.  The new length. */
static size_t json_decimal(char *num)
{
	size_t o = 0;

	for (size_t i = 0; num[i];) {
		if ((num[i] >= '0' && num[i] <= '9') || num[i] == '-' || num[i] == '+' ||
		    num[i] == 'e' || num[i] == 'E') {
			num[o++] = num[i++];
			continue;
		}
		while (num[i] && !((num[i] >= '0' && num[i] <= '9') || num[i] == 'e' ||
		                   num[i] == 'E'))
			i++;
		num[o++] = '.';
	}
	num[o] = '\0';
	return o;
}

static int put_json(buf *b, PyObject *v, int depth)
{
	char num[40];
	int r;

	if (depth > 32)
		return 1;
	if (v == Py_None)
		return put(b, "null", 4);
	if (v == Py_True)
		return put(b, "true", 4);
	if (v == Py_False)
		return put(b, "false", 5);
	if (PyUnicode_CheckExact(v))
		return put_str(b, v);
	if (PyLong_CheckExact(v)) {
		int overflow;
		long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
		if (overflow)
			return 1;
		return put_int(b, x);
	}
	if (PyFloat_CheckExact(v)) {
		double d = PyFloat_AS_DOUBLE(v);
		if (!isfinite(d))
			return 1; /* named by the package */
		if (d == (double)(long long)d && fabs(d) < 1e15)
			return put_int(b, (long long)d);
		snprintf(num, sizeof num, "%.17g", d);
		return put(b, num, json_decimal(num));
	}
	if (PyList_CheckExact(v) || PyTuple_CheckExact(v)) {
		Py_ssize_t n = PySequence_Fast_GET_SIZE(v);
		PyObject **items = PySequence_Fast_ITEMS(v);
		if (put(b, "[", 1))
			return -1;
		for (Py_ssize_t i = 0; i < n; i++) {
			if (i && put(b, ",", 1))
				return -1;
			if ((r = put_json(b, items[i], depth + 1)))
				return r;
		}
		return put(b, "]", 1);
	}
	if (PyDict_CheckExact(v)) {
		Py_ssize_t pos = 0;
		PyObject *k, *x;
		int first = 1;
		if (put(b, "{", 1))
			return -1;
		while (PyDict_Next(v, &pos, &k, &x)) {
			if (!PyUnicode_CheckExact(k))
				return 1;
			if ((!first && put(b, ",", 1)))
				return -1;
			first = 0;
			if ((r = put_str(b, k)) || put(b, ":", 1) ||
			    (r = put_json(b, x, depth + 1)))
				return r ? r : -1;
		}
		return put(b, "}", 1);
	}
	return 1;
}

/* The fields of a record: a dict as it is, else its instance dict (a new
 * reference either way); NULL without an exception when it has none. */
/* 1 when no class of t's declares a property: a record's fields are then
 * its __dict__ alone.  A property's value is not in it (a busy worker's
 * load read as none); such records are the package's, which reads them.
 * Remembered for the last types seen, by their version tag (0: not kept,
 * asked every time). */
static int no_properties(PyTypeObject *t)
{
	static struct { PyTypeObject *t; unsigned int tag; int plain; } seen[8];
	static unsigned next, last; /* last: the entry the previous call found */
	PyObject *mro = t->tp_mro;
	int plain = 1;

	if (seen[last].t == t && seen[last].tag && seen[last].tag == t->tp_version_tag)
		return seen[last].plain;
	for (unsigned i = 0; i < 8; i++)
		if (seen[i].t == t && seen[i].tag && seen[i].tag == t->tp_version_tag) {
			last = i;
			return seen[i].plain;
		}
	for (Py_ssize_t i = 0; mro && plain && i < PyTuple_GET_SIZE(mro); i++) {
		PyObject *d = ((PyTypeObject *)PyTuple_GET_ITEM(mro, i))->tp_dict, *k, *v;
		Py_ssize_t pos = 0;

		while (plain && d && PyDict_Next(d, &pos, &k, &v))
			plain = !PyObject_TypeCheck(v, &PyProperty_Type);
	}
	if (PyType_HasFeature(t, Py_TPFLAGS_VALID_VERSION_TAG) && t->tp_version_tag) {
		seen[next % 8].t = t;
		seen[next % 8].tag = t->tp_version_tag;
		seen[next % 8].plain = plain;
		next++;
	}
	return plain;
}

static PyObject *fields_of(PyObject *rec, int *is_dict)
{
	*is_dict = PyDict_CheckExact(rec);
	if (*is_dict) {
		Py_INCREF(rec);
		return rec;
	}
	/* A dict's subclass (OrderedDict, class X(dict)) keeps its fields in
	 * its items, not in the __dict__ read below, which is empty: the
	 * package reads it. */
	if (PyDict_Check(rec))
		return NULL;
	if (!Py_TYPE(rec)->tp_dictoffset || !no_properties(Py_TYPE(rec)))
		return NULL;
#ifndef NO_DICT_VERSION
	PyObject **dp = _PyObject_GetDictPtr(rec);
	if (dp && *dp && PyDict_CheckExact(*dp))
		return Py_NewRef(*dp);
#endif
	PyObject *d = PyObject_GenericGetDict(rec, NULL);
	if (!d || !PyDict_CheckExact(d)) {
		PyErr_Clear();
		Py_XDECREF(d);
		return NULL;
	}
	return d;
}

/* A record's dict, borrowed, when it has one already (no reference
 * counted: the hot path touches each record's objects only to read). */
static inline PyObject *dict_of(PyObject *rec)
{
	if (PyDict_CheckExact(rec))
		return rec;
	if (PyDict_Check(rec) || !no_properties(Py_TYPE(rec)))
		return NULL; /* as fields_of */
#ifndef NO_DICT_VERSION
#if PY_VERSION_HEX >= 0x030B0000 && defined(Py_TPFLAGS_MANAGED_DICT)
	/* 3.11's managed dict, where _PyObject_GetDictPtr looks (pycore_
	 * object.h's _PyObject_ManagedDictPointer), without a call per
	 * record per call; one not made yet is left to that function */
	if (Py_TYPE(rec)->tp_flags & Py_TPFLAGS_MANAGED_DICT) {
		PyObject *d = ((PyObject **)rec)[-3];
		if (d && PyDict_CheckExact(d))
			return d;
	}
#endif
	if (Py_TYPE(rec)->tp_dictoffset) {
		PyObject **dp = _PyObject_GetDictPtr(rec);
		if (dp && *dp && PyDict_CheckExact(*dp))
			return *dp;
	}
#endif
	return NULL;
}

/* The test as JSON, as the package's _dumps(_record(test)) would write
 * it (an object's private attributes left out). */
static int test_json(buf *b, PyObject *test)
{
	int is_dict, r = 0, first = 1;
	PyObject *d = fields_of(test, &is_dict), *k, *v;
	Py_ssize_t pos = 0;

	if (!d)
		return 1;
	if (is_dict) {
		r = put_json(b, d, 0);
		Py_DECREF(d);
		return r;
	}
	r = put(b, "{", 1);
	while (!r && PyDict_Next(d, &pos, &k, &v)) {
		if (!PyUnicode_CheckExact(k)) {
			r = 1;
			break;
		}
		if (PyUnicode_GET_LENGTH(k) && PyUnicode_READ_CHAR(k, 0) == '_')
			continue;
		if ((!first && put(b, ",", 1)) || (r = put_str(b, k)) || put(b, ":", 1) ||
		    (r = put_json(b, v, 1)))
			r = r ? r : -1;
		first = 0;
	}
	Py_DECREF(d);
	return r ? r : put(b, "}", 1);
}

/* ----- the snapshot of the capabilities ------------------------------------
 * Every value of every record in order, a dict's keys before their values,
 * a container's entry before its items with their count.  Holding a
 * reference to each keeps its address its own, so an unchanged atom is
 * a pointer comparison.
 *
 * A dict whose version (PEP 509's ma_version_tag, CPython up to 3.11)
 * is the one snapshot has the same values, as the same objects: then only
 * the containers among them are looked into, from the snapshot's entries,
 * without reading the dict.  Later Pythons compare every value. */


enum { E_ATOM, E_LIST, E_TUPLE, E_DICT, E_COPY };

typedef struct entry {
	PyObject *obj; /* the value (E_COPY: a copy of it) */
	Py_ssize_t n;  /* a container's count */
	size_t span;   /* a container's entries after its own */
	uint64_t ver;  /* a dict's version */
	size_t run;    /* an atom's: atoms from here on, itself included */
	int tag;
} entry;

/* The containers of a worker's record, in the snapshot's order, to check
 * without walking its entries: a dict's version, a list's items (as
 * pointers, in `ptrs`).  Each is the object snapshot saw as long as those
 * before it (its parents) passed. */
typedef struct check {
	PyObject *obj; /* held by its entry; a dict or a list */
	union {
		uint64_t ver; /* a dict's */
		struct {
			uint32_t n, items;
		} list;
	} u;
} check; /* 16 bytes: a few per worker are read on every call */

/* A worker's load as last read: its numbers again while its dict is
 * unchanged. */
#define MAX_WATCH 4

typedef struct load_memo {
	PyObject *load, *dict; /* held */
	uint64_t ver;
	uint32_t given;
	uint32_t n_vals; /* the given slots' values, packed as sent */
	/* its JSON-only fields' values and its mutable arrays (held by the
	 * dict while its version stands): the original's reserve_resources
	 * fills reserved_accelerators and active_test_ids in place, which
	 * moves no version of the load's own dict.  A JSON-only one must
	 * stay empty; an array's items must stay ones the converter takes
	 * (items: 1), or the package sends the load as JSON and the
	 * converter names the bad one, as for a new scheduler */
	PyObject *watch[MAX_WATCH];
	char items[MAX_WATCH];
	int n_watch;
	/* last: a call whose loads stand reads the fields above only */
	double vals[32];
} load_memo;

typedef struct snap {
	entry *e;
	size_t n, cap;
	Py_ssize_t n_workers;
	PyObject *keys; /* list of the caller's keys, or None */
	/* select's buffers, used under the package's lock */
	uint32_t *given;
	double *vals;
	size_t n_given, n_vals;
	load_memo *memo; /* one per worker */
	/* per worker: its first entry and first check (n_workers + 1 of
	 * each), and whether only same() can tell (it holds a set) */
	size_t *w_entry, *w_check;
	char *w_slow;
	check *chk;
	size_t n_chk, cap_chk;
	PyObject **ptrs;
	size_t n_ptrs, cap_ptrs;
	/* The last walk of the records, for the next call when neither
	 * available_workers nor worker_loads has moved since (their PEP 509
	 * versions): each worker's record and load are then the objects that
	 * walk found (w_rec, w_load, borrowed: the unchanged dicts hold
	 * them), so they are checked from here, without iterating, comparing
	 * keys or looking loads up.  Whether a record or a load changed in
	 * place is still checked, worker by worker, as on any call. */
	int quick;
	PyObject *q_workers, *q_loads, *q_ids, *q_alt; /* compared, never read */
	uint64_t q_wver, q_lver;
	PyObject **w_rec, **w_load;
	/* given and vals hold the loads of the last call, whole: a worker
	 * whose load is as its memo says need not be written again */
	int vals_valid;
	size_t last_nv;
} snap;

/* A value whose compare runs no Python code: an aware datetime or time
 * is not one (comparing two with different tzinfo calls utcoffset(),
 * which a tzinfo subclass writes in Python). */
static int is_atom(PyObject *v)
{
	return v == Py_None || PyUnicode_CheckExact(v) || PyLong_CheckExact(v) ||
	       PyFloat_CheckExact(v) || PyBool_Check(v) || PyBytes_CheckExact(v) ||
	       (PyDateTime_CheckExact(v) && !_PyDateTime_HAS_TZINFO(v)) || PyDate_CheckExact(v) ||
	       (PyTime_CheckExact(v) && !_PyDateTime_HAS_TZINFO(v)) || PyDelta_CheckExact(v);
}

/* 0 when every item of the set v is an atom, 1 when one is not (a str
 * subclass whose __eq__ is Python code, which may change the fleet in the
 * middle of a walk that holds borrowed records), -1 error.  Comparing sets
 * of atoms runs no Python code. */
static int atoms_only(PyObject *v)
{
	PyObject *it = PyObject_GetIter(v), *x;
	int r = 0;

	if (!it)
		return -1;
	while (!r && (x = PyIter_Next(it))) {
		r = !is_atom(x);
		Py_DECREF(x);
	}
	Py_DECREF(it);
	return PyErr_Occurred() ? -1 : r;
}

static int snap_add(snap *s, PyObject *obj, Py_ssize_t n, int tag)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1024;
		entry *e = realloc(s->e, cap * sizeof *e);
		if (!e) {
			PyErr_NoMemory();
			return -1;
		}
		s->e = e;
		s->cap = cap;
	}
	s->e[s->n++] = (entry){obj, n, 0, 0, 0, tag};
	return 0;
}

/* 0 added, 1 a value this file does not snapshot, -1 error. */
static int snap_value(snap *s, PyObject *v, int depth)
{
	int r;

	if (depth > 32)
		return 1;
	if (is_atom(v)) {
		Py_INCREF(v);
		return snap_add(s, v, 0, E_ATOM) ? (Py_DECREF(v), -1) : 0;
	}
	if (PyList_CheckExact(v) || PyTuple_CheckExact(v)) {
		Py_ssize_t n = PySequence_Fast_GET_SIZE(v);
		size_t at = s->n;
		Py_INCREF(v);
		if (snap_add(s, v, n, PyList_CheckExact(v) ? E_LIST : E_TUPLE)) {
			Py_DECREF(v);
			return -1;
		}
		for (Py_ssize_t i = 0; i < n; i++)
			if ((r = snap_value(s, PySequence_Fast_ITEMS(v)[i], depth + 1)))
				return r;
		s->e[at].span = s->n - at - 1;
		return 0;
	}
	if (PyDict_CheckExact(v)) {
		Py_ssize_t pos = 0;
		PyObject *k, *x;
		size_t at = s->n;
		Py_INCREF(v);
		if (snap_add(s, v, PyDict_GET_SIZE(v), E_DICT)) {
			Py_DECREF(v);
			return -1;
		}
		while (PyDict_Next(v, &pos, &k, &x))
			if ((r = snap_value(s, k, depth + 1)) || (r = snap_value(s, x, depth + 1)))
				return r;
		s->e[at].span = s->n - at - 1;
		s->e[at].ver = DICT_VERSION(v);
		return 0;
	}
	if (PyAnySet_CheckExact(v)) {
		PyObject *copy;
		if ((r = atoms_only(v)))
			return r;
		if (!(copy = PyFrozenSet_New(v)))
			return -1;
		return snap_add(s, copy, 0, E_COPY) ? (Py_DECREF(copy), -1) : 0;
	}
	return 1;
}

static void snap_free(PyObject *capsule)
{
	snap *s = PyCapsule_GetPointer(capsule, "lbsched.snapshot");

	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		Py_DECREF(s->e[i].obj);
	for (Py_ssize_t i = 0; s->memo && i < s->n_workers; i++) {
		Py_XDECREF(s->memo[i].load);
		Py_XDECREF(s->memo[i].dict);
	}
	free(s->memo);
	free(s->w_rec);
	free(s->w_load);
	free(s->w_entry);
	free(s->w_check);
	free(s->w_slow);
	free(s->chk);
	free(s->ptrs);
	Py_XDECREF(s->keys);
	free(s->e);
	free(s->given);
	free(s->vals);
	free(s);
}

static int add_check(snap *s, const entry *e)
{
	if (s->n_chk == s->cap_chk) {
		size_t cap = s->cap_chk ? 2 * s->cap_chk : 256;
		check *c = realloc(s->chk, cap * sizeof *c);
		if (!c)
			return -1;
		s->chk = c;
		s->cap_chk = cap;
	}
	check *c = &s->chk[s->n_chk++];
	c->obj = e->obj;
	if (e->tag == E_DICT) {
		c->u.ver = e->ver;
	} else {
		c->u.list.n = (uint32_t)e->n;
		c->u.list.items = (uint32_t)s->n_ptrs;
	}
	return 0;
}

static int add_ptr(snap *s, PyObject *p)
{
	if (s->n_ptrs == s->cap_ptrs) {
		size_t cap = s->cap_ptrs ? 2 * s->cap_ptrs : 1024;
		PyObject **v = realloc(s->ptrs, cap * sizeof *v);
		if (!v)
			return -1;
		s->ptrs = v;
		s->cap_ptrs = cap;
	}
	s->ptrs[s->n_ptrs++] = p;
	return 0;
}

/* Each worker's checks, from its entries; 0 or -1 (no memory). */
static int build_checks(snap *s)
{
	for (Py_ssize_t w = 0; w < s->n_workers; w++) {
		s->w_check[w] = s->n_chk;
		for (size_t i = s->w_entry[w]; i < s->w_entry[w + 1]; i++) {
			const entry *e = &s->e[i];
			if (e->tag == E_COPY)
				s->w_slow[w] = 1;
			if (e->tag != E_DICT && e->tag != E_LIST)
				continue;
			/* beyond what a check holds: same() compares it */
			if (e->n > UINT32_MAX || s->n_ptrs + (size_t)e->n > UINT32_MAX)
				s->w_slow[w] = 1;
			if (add_check(s, e))
				goto nomem;
			if (e->tag != E_LIST)
				continue;
			/* its items: the entries of its children */
			for (size_t c = i + 1; c <= i + e->span;
			     c += 1 + (s->e[c].tag == E_ATOM || s->e[c].tag == E_COPY
			                   ? 0 : s->e[c].span))
				if (add_ptr(s, s->e[c].tag == E_COPY ? NULL : s->e[c].obj))
					goto nomem;
		}
	}
	s->w_check[s->n_workers] = s->n_chk;
	return 0;
nomem:
	PyErr_NoMemory();
	return -1;
}

/* Worker w's record unchanged by the checks alone: 1, or 0 when only
 * same() can tell. */
static int unchanged(const snap *s, Py_ssize_t w, PyObject *d)
{
#ifndef NO_DICT_VERSION
	const check *c = &s->chk[s->w_check[w]], *end = &s->chk[s->w_check[w + 1]];

	if (s->w_slow[w] || c == end || c->obj != d)
		return 0;
	for (; c < end; c++) {
		/* its type is in the line its version or size is read from */
		if (PyDict_CheckExact(c->obj)) {
			if (DICT_VERSION(c->obj) != c->u.ver)
				return 0;
		} else {
			/* a few items: a loop, cheaper than a call to memcmp */
			PyObject *const *now = ((PyListObject *)c->obj)->ob_item,
			                *const *was = &s->ptrs[c->u.list.items];
			if (PyList_GET_SIZE(c->obj) != (Py_ssize_t)c->u.list.n)
				return 0;
			for (uint32_t i = 0; i < c->u.list.n; i++)
				if (now[i] != was[i])
					return 0;
		}
	}
	return 1;
#else
	(void)s, (void)w, (void)d;
	return 0;
#endif
}

/* The records of available_workers (a dict or a list) in order, with the
 * keys (a new list, or None for a list): a new reference to a sequence. */
static PyObject *records_of(PyObject *workers, PyObject **keys)
{
	if (PyDict_CheckExact(workers)) {
		*keys = PyDict_Keys(workers);
		if (!*keys)
			return NULL;
		PyObject *v = PyDict_Values(workers);
		if (!v)
			Py_CLEAR(*keys);
		return v;
	}
	if (PyList_CheckExact(workers)) {
		*keys = Py_NewRef(Py_None);
		return Py_NewRef(workers);
	}
	*keys = NULL;
	return NULL;
}

/* A record's fields, without its "load": 1 when it has one (left to the
 * package), 0, -1. */
static PyObject *load_name;

/* snapshot(available_workers): the capsule, or None when the records hold
 * something this file does not compare (the package then compares). */
static PyObject *snapshot(PyObject *self, PyObject *workers)
{
	PyObject *keys = NULL, *recs = records_of(workers, &keys), *capsule;
	snap *s;
	int r = 0;

	(void)self;
	if (!recs) {
		if (PyErr_Occurred())
			return NULL;
		Py_RETURN_NONE;
	}
	s = calloc(1, sizeof *s);
	if (!s) {
		Py_DECREF(recs);
		Py_DECREF(keys);
		return PyErr_NoMemory();
	}
	s->keys = keys;
	capsule = PyCapsule_New(s, "lbsched.snapshot", snap_free);
	if (!capsule) {
		Py_DECREF(keys);
		free(s);
		Py_DECREF(recs);
		return NULL;
	}
	s->n_workers = PyList_GET_SIZE(recs);
	s->memo = calloc((size_t)s->n_workers + 1, sizeof *s->memo);
	if (!s->memo) {
		Py_DECREF(recs);
		Py_DECREF(capsule);
		return PyErr_NoMemory();
	}
	s->w_entry = calloc((size_t)s->n_workers + 1, sizeof *s->w_entry);
	s->w_check = calloc((size_t)s->n_workers + 1, sizeof *s->w_check);
	s->w_slow = calloc((size_t)s->n_workers + 1, 1);
	s->w_rec = calloc((size_t)s->n_workers + 1, sizeof *s->w_rec);
	s->w_load = calloc((size_t)s->n_workers + 1, sizeof *s->w_load);
	if (!s->w_entry || !s->w_check || !s->w_slow || !s->w_rec || !s->w_load) {
		Py_DECREF(recs);
		Py_DECREF(capsule);
		return PyErr_NoMemory();
	}
	for (Py_ssize_t i = 0; !r && i < s->n_workers; i++) {
		int is_dict;
		PyObject *d = fields_of(PyList_GET_ITEM(recs, i), &is_dict);
		if (!d) {
			r = PyErr_Occurred() ? -1 : 1;
			break;
		}
		s->w_entry[i] = s->n;
		r = PyDict_Contains(d, load_name);
		if (!r)
			r = snap_value(s, d, 0);
		Py_DECREF(d);
	}
	Py_DECREF(recs);
	if (!r) {
		s->w_entry[s->n_workers] = s->n;
		r = build_checks(s);
	}
	for (size_t i = s->n; !r && i-- > 0;)
		if (s->e[i].tag == E_ATOM)
			s->e[i].run = 1 + (i + 1 < s->n ? s->e[i + 1].run : 0);
	if (r) {
		Py_DECREF(capsule);
		if (r < 0)
			return NULL;
		Py_RETURN_NONE;
	}
	return capsule;
}

/* Whether v equals what entry *j (and those after it) snapshot; *j moves
 * past them.  Unsure is "no": the capabilities are then sent again,
 * which costs time only. */
static int same(const snap *s, size_t *j, PyObject *v)
{
	const entry *e;
	int r;

	if (*j >= s->n)
		return 0;
	e = &s->e[(*j)++];
	switch (e->tag) {
	case E_ATOM:
		if (v == e->obj)
			return 1;
		if (!is_atom(v))
			return 0;
		r = PyObject_RichCompareBool(v, e->obj, Py_EQ);
		if (r < 0)
			PyErr_Clear();
		return r > 0;
	case E_COPY:
		if (!PyAnySet_CheckExact(v) || PySet_GET_SIZE(v) != PySet_GET_SIZE(e->obj))
			return 0;
		if ((r = atoms_only(v))) {
			if (r < 0)
				PyErr_Clear();
			return 0;
		}
		r = PyObject_RichCompareBool(v, e->obj, Py_EQ);
		if (r < 0)
			PyErr_Clear();
		return r > 0;
	case E_LIST:
	case E_TUPLE:
		if (e->tag == E_LIST ? !PyList_CheckExact(v) : !PyTuple_CheckExact(v))
			return 0;
		if (PySequence_Fast_GET_SIZE(v) != e->n)
			return 0;
		for (Py_ssize_t i = 0; i < e->n; i++)
			if (!same(s, j, PySequence_Fast_ITEMS(v)[i]))
				return 0;
		return 1;
	case E_DICT: {
		Py_ssize_t pos = 0;
		PyObject *k, *x;
#ifndef NO_DICT_VERSION
		if (v == e->obj && DICT_VERSION(v) == e->ver) {
			/* The same values: look into the containers among them.
			 * A set's snapshot is a copy, not the set: read the
			 * dict then. */
			size_t start = *j, end = *j + e->span;
			while (*j < end) {
				const entry *c = &s->e[*j];
				if (c->tag == E_ATOM)
					*j += c->run < end - *j ? c->run : end - *j;
				else if (c->tag == E_COPY)
					break;
				else if (!same(s, j, c->obj))
					return 0;
			}
			if (*j == end)
				return 1;
			*j = start;
		}
#endif
		if (!PyDict_CheckExact(v) || PyDict_GET_SIZE(v) != e->n)
			return 0;
		while (PyDict_Next(v, &pos, &k, &x))
			if (!same(s, j, k) || !same(s, j, x))
				return 0;
		return 1;
	}
	}
	return 0;
}

/* ----- the loads ------------------------------------------------------------ */

static int field_of(PyObject *key, Py_ssize_t at)
{
	if (at < KEY_CACHE && key_at[at] == key)
		return field_at[at];
	int found = -1;
	for (int i = 0; i < n_fields && found < 0; i++)
		if (fields[i].name == key)
			found = i;
	for (int i = 0; i < n_fields && found < 0; i++) {
		int r = PyUnicode_Check(key) ? PyUnicode_Compare(key, fields[i].name) : 1;
		if (r == -1 && PyErr_Occurred())
			PyErr_Clear();
		if (r == 0)
			found = i;
	}
	if (at < KEY_CACHE && found >= 0) {
		/* held, so that no other string takes its address */
		Py_INCREF(key);
		Py_XSETREF(key_at[at], key);
		field_at[at] = found;
	}
	return found;
}

static inline int empty(PyObject *v)
{
	if (v == Py_None)
		return 1;
	/* the memo's check, once per watched field per worker per call */
	if (PyAnySet_CheckExact(v))
		return PySet_GET_SIZE(v) == 0;
	if (PyDict_CheckExact(v))
		return PyDict_GET_SIZE(v) == 0;
	if (PyList_CheckExact(v))
		return PyList_GET_SIZE(v) == 0;
	Py_ssize_t n = PyObject_Length(v);
	if (n < 0)
		PyErr_Clear();
	return n == 0;
}

/* A string or a number the converter takes as an ignored scalar or an
 * array's item (the package's _loose): a number within +-loose_max, a
 * string of at most string_max UTF-8 bytes.  Anything else goes as JSON,
 * where the converter names it. */
static int loose_item(PyObject *x)
{
	PyTypeObject *t = Py_TYPE(x);

	if (t == &PyUnicode_Type) {
		Py_ssize_t n;

		if (PyUnicode_IS_ASCII(x))
			return PyUnicode_GET_LENGTH(x) <= string_max;
		if (!PyUnicode_AsUTF8AndSize(x, &n)) { /* a lone surrogate */
			PyErr_Clear();
			return 0;
		}
		return n <= string_max;
	}
	if (t == &PyFloat_Type)
		return fabs(PyFloat_AS_DOUBLE(x)) <= loose_max; /* NaN: no */
	if (t == &PyLong_Type) {
		double d = PyLong_AsDouble(x);

		if (d == -1.0 && PyErr_Occurred()) {
			PyErr_Clear();
			return 0;
		}
		return fabs(d) <= loose_max;
	}
	return 0;
}

/* Whether every item of an array field (a list, tuple or set) is one the
 * converter takes (loose_item). */
static int loose_items(PyObject *v)
{
	if (!PyAnySet_CheckExact(v)) {
		Py_ssize_t n = PySequence_Fast_GET_SIZE(v);
		PyObject **items = PySequence_Fast_ITEMS(v);
		for (Py_ssize_t i = 0; i < n; i++)
			if (!loose_item(items[i]))
				return 0;
		return 1;
	}
	PyObject *it = PyObject_GetIter(v), *x;
	int ok = it != NULL;
	while (ok && (x = PyIter_Next(it))) {
		ok = loose_item(x);
		Py_DECREF(x);
	}
	Py_XDECREF(it);
	if (PyErr_Occurred()) {
		PyErr_Clear();
		ok = 0;
	}
	return ok;
}

#ifndef NO_DICT_VERSION
/* loose_items of a watched array, each call while its load's dict stands:
 * a set's entries read in place, without an iterator object. */
static int still_loose(PyObject *v)
{
#if PY_VERSION_HEX < 0x030D0000
	if (PyAnySet_CheckExact(v)) {
		const PySetObject *so = (const PySetObject *)v;
		Py_ssize_t left = so->used;
		/* its table read in place, up to its last item (an idle
		 * worker's, empty, not at all): this runs for every worker on
		 * every call.  loose_item runs no Python code: the set cannot
		 * change under it */
		for (Py_ssize_t i = 0; left > 0 && i <= so->mask; i++) {
			PyObject *x = so->table[i].key;
			if (!x || x == _PySet_Dummy)
				continue;
			if (!loose_item(x))
				return 0;
			left--;
		}
		return 1;
	}
#endif
	return loose_items(v);
}
#endif

/* One load into given/vals; 1 when it cannot go as numbers exactly (the
 * package sends that call's loads as JSON), 0, -1.  The fields the
 * numeric form does not carry are checked as JSON would be: a NaN or an
 * infinity in one sends the loads as JSON, where the package names it. */
static int load_values(PyObject *load, PyObject *wid, uint32_t *given,
                       double *vals, size_t *nv)
{
	int is_dict;
	PyObject *d = fields_of(load, &is_dict), *k, *v;
	Py_ssize_t pos = 0, at = 0;
	double slot[32];
	uint32_t mask = LBSPY_LOAD_GIVEN;
	int r = 0;

	if (!d)
		return PyErr_Occurred() ? -1 : 1;
	while (!r && PyDict_Next(d, &pos, &k, &v)) {
		int i = field_of(k, at++);
		if (i < 0) {
			r = 1;
			break;
		}
		const field *f = &fields[i];
		PyTypeObject *t = Py_TYPE(v);
		if (f->slot >= 0) {
			if (f->kind == K_BOOL) {
				if (t != &PyBool_Type)
					r = 1;
				else
					slot[f->slot] = v == Py_True;
			} else if (t == &PyFloat_Type) {
				slot[f->slot] = PyFloat_AS_DOUBLE(v);
			} else if (t == &PyLong_Type) {
				slot[f->slot] = PyLong_AsDouble(v);
				if (slot[f->slot] == -1.0 && PyErr_Occurred()) {
					PyErr_Clear();
					r = 1;
				}
			} else {
				r = 1;
			}
			mask |= UINT32_C(1) << f->slot;
			continue;
		}
		if (v == Py_None) {
			r = !f->nullable;
			continue;
		}
		if (f->json_only && !empty(v)) {
			r = 1;
			continue;
		}
		if (f->is_id) {
			if (v != wid) {
				int eq = t == &PyUnicode_Type
				                 ? PyObject_RichCompareBool(v, wid, Py_EQ)
				                 : 0;
				if (eq < 0)
					PyErr_Clear();
				r = eq <= 0;
			}
			continue;
		}
		switch (f->kind) {
		case K_NUMBER:
		case K_INTEGER:
			r = t != &PyFloat_Type && t != &PyLong_Type;
			r = r || ((t == &PyUnicode_Type || t == &PyFloat_Type || t == &PyLong_Type) &&
			          !loose_item(v));
			break;
		case K_BOOL:
			r = t != &PyBool_Type;
			break;
		case K_STRING:
			r = t != &PyUnicode_Type;
			break;
		case K_SCALAR:
			r = !(t == &PyUnicode_Type || t == &PyFloat_Type ||
			      t == &PyLong_Type || PyDateTime_CheckExact(v) ||
			      PyDate_CheckExact(v) || PyTime_CheckExact(v) ||
			      PyDelta_CheckExact(v));
			r = r || ((t == &PyUnicode_Type || t == &PyFloat_Type || t == &PyLong_Type) &&
			          !loose_item(v));
			break;
		case K_ARRAY:
			r = !(t == &PyList_Type || t == &PyTuple_Type ||
			      PyAnySet_CheckExact(v)) || !loose_items(v);
			break;
		case K_OBJECT:
			r = t != &PyDict_Type;
			break;
		}
	}
	Py_DECREF(d);
	if (r)
		return r;
	*given = mask;
	for (int i = 0; i < n_slots; i++)
		if (mask >> i & 1)
			vals[(*nv)++] = slot[i];
	return 0;
}

/* load_values, or what it gave last for this worker while the load is the
 * same object with the same dict at the same version.  *dirty: 0 while
 * given and vals up to here hold what the last call put there (the
 * memos' values), so that a worker whose memo stands is not written
 * again; set once one is.  *kept: cleared when a worker's values are
 * not its memo's. */
static int memo_values(load_memo *m, PyObject *load, PyObject *wid,
                       uint32_t *given, double *vals, size_t *nv, int *dirty,
                       int *kept)
{
#ifndef NO_DICT_VERSION
	PyObject *d = dict_of(load);
	size_t first = *nv;
	int r;

	int hit = d && m->load == load && m->dict == d && m->ver == DICT_VERSION(d);
	for (int k = 0; hit && k < m->n_watch; k++)
		hit = m->items[k] ? still_loose(m->watch[k]) : empty(m->watch[k]);
	if (hit) {
		if (*dirty || *given != m->given) {
			*dirty = 1;
			*given = m->given;
			memcpy(vals + *nv, m->vals, m->n_vals * sizeof *vals);
		}
		*nv += m->n_vals;
		return 0;
	}
	*dirty = 1;
	r = load_values(load, wid, given, vals, nv);
	if (!r && !d)
		*kept = 0;
	if (r || !d)
		return r;
	Py_INCREF(load);
	Py_XSETREF(m->load, load);
	Py_INCREF(d);
	Py_XSETREF(m->dict, d);
	m->ver = DICT_VERSION(d);
	m->given = *given;
	m->n_watch = 0;
	for (int i = 0; i < n_fields; i++) {
		int items = fields[i].kind == K_ARRAY && !fields[i].json_only;
		PyObject *v = fields[i].json_only || items
		                      ? PyDict_GetItemWithError(d, fields[i].name)
		                      : NULL;
		if (!v && PyErr_Occurred())
			PyErr_Clear();
		/* a tuple or a frozenset cannot change in place */
		if (v && items && !PyList_CheckExact(v) && !PySet_CheckExact(v))
			v = NULL;
		if (v && m->n_watch == MAX_WATCH) {
			Py_CLEAR(m->dict); /* cannot watch them all: no memo */
			*kept = 0;
			break;
		}
		if (v) {
			m->items[m->n_watch] = (char)items;
			m->watch[m->n_watch++] = v;
		}
	}
	m->n_vals = (uint32_t)(*nv - first);
	memcpy(m->vals, vals + first, m->n_vals * sizeof *vals);
	return 0;
#else
	(void)m;
	*dirty = 1;
	*kept = 0;
	return load_values(load, wid, given, vals, nv);
#endif
}

static int grow(snap *s, size_t workers)
{
	size_t nv = workers * (size_t)(n_slots ? n_slots : 1);

	if (workers > s->n_given) {
		uint32_t *g = realloc(s->given, workers * sizeof *g);
		if (!g)
			return -1;
		s->given = g;
		s->n_given = workers;
	}
	if (nv > s->n_vals) {
		double *v = realloc(s->vals, nv * sizeof *v);
		if (!v)
			return -1;
		s->vals = v;
		s->n_vals = nv;
	}
	return 0;
}

#ifndef NO_DICT_VERSION
#define HAVE_DICT_VERSION 1
#else
#define HAVE_DICT_VERSION 0
#endif

/* Workers ahead whose objects a quick walk asks the cache for: the walk's
 * cost at hundreds of workers is waiting for memory, and the snapshot
 * knows every address it will read without following a pointer. */
#define PREFETCH 4

static inline void prefetch_caps(const snap *s, Py_ssize_t w)
{
	/* the record; a managed dict's pointer sits just before it */
	__builtin_prefetch((const char *)s->w_rec[w] - 4 * sizeof(PyObject *));
	__builtin_prefetch(s->w_rec[w]);
	for (size_t c = s->w_check[w]; c < s->w_check[w + 1]; c++)
		__builtin_prefetch(s->chk[c].obj);
}

static inline void prefetch_load(const snap *s, Py_ssize_t w)
{
	const load_memo *m = &s->memo[w];
	PyObject *load = s->w_load[w];

	if (!load)
		return;
	__builtin_prefetch((const char *)load - 4 * sizeof(PyObject *));
	__builtin_prefetch(load);
	if (m->dict)
		__builtin_prefetch(m->dict);
	for (int k = 0; k < m->n_watch; k++)
		__builtin_prefetch(m->watch[k]);
}

/*
 * select(handle, test, available_workers, worker_loads, snapshot, ids,
 *        alt_ids, caps, max)
 *
 * handle: the lbspy handle's address; snapshot: what snapshot() made of
 * the fleet the library holds (caps None) or is sent now (caps bytes);
 * ids: the id to find each worker's load under, alt_ids (or None) the
 * second one.  Answers None (the package does this call), False (the
 * capabilities changed: send them), or (code, picked indices, reason or
 * the library's message).
 */
static PyObject *select_(PyObject *self, PyObject *args)
{
	unsigned long long h;
	PyObject *test, *workers, *loads, *capsule, *ids, *alt, *caps;
	unsigned maxn, n_picked = 0;
	uint32_t picked[LBSPY_MAX_PICKED];
	char reason[REASONLEN], err[ERRLEN];
	buf tb = {0};
	snap *s;
	size_t nv = 0, j = 0;
	Py_ssize_t n;
	int r = 0, code;
	PyObject *res = NULL;

	(void)self;
	if (!PyArg_ParseTuple(args, "KOOOOO!OOI", &h, &test, &workers, &loads,
	                      &capsule, &PyList_Type, &ids, &alt, &caps, &maxn))
		return NULL;
	if (!select_fleet) {
		PyErr_SetString(PyExc_RuntimeError, "lbsched: _lbsched_fast not configured");
		return NULL;
	}
	s = PyCapsule_GetPointer(capsule, "lbsched.snapshot");
	if (!s)
		return NULL;
	n = PyList_GET_SIZE(ids);
	if ((loads != Py_None && !PyDict_CheckExact(loads)) ||
	    (caps != Py_None && !PyBytes_CheckExact(caps)) ||
	    (alt != Py_None && (!PyList_CheckExact(alt) || PyList_GET_SIZE(alt) != n)) ||
	    s->n_workers != n)
		Py_RETURN_NONE;
	if (PyDict_CheckExact(workers) ? PyDict_GET_SIZE(workers) != n
	    : PyList_CheckExact(workers) ? PyList_GET_SIZE(workers) != n
	                                 : 1)
		Py_RETURN_FALSE;
	/* Since the last walk, neither dict moved: the same records and
	 * loads under the same keys (quick, in struct snap). */
	int is_dict = PyDict_CheckExact(workers);
	uint64_t wver = is_dict ? DICT_VERSION(workers) : 0,
	         lver = loads != Py_None ? DICT_VERSION(loads) : 0;
	int quick = HAVE_DICT_VERSION && s->quick && caps == Py_None && is_dict &&
	            workers == s->q_workers && wver == s->q_wver && loads == s->q_loads &&
	            lver == s->q_lver && ids == s->q_ids && alt == s->q_alt;
	/* hashed look-ups of ids whose equality is Python code may not
	 * find the same entry twice: not quick the next time */
	int plain = 1;
	s->quick = 0;
	/* The capabilities: the keys, then each record, as snapshot() saw them. */
	if (caps == Py_None) {
		int eq = (s->keys == Py_None) == !is_dict;
		Py_ssize_t pos = 0;
		PyObject *k = NULL, *rec;
		for (Py_ssize_t i = 0; eq && i < n; i++) {
			if (quick) {
				if (i + PREFETCH < n)
					prefetch_caps(s, i + PREFETCH);
				rec = s->w_rec[i];
			} else if (is_dict) {
				if (!PyDict_Next(workers, &pos, &k, &rec))
					break;
				PyObject *was = PyList_GET_ITEM(s->keys, i);
				/* only keys whose compare runs no Python code (one
				 * could empty the dict under the borrowed record):
				 * others are "changed", and the package sends them */
				if (k != was && (!is_atom(k) || !is_atom(was) ||
				                 (eq = PyObject_RichCompareBool(k, was, Py_EQ)) <= 0)) {
					PyErr_Clear();
					eq = 0;
					break;
				}
				s->w_rec[i] = rec;
			} else {
				/* a finalizer run by an allocation may still shrink it */
				if (i >= PyList_GET_SIZE(workers)) {
					eq = 0;
					break;
				}
				rec = PyList_GET_ITEM(workers, i);
			}
			/* borrowed first: the caller's dict holds the record */
			PyObject *d = dict_of(rec);
			j = s->w_entry[i];
			if (d && unchanged(s, i, d))
				continue;
			int rec_is_dict;
			d = fields_of(rec, &rec_is_dict);
			eq = d && same(s, &j, d) && j == s->w_entry[i + 1];
			Py_XDECREF(d);
		}
		if (PyErr_Occurred())
			goto out;
		if (!eq) {
			r = 2;
			goto out;
		}
	}
	if (grow(s, (size_t)n)) {
		PyErr_NoMemory();
		goto out;
	}
	/* The loads are usually keyed by the same objects, in the fleet's
	 * order: then the next entry is the one, without hashing.  The first
	 * entry out of order ends that. */
	Py_ssize_t lpos = 0;
	int in_order = loads != Py_None;
	int dirty = !s->vals_valid, kept = 1;
	s->vals_valid = 0;
	for (Py_ssize_t i = 0; !r && i < n; i++) {
		PyObject *id = PyList_GET_ITEM(ids, i), *load = NULL, *lk, *lv;
		Py_ssize_t at = lpos;
		if (quick) {
			if (i + PREFETCH < n)
				prefetch_load(s, i + PREFETCH);
			load = s->w_load[i];
		} else if (loads != Py_None) {
			if (in_order && PyDict_Next(loads, &at, &lk, &lv) && lk == id) {
				load = lv;
				lpos = at;
			} else {
				in_order = 0;
				plain &= PyUnicode_CheckExact(id) || PyLong_CheckExact(id);
				load = PyDict_GetItemWithError(loads, id);
			}
			if (!load && !PyErr_Occurred() && alt != Py_None) {
				PyObject *id2 = PyList_GET_ITEM(alt, i);
				plain &= PyUnicode_CheckExact(id2) || PyLong_CheckExact(id2);
				load = PyDict_GetItemWithError(loads, id2);
			}
			if (!load && PyErr_Occurred()) {
				PyErr_Clear();
				r = 1;
				break;
			}
		}
		if (!quick)
			s->w_load[i] = load;
		if (!load || load == Py_None) {
			if (s->given[i])
				dirty = 1;
			s->given[i] = 0;
			continue;
		}
		r = memo_values(&s->memo[i], load, id, &s->given[i], s->vals, &nv, &dirty,
		                &kept);
		/* a watched value's __len__ is the only Python code on the way;
		 * had it moved the loads, w_load would not hold them */
		if (quick && !r && loads != Py_None && DICT_VERSION(loads) != lver)
			r = 1;
	}
	if (r)
		goto out;
	/* Nothing above runs Python code that could move them, but check. */
	if (caps == Py_None && is_dict && plain && DICT_VERSION(workers) == wver &&
	    (loads == Py_None || DICT_VERSION(loads) == lver)) {
		s->quick = 1;
		s->q_workers = workers;
		s->q_wver = wver;
		s->q_loads = loads;
		s->q_lver = lver;
		s->q_ids = ids;
		s->q_alt = alt;
	}
	r = test_json(&tb, test);
	if (r)
		goto out;
	{
		const char *caps_text = caps == Py_None ? NULL : PyBytes_AS_STRING(caps);
		lbspy *hp = (lbspy *)(uintptr_t)h;
		Py_BEGIN_ALLOW_THREADS
		/* no more than LBSPY_MAX_PICKED are picked: as many is all */
		unsigned asked = maxn & ~(LBSPY_HOLD_WARNED | LBSPY_CHECK);
		unsigned flags = (asked >= LBSPY_MAX_PICKED ? 0 : asked) |
		                 (maxn & (LBSPY_HOLD_WARNED | LBSPY_CHECK));
		/* given and vals not written: the library's loads stand if it
		 * took these buffers last */
		if (!dirty)
			flags |= LBSPY_SAME_LOADS;
		code = select_fleet(hp, tb.p, caps_text, s->given, s->vals, nv, NULL,
		                    flags, picked, &n_picked, reason, sizeof reason, err,
		                    sizeof err);
		Py_END_ALLOW_THREADS
	}
	/* The buffers hold the library's loads only once it took them: a
	 * call refused first (a bad test, here or in the library) leaves its
	 * loads as they were, and the next call, whose memos already hold
	 * these, must send them all, or the library chose on the old ones. */
	s->vals_valid = (code == LBSPY_OK || code == LBSPY_EWARNED) && kept;
	PyObject *list = PyList_New(code == LBSPY_OK ? n_picked : 0);
	if (!list)
		goto out;
	for (unsigned i = 0; code == LBSPY_OK && i < n_picked; i++) {
		PyObject *x = PyLong_FromUnsignedLong(picked[i]);
		if (!x) {
			Py_DECREF(list);
			goto out;
		}
		PyList_SET_ITEM(list, i, x);
	}
	res = Py_BuildValue("(iNs)", code, list, code == LBSPY_OK ? reason : err);
out:
	free(tb.p);
	if (res || PyErr_Occurred())
		return res;
	if (r < 0 && !PyErr_Occurred())
		return PyErr_NoMemory();
	if (r == 2)
		Py_RETURN_FALSE;
	Py_RETURN_NONE;
}

/* ----- keys ------------------------------------------------------------------
 * json.dumps writes a key 1 or None as "1" or "null": the converter would
 * read accelerator "1" where the caller wrote 1.  str_keys is the
 * package's check (_bad_key) in C, for what it sends on every call. */

static PyObject *enum_type;

/* 1: every key in v, as the package sends it, is a str; 0: one is not,
 * or v holds what only the package's walk reads (an enum's value, a
 * dict's subclass, a slots record, ...); -1 error. */
static int keys_ok(PyObject *v, int depth)
{
	int r;

	if (depth > 64)
		return 0;
	if (v == Py_None || PyUnicode_Check(v) || PyLong_Check(v) || PyFloat_Check(v) ||
	    PyBytes_Check(v) || PyDateTime_Check(v) || PyDate_Check(v) || PyTime_Check(v) ||
	    PyDelta_Check(v))
		return 1;
	if (PyDict_CheckExact(v)) {
		Py_ssize_t pos = 0;
		PyObject *k, *x;
		while (PyDict_Next(v, &pos, &k, &x))
			if (!PyUnicode_Check(k) || (r = keys_ok(x, depth + 1)) <= 0)
				return PyUnicode_Check(k) ? r : 0;
		return 1;
	}
	if (PyList_CheckExact(v) || PyTuple_CheckExact(v)) {
		/* no Python code runs here: the list cannot change under it */
		for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(v); i++)
			if ((r = keys_ok(PySequence_Fast_ITEMS(v)[i], depth + 1)) <= 0)
				return r;
		return 1;
	}
	if (PyAnySet_CheckExact(v)) {
		PyObject *it = PyObject_GetIter(v), *x;
		r = it ? 1 : -1;
		while (r > 0 && (x = PyIter_Next(it))) {
			r = keys_ok(x, depth + 1);
			Py_DECREF(x);
		}
		Py_XDECREF(it);
		return PyErr_Occurred() ? -1 : r;
	}
	/* subclasses of the containers too: the package walks their items,
	 * where the record branch below would read only their attributes */
	if (PyDict_Check(v) || PyList_Check(v) || PyTuple_Check(v) || PyAnySet_Check(v) ||
	    (enum_type && PyObject_TypeCheck(v, (PyTypeObject *)enum_type)))
		return 0;
	/* a record: its public attributes, as _record reads them */
	int is_dict;
	PyObject *d = fields_of(v, &is_dict), *k, *x;
	Py_ssize_t pos = 0;
	if (!d)
		return PyErr_Occurred() ? -1 : 0;
	r = 1;
	while (r > 0 && PyDict_Next(d, &pos, &k, &x)) {
		if (!PyUnicode_Check(k))
			r = 0;
		else if (!PyUnicode_GET_LENGTH(k) || PyUnicode_READ_CHAR(k, 0) != '_')
			r = keys_ok(x, depth + 1);
	}
	Py_DECREF(d);
	return r;
}

static PyObject *str_keys(PyObject *self, PyObject *v)
{
	(void)self;
	int r = keys_ok(v, 0);
	if (r < 0)
		return NULL;
	return PyBool_FromLong(r);
}

static PyMethodDef methods[] = {
	{"str_keys", str_keys, METH_O,
	 "str_keys(obj) -> True when every key in obj is a str; False: the package walks it"},
	{"configure", configure, METH_VARARGS, "configure(address, slots, others, json_only)"},
	{"snapshot", snapshot, METH_O, "snapshot(available_workers) -> capsule or None"},
	{"select", select_, METH_VARARGS,
	 "select(h, test, workers, loads, snapshot, ids, alt_ids, caps, max)"},
	{NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
	PyModuleDef_HEAD_INIT, "_lbsched_fast",
	"The native part of lbsched's select_worker (docs/PYTHON.md).", -1, methods,
	NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__lbsched_fast(void)
{
	PyDateTime_IMPORT;
	if (!PyDateTimeAPI)
		return NULL;
	load_name = PyUnicode_InternFromString("load");
	if (!load_name)
		return NULL;
	PyObject *enum_mod = PyImport_ImportModule("enum");
	if (!enum_mod)
		return NULL;
	enum_type = PyObject_GetAttrString(enum_mod, "Enum");
	Py_DECREF(enum_mod);
	if (!enum_type)
		return NULL;
	return PyModule_Create(&module);
}
