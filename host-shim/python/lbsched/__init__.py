"""lbsched from Python: the lbsched schedulers as drop-in scheduling
algorithms for the original framework's Python load balancer.

    import lbsched
    sched = lbsched.PluginScheduler("hardware-aware")
    worker_id = sched.select_worker(test_requirements, available_workers,
                                    worker_loads, performance_data)

select_worker has the original SchedulingAlgorithm interface: the original
dataclass objects (TestRequirements, WorkerCapabilities, WorkerLoad), read
by their field names, or plain dicts with the same keys.  The records are
converted to the ABI's structs by the shim's own converters in
liblbsched-py.so (host-shim/python/lbsched_py.c); this module holds no copy
of the mapping.  Capabilities, which rarely change, are sent (as JSON) only
when they differ from those sent last; loads, which change on every call,
are sent as numbers (docs/PYTHON.md, "Cost per call").  The extension
_lbsched_fast (lbsched_fast.c) does that reading in C for the common case;
without it this module does it, through ctypes, with the same answers.

Standard library and the package's own native parts only.  One scheduler
may be used from several threads: calls on it are serialised
(docs/PYTHON.md).
"""

import collections.abc
import copy
import ctypes
import datetime
import enum
import functools
import json
import math
import operator
import os
import re
import sys
import threading
import time
import warnings
import weakref
from array import array
from itertools import chain
from operator import itemgetter
from threading import get_ident as _get_ident

__all__ = ["PluginScheduler", "create_scheduler", "SCHEDULER_TYPES", "MultiDeviceOrchestrator",
           "RecordWarning"]

# Codes from lbsched_py.h.
_OK, _EINPUT, _EREFUSED, _EOPEN, _EUNSUPPORTED, _ENOMEM, _EFAILED, _EWARNED = range(8)
_HOLD_WARNED = 1 << 30  # LBSPY_HOLD_WARNED
_CHECK = 1 << 29  # LBSPY_CHECK


class RecordWarning(UserWarning):
    """A record lbsched reads with a fault it can go past: an unknown field
    (ignored), an unknown backend name, a worker_id that differs from its
    key.  Issued through the warnings module, so it can be filtered,
    caught, or made an error (-W error): a call whose records warn then
    raises it, and the scheduler has chosen nothing."""
_ERRLEN = 2048  # a store path of 1,024 bytes and its problem
_REASONLEN = 512
_MAX_PICKED = 1024  # LBSPY_MAX_PICKED
_GIVEN = 1 << 31  # LBSPY_LOAD_GIVEN: a load, even one without any slot
_MAX_SECONDS = 1e7  # MAX_SECONDS of host-shim/lib/convert_field.h: a duration's limit
_BENCH_MAX = 10 ** 8  # bench_c's iterations: minutes of selects, within a C unsigned
_BENCH_FIRST = 1000  # bench_c's first chunk, which measures how long the next may be
_BENCH_SLICE_NS = 2.5e8  # CPU ns of selects a bench_c chunk is sized to
_BENCH_GAP = 0.001  # seconds bench_c waits at a time for a waiting call to go first


def _find_library():
    env = os.environ.get("LBSCHED_PY_LIB")
    if env:
        return env
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "liblbsched-py.so")
    if os.path.exists(here):
        return here
    return "liblbsched-py.so"


def _load():
    path = _find_library()
    try:
        lib = ctypes.CDLL(path)
    except OSError as e:
        raise ImportError("lbsched: cannot load %s: %s (set LBSCHED_PY_LIB "
                          "to the built liblbsched-py.so)" % (path, e)) from e
    vp, cp, sz = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t
    outp = ctypes.POINTER(ctypes.c_void_p)
    lib.lbspy_open.argtypes = [cp, cp, cp, outp, cp, sz]
    lib.lbspy_close.argtypes = [vp]
    lib.lbspy_close.restype = None
    lib.lbspy_select.argtypes = [vp, cp, cp, ctypes.c_uint, outp, cp, sz]
    lib.lbspy_report.argtypes = [vp, cp, ctypes.c_int, cp, sz]
    lib.lbspy_explain.argtypes = [vp, cp, cp, outp, cp, sz]
    lib.lbspy_stats.argtypes = [vp, outp, cp, sz]
    lib.lbspy_learns.argtypes = [vp]
    lib.lbspy_bench.argtypes = [vp, cp, cp, ctypes.c_uint,
                                ctypes.POINTER(ctypes.c_double), cp, sz]
    lib.lbspy_select_fleet.argtypes = [
        vp, cp, cp, vp, vp, sz, cp, ctypes.c_uint,
        ctypes.POINTER(ctypes.c_uint32), ctypes.POINTER(ctypes.c_uint),
        cp, sz, cp, sz]
    lib.lbspy_load_layout.argtypes = [outp]
    lib.lbspy_warnings.argtypes = [vp, outp]
    lib.lbspy_free.argtypes = [vp]
    lib.lbspy_free.restype = None
    for f in ("lbspy_open", "lbspy_select", "lbspy_report", "lbspy_explain",
              "lbspy_stats", "lbspy_bench", "lbspy_select_fleet",
              "lbspy_load_layout", "lbspy_warnings"):
        getattr(lib, f).restype = ctypes.c_int
    return lib


_lib = _load()


def _load_fast():
    """_lbsched_fast, the extension that reads records for select_worker
    through the C API (lbsched_fast.c), from beside the library: (module,
    None), or (None, why not).  Without it every call takes the ctypes
    path, with the same answers and messages, slower (docs/PYTHON.md)."""
    if os.environ.get("LBSCHED_NO_FAST"):
        return None, "LBSCHED_NO_FAST is set"
    import importlib.machinery
    import importlib.util
    path = _find_library()
    where = os.path.dirname(os.path.abspath(path)) if os.sep in path else \
        os.path.dirname(os.path.abspath(__file__))
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        f = os.path.join(where, "_lbsched_fast" + suffix)
        if os.path.exists(f):
            break
    else:
        return None, "no _lbsched_fast%s in %s" % (
            importlib.machinery.EXTENSION_SUFFIXES[0], where)
    try:
        spec = importlib.util.spec_from_file_location("lbsched._lbsched_fast", f)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    except ImportError as e:
        return None, "cannot load %s: %s" % (f, e)
    return mod, None


def _raise(code, err):
    msg = err.value.decode("utf-8", "replace")
    if code == _EINPUT:
        raise ValueError(msg)
    if code == _EREFUSED:
        raise ImportError(msg)
    if code == _EOPEN:
        raise OSError(msg)
    if code == _EUNSUPPORTED:
        raise NotImplementedError(msg)
    if code == _ENOMEM:
        raise MemoryError(msg)
    raise RuntimeError(msg)


def _take(ptr):
    try:
        return ctypes.string_at(ptr.value).decode("utf-8")
    finally:
        _lib.lbspy_free(ptr)


# ----- the original's records to JSON -----------------------------------

def _what(x):
    name = type(x).__name__
    return "None" if x is None else "%s %s" % (
        "an" if name[:1].lower() in "aeiou" else "a", name)


def _record(x, where="record", kind="record"):
    """One record's fields, shallow: a dataclass's fields plus any ad-hoc
    attributes (the original's example bolts custom_properties on), or a
    plain object's attributes; a dict as it is.  `where` and `kind` name
    it in the message for anything else ("test_requirements: expected a
    TestRequirements or a dict, got None")."""
    if isinstance(x, dict):
        return x
    try:
        d = vars(x)  # a dataclass's fields and any ad-hoc attributes
    except TypeError:
        fields = getattr(x, "__dataclass_fields__", None)  # slots=True
        if not fields:
            raise ValueError("%s: expected a %s or a dict, got %s"
                             % (where, kind, _what(x))) from None
        d = {}
        for k in fields:  # hasattr() would raise what _attr notes
            try:
                d[k] = _attr(x, k, where)
            except AttributeError:
                pass
    # a property's value is no instance attribute: a load whose
    # utilisations were properties read as an idle worker's
    props = [k for k in _properties(type(x)) if k[:1] != "_"]
    if props:
        d = dict(d, **{k: _attr(x, k, where) for k in props})
    # a key that is no str (vars(x)[1] = 2) is no private attribute: kept,
    # for the JSON's check to name ("keys must be str, got int 1")
    return {k: v for k, v in d.items() if not isinstance(k, str) or k[:1] != "_"}


def _attr(x, k, where):
    """x.k, computed by the caller's own code (a property): what it raises
    stays the caller's, of its own type, with a note naming the field,
    which its message alone did not ("ValueError: caps boom")."""
    try:
        return getattr(x, k)
    except AttributeError:
        raise  # a slot left unset: no field, as hasattr() said
    except Exception as e:
        if hasattr(e, "add_note"):  # Python 3.11
            e.add_note("lbsched: raised reading %s: field '%s'" % (where, k))
        raise


@functools.lru_cache(maxsize=64)
def _properties(cls):
    """The names of the properties cls and its bases declare."""
    return {k for c in cls.__mro__ for k, v in vars(c).items() if isinstance(v, property)}


def _default(x):
    """json.dumps's hook for what JSON lacks: nested records, datetimes as
    ISO text, sets as lists, enums by value."""
    if isinstance(x, enum.Enum):
        return x.value
    if isinstance(x, (set, frozenset)):
        return sorted(x, key=str)
    if isinstance(x, (datetime.datetime, datetime.date, datetime.time)):
        return x.isoformat()
    if isinstance(x, datetime.timedelta):
        return x.total_seconds()
    return _record(x)


def _surrogate(s):
    """The first surrogate code point in s, or None: UTF-8 cannot carry
    one, and json.dumps would send it as an escape the library refuses
    by its byte in a document the caller never saw."""
    try:
        s.encode("utf-8")
        return None
    except UnicodeEncodeError as e:
        return s[e.start]


def _not_c(s):
    return "\x00" in s or _surrogate(s) is not None


def _unsendable(obj, path, depth=0, nul=False, big=False):
    """The first value in obj that JSON cannot carry: (path, value), or
    None.  NaN and infinities are the usual ones.  nul: the first string,
    or dict key, the library cannot take as a C string instead: one
    holding a NUL (JSON carries it) or a surrogate code point.  big: the
    first int no double holds (10**400), which JSON writes digit by digit
    and the library reads as a double, an infinity."""
    if isinstance(obj, float):
        return None if nul or math.isfinite(obj) else (path, obj)
    if isinstance(obj, str):
        return (path, obj) if nul and _not_c(obj) else None
    if big and isinstance(obj, int) and not isinstance(obj, bool):
        try:
            float(obj)
        except OverflowError:
            return path, obj
        return None
    if obj is None or isinstance(obj, (int, bool)) or depth > 64:
        return None
    if isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, (list, tuple)):
        items = ((None, v) for v in obj)
    elif isinstance(obj, (set, frozenset)):
        # in _default's order: the index is the sent list's, not the set's
        # (which moves with each run's string hashes)
        items = ((None, v) for v in sorted(obj, key=str))
    else:
        try:
            return _unsendable(_default(obj), path, depth + 1, nul, big)
        except Exception:
            return None if nul else (path, obj)
    for i, (k, v) in enumerate(items):
        sub = path + ["[%d]" % i if k is None else str(k)]
        if nul and isinstance(k, str) and _not_c(k):
            return sub, k
        bad = _unsendable(v, sub, depth + 1, nul, big)
        if bad:
            return bad
    return None


_KEY_ATOMS = frozenset((str, int, float, bool, bytes, type(None)))


class _Key(object):
    """_bad_key's find: a key that is not a str."""

    __slots__ = ("key",)

    def __init__(self, key):
        self.key = key


def _bad_key(obj, path, depth=0):
    """The first key in obj that is not a str, as (the path of its dict,
    _Key), or None.  json.dumps writes 1 and None as "1" and "null": the
    converter would read accelerator "1" where the caller wrote 1, and
    "null" where it wrote None."""
    t = type(obj)
    if t in _KEY_ATOMS or depth > 64:
        return None
    if isinstance(obj, dict):
        for k, v in obj.items():
            if not isinstance(k, str):
                return path, _Key(k)
            if type(v) not in _KEY_ATOMS:
                bad = _bad_key(v, path + [k], depth + 1)
                if bad:
                    return bad
        return None
    if isinstance(obj, (list, tuple, set, frozenset)):
        items = obj if isinstance(obj, (list, tuple)) else sorted(obj, key=str)
        for i, v in enumerate(items):
            if type(v) not in _KEY_ATOMS:
                bad = _bad_key(v, path + ["[%d]" % i], depth + 1)
                if bad:
                    return bad
        return None
    if isinstance(obj, (str, int, float, bytes) + _TIME):
        return None
    try:
        d = _default(obj)
    except Exception:  # json.dumps refused it already
        return None
    return _bad_key(d, path, depth + 1)


_DIGITS_309 = re.compile(rb"[0-9]{309}")


def _int_digits(v):
    """"an int of 401 digits", without a message of all of them."""
    try:
        return "an int of %d digits" % len(str(abs(v)))
    except ValueError:  # more than sys.get_int_max_str_digits()
        return "an int of more than %d digits" % sys.get_int_max_str_digits()


def _shown(v):
    """repr(v) for a message, but an int too long to read as its digits."""
    return _int_digits(v) if type(v) is int and abs(v) > 10 ** 18 else repr(v)


def _field(parts):
    return ".".join(parts).replace(".[", "[")


def _dumps(obj, where="lbsched", each=None, big=False, keys=True):
    """obj as JSON.  A value JSON cannot carry is named: "<where>: field
    '<path>': must be a finite number, got nan"; with `each` (for a list
    of records), where = each(i) for the i-th record, or (where, the
    fields of the path before the record's own).  big: an int no double
    holds is named too (a payload the library keeps as a number); ints
    are written as they are, digit by digit, never through a float.
    keys: a key that is not a str is named too (records; a payload
    the caller gets back is left to JSON's rules)."""
    try:
        text = json.dumps(obj, default=_default, allow_nan=False,
                          separators=(",", ":")).encode("utf-8")
        # A NUL or a surrogate the converter would name by its byte in a
        # document the caller never saw.  The text's "\u0000" or "\ud800"
        # may be a backslash the caller wrote, or an astral character's
        # escape; the walk finds only a real one.
        bad = (b"\\u0000" in text or re.search(rb"\\ud[89a-f]", text)) and \
            _unsendable(obj, [], nul=True)
        if not bad and big and _DIGITS_309.search(text):
            # the largest double has 309 digits: only a run that long
            # may be one; the walk finds a real int, not a string's digits
            bad = _unsendable(obj, [], big=True)
        if not bad and keys and not (_str_keys is not None and _str_keys(obj)):
            # the extension's walk in C when it has one; Python's only
            # for what it cannot tell
            bad = _bad_key(obj, [])
        if not bad:
            return text
        e = None
    except (TypeError, ValueError, RecursionError) as exc:
        # an int beyond Python's digits for str() (4,300) is json's
        # ValueError: named as one beyond a double
        bad, e = _unsendable(obj, []) or _unsendable(obj, [], big=True), exc
        if not bad and keys and isinstance(exc, TypeError):
            # a key JSON cannot write (bytes): named as one that is no str
            bad = _bad_key(obj, [])
        if not bad and _is_too_deep(e):
            if each is not None and isinstance(obj, list):
                i = next(i for i, r in enumerate(obj) if _too_deep(r, whole=True))
                where, obj = each(i), obj[i]
                if isinstance(where, tuple):
                    where = "%s: field %r" % (where[0], _field(where[1]))
            raise ValueError("%s: %snested deeper than Python can write as JSON"
                             % (where, _too_deep(obj))) from None
        if not bad:
            raise ValueError("%s: %s" % (where, e)) from e
    path, value = bad
    if each is not None and path:
        where, path = each(int(path[0][1:-1])), path[1:]
        if isinstance(where, tuple):  # (where, the fields leading to it)
            where, path = where[0], where[1] + path
    if isinstance(value, _Key):
        k = value.key
        problem = "keys must be str, got %s" % (
            "None" if k is None else "%s %r" % (type(k).__name__, k))
    elif isinstance(value, float):
        problem = "must be a finite number, got %r" % value
    elif isinstance(value, int) and not isinstance(value, bool):
        problem = "must be a number a double can hold, got %s" % _int_digits(value)
    elif e is None:
        if "\x00" in value:
            problem = "must not hold a NUL character (lbsched takes it as a C string)"
        else:
            problem = ("must not hold a surrogate code point (U+%04X), which UTF-8 cannot "
                       "carry" % ord(_surrogate(value)))
        if path and _not_c(path[-1]):  # the walk tries a key before its value
            path, problem = path[:-1], "the key %r " % value + problem
    else:
        problem = "cannot be sent as JSON: %s" % _what(value)
    if not path:
        raise ValueError("%s: %s" % (where, problem)) from None
    raise ValueError("%s: field '%s': %s" % (where, _field(path), problem)) from None


# ----- the fleet: capabilities when they change, loads on every call ------

def _load_layout():
    out = ctypes.c_void_p()
    if _lib.lbspy_load_layout(ctypes.byref(out)) != _OK:
        raise ImportError("lbsched: %s gave no load layout" % _find_library())
    return json.loads(_take(out))


_LAYOUT = _load_layout()
# The longest worker id (bytes) a scheduler that learns takes an outcome
# for: LBS_LEARN_ID_MAX, the store's key limit.
_LEARN_ID_MAX = _LAYOUT["learn_id_max"]
# What the converter takes of a scalar or an array's item in the fields the
# numeric form does not carry (last_updated, active_test_ids): a number
# within +-_LOOSE_MAX, a string of at most _STRING_MAX UTF-8 bytes.
_LOOSE_MAX = _LAYOUT["loose_max"]
_STRING_MAX = _LAYOUT["string_max"]

# Python types whose JSON the converter reads as each kind of load field.
# A load whose values all have these goes as numbers; any other load goes
# as JSON, so that the converter, not this module, says what is wrong.
_TIME = (datetime.datetime, datetime.date, datetime.time, datetime.timedelta)
_KIND_TYPES = {
    "number": frozenset((int, float)),
    "integer": frozenset((int, float)),
    "bool": frozenset((bool,)),
    "string": frozenset((str,)),
    "scalar": frozenset((str, int, float) + _TIME),
    "array": frozenset((list, tuple, set, frozenset)),
    "object": frozenset((dict,)),
}
_NONE = frozenset((type(None),))
_ITERABLE = _KIND_TYPES["array"]
# Fields the numeric form cannot carry but the converter applies: a load
# that gives one (not empty) goes as JSON.
_JSON_ONLY = frozenset(("reserved_accelerators",))


class _Keys(object):
    """How to read loads that have one set of field names: the getter of
    their values (the slots first, in slot order), the mask of the slots
    they give, and the types each value may have to go as a number."""

    __slots__ = ("size", "get", "mask", "nslots", "slots", "types", "id_at",
                 "json_at", "finite_at", "items_at")

    def __init__(self, names, nslots, mask, types, kinds):
        self.size = len(names)
        if not names:
            self.get = lambda d: ()
        elif len(names) == 1:
            name = names[0]
            self.get = lambda d: (d[name],)
        else:
            self.get = itemgetter(*names)
        self.nslots = nslots
        self.slots = itemgetter(slice(0, nslots))
        self.mask = mask
        self.types = types
        self.id_at = names.index("worker_id") if "worker_id" in names else None
        self.json_at = [i for i, n in enumerate(names) if n in _JSON_ONLY]
        # The fields the numeric form does not carry, checked as the
        # converter would: their strings and numbers, and an array's
        # items, as _loose takes them
        self.finite_at = [i for i in range(nslots, len(names))
                          if kinds[i] in ("number", "integer", "scalar")]
        self.items_at = [i for i in range(nslots, len(names)) if kinds[i] == "array"]


_keysets = {}


def _keys_of(d):
    """The _Keys of a load's field names; None when it has a field that is
    not a load field (the converter warns about those)."""
    names = frozenset(d)
    k = _keysets.get(names, False)
    if k is not False:
        return k
    order, types, kinds, mask = [], [], [], _GIVEN
    for i, (name, kind, nullable) in enumerate(_LAYOUT["slots"]):
        if name in names:
            order.append(name)
            types.append(_KIND_TYPES[kind])  # null goes as JSON
            kinds.append(kind)
            mask |= 1 << i
    nslots = len(order)
    for name, kind, nullable in _LAYOUT["others"]:
        if name in names:
            order.append(name)
            types.append(_KIND_TYPES[kind] | (_NONE if nullable else frozenset()))
            kinds.append(kind)
    k = _Keys(order, nslots, mask, types, kinds) if len(order) == len(names) else None
    if len(_keysets) < 64:
        _keysets[names] = k
    return k


def _slots_of(k, t):
    return k.slots(t)


_contains = frozenset.__contains__
_LOOSE_TYPES = (str, int, float)


def _loose(x):
    """A string or a number the converter takes as an ignored scalar or an
    array's item (lbspy_load_layout's loose_max, string_max).  Anything
    else goes as JSON, where the converter names it, as the CLI's would."""
    t = type(x)
    if t is str:
        if len(x) <= _STRING_MAX // 4 and x.isascii():
            return True
        try:
            return len(x.encode("utf-8")) <= _STRING_MAX
        except UnicodeEncodeError:  # a lone surrogate
            return False
    if t is int or (t is float and math.isfinite(x)):
        return -_LOOSE_MAX <= x <= _LOOSE_MAX
    return False


def _typed(k, rows, rids):
    """Whether loads read with k hold values of the types the numeric form
    carries exactly, and their worker_id (if any) is the worker's; and
    nothing in the fields it does not carry that JSON would refuse."""
    for i in k.json_at:
        if any(t[i] for t in rows):
            return False
    for i in k.finite_at:
        for t in rows:
            v = t[i]
            if type(v) in _LOOSE_TYPES and not _loose(v):
                return False
    for i in k.items_at:
        for t in rows:
            v = t[i]
            if type(v) in _ITERABLE and not all(map(_loose, v)):
                return False
    if len(rows) < 16:  # a column at a time costs more for a few
        for t in rows:
            if not all(map(_contains, k.types, map(type, t))):
                return False
        cols = None
    else:
        cols = list(zip(*rows))
        for col, allowed in zip(cols, k.types):
            if not allowed.issuperset(map(type, col)):
                return False
    if k.id_at is None:
        return True
    col = cols[k.id_at] if cols else tuple(t[k.id_at] for t in rows)
    return col == tuple(rids) or all(
        x is None or x == w for x, w in zip(col, rids))


def _numeric_loads(loads, ids):
    """The loads in the library's numeric form, (given, values): a mask per
    worker, and the given fields' values worker after worker.  None when a
    load cannot go that way exactly (an unknown field, a value of another
    type, a null slot, a worker_id that is not the worker's): then they go
    as JSON."""
    given = array("I")
    rows, ks = [], []  # of the loads there are, in worker order
    groups = {}  # keys -> (rows, worker ids) of the loads read with them
    k = grows = gids = None
    for load, wid in zip(loads, ids):
        if load is None:
            given.append(0)
            continue
        d = load if isinstance(load, dict) else getattr(load, "__dict__", None)
        if d is None or (not isinstance(load, dict) and _properties(type(load))):
            return None  # a property's value is not in __dict__: as JSON
        try:
            if k is None or len(d) != k.size:
                raise KeyError
            t = k.get(d)  # as many fields, all of k's: the same names
        except KeyError:
            k = _keys_of(d)
            if k is None:
                return None
            t = k.get(d)
            grows, gids = groups.setdefault(k, ([], []))
        rows.append(t)
        ks.append(k)
        grows.append(t)
        gids.append(wid)
        given.append(k.mask)
    for gk, (grows, gids) in groups.items():
        if not _typed(gk, grows, gids):
            return None
    if len(groups) > 1:
        vals = list(chain.from_iterable(map(_slots_of, ks, rows)))
    elif k is not None and k.nslots < k.size:
        vals = list(chain.from_iterable(map(k.slots, rows)))
    else:
        vals = list(chain.from_iterable(rows))
    try:
        return given, array("d", vals)
    except OverflowError:  # an int no double holds
        return None


def _address(a):
    return a.buffer_info()[0] if a else None


def _views(recs, keys=None):
    """Each worker's capabilities as a dict to compare with those sent last
    (its own fields, live, or a copy without "load"), and the "load"s that
    records carry themselves, by position."""
    views, own = [], None
    for i, r in enumerate(recs):
        d = r if isinstance(r, dict) else getattr(r, "__dict__", None)
        if d is None or (not isinstance(r, dict) and _properties(type(r))):
            # a copy with the properties' values: __dict__ holds none
            d = _record(r, _at(keys, i), "WorkerCapabilities")
        if "load" in d:
            if own is None:
                own = {}
            own[i] = d["load"]
            d = {k: v for k, v in d.items() if k != "load"}
        views.append(d)
    return views, own


_ATOMS = frozenset((str, int, float, bool, bytes, type(None)) + _TIME)


def _copy(v):
    """A copy that compares equal until the original is changed, in place
    or not: containers copied, immutable values shared."""
    t = type(v)
    if t in _ATOMS:
        return v
    if t is dict:
        return {k: _copy(x) for k, x in v.items()}
    if t is list:
        return [_copy(x) for x in v]
    if t is tuple:
        return tuple([_copy(x) for x in v])
    if t is set:
        return set(v)
    try:
        return copy.deepcopy(v)
    except Exception:  # compared by identity, then
        return v


def _equal(a, b):
    """a == b, and False for values that will not compare."""
    try:
        return bool(a == b)
    except Exception:
        return False


def _snapshot(view):
    # Private attributes are never sent: kept as they are, so only their
    # rebinding counts as a change.
    return {k: v if type(k) is str and k[:1] == "_" else _copy(v)
            for k, v in view.items()}


def _split(available_workers):
    """The caller's keys (None for a list) and records, in its order."""
    if isinstance(available_workers, dict):
        return list(available_workers), list(available_workers.values())
    return None, list(available_workers)


def _too_deep(obj, whole=False):
    """"field 'x': " for the first field of the record obj (a dict or an
    object) too deep for json.dumps, or in a cycle, else "" (whole: whether
    obj itself is): Python's own words ("maximum recursion depth
    exceeded while encoding a JSON object") named no field."""
    if whole:
        try:
            json.dumps(obj, default=_default)
        except (RecursionError, ValueError, TypeError) as e:
            return _is_too_deep(e)
        return False
    fields = obj if isinstance(obj, dict) else getattr(obj, "__dict__", {})
    for k, v in fields.items():
        if _too_deep(v, whole=True):
            return "field %r: " % (k,)
    return ""


def _is_too_deep(e):
    """Whether json.dumps raised e for a value too deep, or in a cycle (as
    deep as recursion goes)."""
    return isinstance(e, RecursionError) or (
        isinstance(e, ValueError) and "Circular reference" in str(e))


def _at(keys, i):
    """How messages name the i-th worker: by the caller's key, or by its
    place in a list."""
    return "available_workers[%r]" % (keys[i] if keys is not None else i,)


_MAX_STRING = 4096  # CONV_MAX_STRING, in bytes


def _c_string(s, where, what="the key", kind="a worker id"):
    """A NUL or more than the converter's bytes in a string the library
    takes as a C string, named where the caller gave it: the converter
    could name only its byte in a document the caller never saw, or a
    field the caller did not write."""
    if "\x00" in s:
        raise ValueError("%s: %s must not hold a NUL character (%s is a C string)"
                         % (where, what, kind))
    if _surrogate(s) is not None:
        raise ValueError("%s: %s must not hold a surrogate code point (U+%04X), which "
                         "UTF-8 cannot carry" % (where, what, ord(_surrogate(s))))
    if len(s) > _MAX_STRING // 4:
        n = len(s.encode("utf-8", "surrogatepass"))
        if n > _MAX_STRING:
            raise ValueError("%s: %s is %d bytes long, more than %d (%s is a C string)"
                             % (where, what, n, _MAX_STRING, kind))
    return s


def _cap(keys, i, r):
    """One worker's capabilities as conv_fleet takes them, without any
    "load", the worker_id its record gives (or None), and the warnings
    for the caller.  A worker of a dict is its key: the record's
    worker_id, when it differs, is replaced by it (with a warning naming
    the record), so that the caller gets back the key it used.  The
    warnings are returned, not issued: they are issued (_warn) once no
    lock is held, since a showwarning hook may call the scheduler."""
    w = dict(_record(r, _at(keys, i), "WorkerCapabilities"))
    w.pop("load", None)
    rid, said = w.get("worker_id"), []
    if keys is not None:
        if not isinstance(keys[i], str):
            # str() made b'a' the worker "b'a'" (answered as b'a'), and a
            # None key answered None, as if no worker were eligible
            raise ValueError("available_workers: a worker's key must be its id (str), got %r"
                             % (keys[i],))
        kid = _c_string(str(keys[i]), _at(keys, i))
        if isinstance(rid, str) and rid != kid:
            said.append("%s: worker_id %r differs from its key; lbsched uses the "
                        "key %r (its load is worker_loads[%r], else worker_loads[%r])"
                        % (_at(keys, i), rid, kid, keys[i], rid))
            w["worker_id"] = kid
        elif rid is None:
            if "worker_id" in w:
                # given, and not the key, as a mismatch is: said the same way
                # (a record that leaves it out is a dict keyed by its id)
                said.append("%s: worker_id None differs from its key; lbsched uses the key "
                            "%r (its load is worker_loads[%r])" % (_at(keys, i), kid, keys[i]))
            w["worker_id"] = kid
    elif isinstance(rid, str):
        # the id a list's worker is answered by
        _c_string(rid, _at(keys, i), "field 'worker_id'")
    return w, rid, said


def _caps(keys, recs):
    """_cap() of every worker: the capabilities, the ids the records
    give and the warnings, each in fleet order."""
    caps, rids, said = [], [], []
    for i, r in enumerate(recs):
        w, rid, s = _cap(keys, i, r)
        caps.append(w)
        rids.append(rid)
        said += s
    return caps, rids, said


def _lookups(keys, ids, rids):
    """Where each worker's load is looked for in worker_loads: first
    (the caller's key, else the worker's id), then second (None: nowhere
    else)."""
    first = keys if keys is not None else ids
    second = [r if isinstance(r, str) else k for k, r in zip(first, rids)]
    return first, (second if second != first else None)


def _loads(first, second, worker_loads, own):
    """Each worker's load or None, in fleet order: the record's own "load"
    if it has one, else worker_loads[first], else worker_loads[second]."""
    loads = worker_loads or {}
    out = list(map(loads.get, first))
    if second is not None:
        out = [x if x is not None else loads.get(b)
               for x, b in zip(out, second)]
    if own:
        for i, load in own.items():
            out[i] = load
    return out


def _check_loads(loads, first, second, worker_loads, own):
    """A load that is no record at all is named by the key it was found
    under (the converter would only say the worker's place).  A record's
    own "load" is left to the converter, which names it by the record
    ("available_workers['w1']: field 'load': must be an object or null,
    got 5")."""
    for i, x in enumerate(loads):
        if x is None or isinstance(x, dict) or hasattr(x, "__dict__") or \
                hasattr(x, "__dataclass_fields__") or (own and i in own):
            continue
        key = first[i] if first[i] in (worker_loads or {}) else second[i]
        raise ValueError("worker_loads[%r]: expected a WorkerLoad or a dict, "
                         "got %s" % (key, _what(x)))


class _Where(object):
    """Where a document's workers came from, for _relocate: the caller's
    keys, the ids, where their loads were looked for, and the records
    that carry their own; and what _caps found to warn of (said)."""

    __slots__ = ("keys", "ids", "first", "second", "own", "said")

    def __init__(self, keys, ids, first, second, own, said):
        self.keys, self.ids, self.first, self.second, self.own, self.said = \
            keys, ids, first, second, own, said


def _document(available_workers, worker_loads):
    """The whole fleet in one JSON document, each worker with its "load":
    what lbspy_explain, lbspy_bench and the orchestrator take; and where
    its workers came from (_Where), to name them in the library's
    messages."""
    keys, recs = _split(available_workers)
    own = _views(recs, keys)[1]
    caps, rids, said = _caps(keys, recs)
    ids = [w.get("worker_id") for w in caps]
    first, second = _lookups(keys, ids, rids)
    loads = _loads(first, second, worker_loads, own)
    _check_loads(loads, first, second, worker_loads, own)
    for w, load in zip(caps, loads):
        if load is not None:
            w["load"] = load
    return (_dumps(caps, each=lambda i: _at(keys, i)),
            _Where(keys, ids, first, second, own, said))


_AT = re.compile(r"^available_workers: workers\[(\d+)\]: ((unknown )?field '(load\.)?)?")
_ALSO = re.compile(r"(is also the id of )workers\[(\d+)\]$")


def _relocate(msg, fleet, worker_loads, own):
    """The library's "available_workers: workers[3]: field 'load.x': ..."
    (or a warning's "unknown field 'load.x' ignored") in the caller's
    terms: the key of the record, or of the load in worker_loads
    ("worker_loads['gpu_1']: field 'x': ...")."""
    m = _AT.match(msg)
    if not m or fleet is None or int(m.group(1)) >= len(fleet.ids):
        return msg
    i, rest = int(m.group(1)), msg[m.end():]
    if m.group(4) and not (own and i in own):
        key = fleet.first[i]
        if key not in (worker_loads or {}) and fleet.second is not None:
            key = fleet.second[i]
        return "worker_loads[%r]: %sfield '%s" % (key, m.group(3) or "", rest)
    # a list's duplicate id: "... 'x' is also the id of workers[0]"
    rest = _ALSO.sub(lambda a: a.group(1) + _at(fleet.keys, int(a.group(2)))
                     if int(a.group(2)) < len(fleet.ids) else a.group(0), rest)
    return "%s: %s%s" % (_at(fleet.keys, i), m.group(2) or "", rest)


def _said_of_its_key(msg, fleet, worker_loads, own):
    """Whether msg is the library's "field 'load.worker_id': 'w2' is not
    this worker's id" for a load found under its record's worker_id (a
    worker keyed otherwise): _cap's warning said already that its load is
    worker_loads['w2'], and this one read as if that load were wrong."""
    m = _AT.match(msg)
    if not m or fleet is None or fleet.second is None or m.group(4) is None:
        return False
    i = int(m.group(1))
    if i >= len(fleet.ids) or (own and i in own) or fleet.first[i] in (worker_loads or {}):
        return False
    return msg[m.end():].startswith("worker_id': '%s' is not this worker's id"
                                    % fleet.second[i])


# _answer's word for "the library stopped for the records' warnings"
_WARNED = object()


def _warn(lines):
    """Each line as a RecordWarning, at the caller's line: the first frame
    outside this package, however deep the call that found it."""
    level, f = 2, sys._getframe(1)
    while f is not None and f.f_globals.get("__name__", "").partition(".")[0] == "lbsched":
        f = f.f_back
        level += 1
    for line in lines:
        warnings.warn(line, RecordWarning, stacklevel=level)


def _raise_msg(code, msg):
    err = ctypes.create_string_buffer(msg.encode("utf-8", "replace"))
    _raise(code, err)


def _raise_at(code, err, where, worker_loads):
    """_raise, the library's message at the caller's keys (where: the
    document's _Where)."""
    _raise_msg(code, _relocate(err.value.decode("utf-8", "replace"), where,
                               worker_loads, where.own))


_fast, FAST_MISSING = _load_fast()
if _fast is not None:
    _fast.configure(
        ctypes.cast(_lib.lbspy_select_fleet, ctypes.c_void_p).value,
        [tuple(x) for x in _LAYOUT["slots"]],
        [tuple(x) for x in _LAYOUT["others"]], _JSON_ONLY, float(_LOOSE_MAX),
        int(_STRING_MAX))
# _dumps's check of keys in C (bound here: tests stand in for _fast)
_str_keys = getattr(_fast, "str_keys", None)  # None: an older extension
#: Whether select_worker reads records through _lbsched_fast; when not,
#: FAST_MISSING says why.
FAST = _fast is not None


class _Fleet(object):
    """The capabilities as sent to the library: their JSON, copies to tell
    whether they changed (views for this module, snap for _lbsched_fast),
    the workers' ids in fleet order, what select_worker answers for each
    (out: the caller's keys, or the ids of a list), where their loads
    are looked for (first, second), and _caps's warnings (said)."""

    __slots__ = ("keys", "views", "ids", "caps", "out", "first", "second",
                 "snap", "said", "parts")

    def __init__(self, keys, recs, views, available_workers, old=None):
        # The copies first (_lbsched_fast's of the whole fleet, then each
        # worker's), the JSON after: a record another thread changes in
        # between is then sent new and compared old, so the next call
        # sends it again.  The other order kept the old JSON under a copy
        # that matched the new record, for good.
        # With the fleet sent before (old) under the same keys, a worker
        # whose record equals its copy there keeps that copy and JSON:
        # one worker's available_memory changing costs that worker's
        # conversion in Python, not the whole fleet's (docs/PYTHON.md).
        if old is not None and (not _equal(old.keys, keys) or len(old.views) != len(views)):
            old = None
        self.snap = _fast.snapshot(available_workers) if _fast else None
        snaps, parts, new, i = [], [], [], 0
        try:
            for i, v in enumerate(views):
                if old is not None and _equal(old.views[i], v):
                    snaps.append(old.views[i])
                    parts.append(old.parts[i])
                else:
                    snaps.append(_snapshot(v))
                    parts.append(None)
                    new.append(i)
        except RecursionError:
            raise ValueError("%s: %snested deeper than Python can copy"
                             % (_at(keys, i), _too_deep(views[i]))) from None
        # Every new record's id checked before any JSON, as _document
        # (explain, the orchestrator) does: the same first error.
        made = [(i, _cap(keys, i, recs[i])) for i in new]
        for i, (w, rid, s) in made:
            parts[i] = (_dumps(w, _at(keys, i)), w.get("worker_id"), rid, s)
        ids = [p[1] for p in parts]
        rids = [p[2] for p in parts]
        said = [line for p in parts for line in p[3]]
        self.views, self.parts, self.said = snaps, parts, said
        self.caps = b"[" + b",".join([p[0] for p in parts]) + b"]"
        self.keys = keys
        self.ids = ids
        self.out = keys if keys is not None else self.ids
        self.first, self.second = _lookups(keys, self.ids, rids)

    def same(self, keys, views):
        # a value that will not compare: send again
        return _equal(self.keys, keys) and _equal(self.views, views)


# ----- schedulers ---------------------------------------------------------

# Outcomes report() gets at most from one performance_data record.
_SEED_MAX = 100
# TEST_DEFAULT_DURATION_S of host-shim/lib/convert_field.c (cv_work_duration):
# the original TestRequirements' default, what a test without the field is
# ranked as
_TEST_DEFAULT_DURATION_S = 60.0


def _work_duration(test_requirements):
    """(the placed test's expected_duration as cv_work_duration resolves it,
    its test_type), or None when the duration is 0 or no value the
    converter takes (the test is then refused before anything is seeded)."""
    try:
        rec = _record(test_requirements)
    except ValueError:
        return None
    d = rec.get("expected_duration", _TEST_DEFAULT_DURATION_S)
    if type(d) not in (int, float) or not 0 < d <= _MAX_SECONDS:
        return None
    return float(d), rec.get("test_type")

# The original WorkerPerformance's fields (seed-behaviour.md §a.1), in its
# order: a dict record may give any of them (those lbsched does not read
# are ignored), and nothing else (a misspelt "failures" taught successes).
_PERF_FIELDS = ("worker_id", "test_type", "model_id", "model_family", "hardware_type",
                "average_execution_time", "min_execution_time", "max_execution_time",
                "std_execution_time", "success_rate", "last_execution_time",
                "sample_count", "total_failures")


def _check_arguments(test_requirements, available_workers, worker_loads,
                     performance_data):
    """None or a wrong type for an argument, named."""
    if test_requirements is None or isinstance(
            test_requirements, (str, bytes, int, float, list, tuple)):
        raise ValueError("test_requirements: expected a TestRequirements or "
                         "a dict, got %s" % _what(test_requirements))
    _check_fleet_arguments(available_workers, worker_loads, performance_data)


_PLAIN = frozenset((dict, type(None)))
_PLAIN_FLEET = frozenset((dict, list))


def _mappings(*args):
    """Each argument, a Mapping that is not a dict (a MappingProxyType)
    as a dict of its items: the original only iterates them with
    .items(), and the rest of this module (and _lbsched_fast) reads
    dicts.  Anything else as it is, for the checks to name."""
    return [dict(a.items()) if not isinstance(a, dict) and
            isinstance(a, collections.abc.Mapping) else a for a in args]


def _check_fleet_arguments(available_workers, worker_loads, performance_data=None):
    """_check_arguments without a test: the orchestrator's place_subtask
    and estimate_durations take the fleet alone."""
    if available_workers is None or not isinstance(available_workers,
                                                   (dict, list, tuple)):
        raise ValueError("available_workers: expected a dict of worker id -> "
                         "WorkerCapabilities (or a list of them), got %s"
                         % _what(available_workers))
    for name, arg in (("worker_loads", worker_loads),
                      ("performance_data", performance_data)):
        if arg is not None and not isinstance(arg, dict):
            raise ValueError("%s: expected a dict of worker id -> ..., got %s"
                             % (name, _what(arg)))

_NO_COPY = "lbsched.%s cannot be copied or pickled: %s"


class PluginScheduler(object):
    """An lbsched scheduler with the original SchedulingAlgorithm interface.

    scheduler: a name the plugin has ("hardware-aware", the default, as
    the original integration's; "priority", "round-robin", "composite",
    "weighted-round-robin", "performance", "affinity", "adaptive", the
    original service's default; docs/SCHEDULERS.md).  plugin: path of an lbsched plugin .so,
    None for the one built or installed with this package.  config: the
    scheduler's config as a dict or JSON text (e.g. {"store": {"path":
    "/var/lib/lbsched/prefs"}} for a persistent learned store).

    Raises ValueError (unknown scheduler, bad config), ImportError (the
    plugin was refused: wrong ABI major, ...) or OSError (no such plugin,
    or a store that cannot be opened).
    """

    def __init__(self, scheduler="hardware-aware", plugin=None, config=None):
        self.scheduler = scheduler
        self.last_reason = ""
        self._lock = _CallLock("scheduler")
        _fork_locked(self, 1)
        self._h = None
        # The fleet the library holds (None: send one), and select's
        # buffers; both used under self._lock.
        self._fleet = None
        self._picked = (ctypes.c_uint32 * _MAX_PICKED)()
        self._npicked = ctypes.c_uint()
        self._reason = ctypes.create_string_buffer(_REASONLEN)
        self._err = ctypes.create_string_buffer(_ERRLEN)
        # This module's warnings of the fleet a select built (_Fleet.said)
        self._said = []
        # The records of a select that carry their own "load" (_views),
        # and whether it called the library (_asked)
        self._own, self._asked = None, False
        # What was seeded from performance_data: (worker, test type) ->
        # (samples, failures, mean duration)
        self._seeded = {}
        # False once a report was refused as unsupported: performance_data
        # is then not read, so that a service passing it on every call
        # pays one select, not a check, a report and a select
        self._learns = True
        #: How many times the capabilities went to the library: once, and
        #: again each time they changed (docs/PYTHON.md).
        self.fleets_sent = 0
        if not isinstance(scheduler, str):
            raise ValueError("scheduler: must be a scheduler's name (str), got %s"
                             % _what(scheduler))
        # The library takes the three as C strings: a NUL would cut them
        # short, and what follows it be read by nobody
        if _not_c(scheduler):
            _c_string(scheduler, "scheduler", "the name", "a scheduler name")
        if plugin is not None:
            try:
                path = os.fsencode(plugin)
            except TypeError:
                raise ValueError("plugin: must be a path (str, bytes or os.PathLike), got %s"
                                 % _what(plugin)) from None
            if b"\x00" in path:
                raise ValueError("plugin: the path must not hold a NUL character (a path "
                                 "is a C string)")
            if not path:
                # the library's words began ": cannot load plugin"
                raise ValueError("plugin: an empty path; give the plugin's path, or None "
                                 "for the default")
        if isinstance(config, (dict, list)):
            # the package's JSON: NaN named by its field
            config = _dumps(config, "config").decode("utf-8")
        elif config is not None and not isinstance(config, str):
            raise ValueError("config: must be a dict or JSON text, got %s"
                             % type(config).__name__)
        elif config is not None and not config.strip():
            # the library took no text as no config: a config read from an
            # empty file opened with the defaults, silently
            raise ValueError("config: empty text; give a JSON object, or None for the "
                             "defaults")
        elif config is not None and _not_c(config):
            if "\x00" in config:
                raise ValueError("config: the text must not hold a NUL character (at "
                                 "character %d)" % config.index("\x00"))
            raise ValueError("config: the text must not hold a surrogate code point "
                             "(U+%04X), which UTF-8 cannot carry" % ord(_surrogate(config)))
        err = ctypes.create_string_buffer(_ERRLEN)
        h = ctypes.c_void_p()
        code = _lib.lbspy_open(
            path if plugin is not None else None,
            scheduler.encode("utf-8"),
            config.encode("utf-8") if config is not None else None,
            ctypes.byref(h), err, _ERRLEN)
        if code != _OK:
            _raise(code, err)
        self._h = h
        # its address for _lbsched_fast, read once: ctypes' .value is a
        # lookup per call (select_worker is timed in microseconds)
        self._hv = h.value
        #: Whether the scheduler learns from reported outcomes (it declares
        #: LBS_CAP_LEARNS): round-robin does not, hardware-aware does.
        self.learns = bool(_lib.lbspy_learns(h))

    # The handle is used under self._lock so that close() never frees it
    # while another thread is inside a call; the C library has its own
    # per-handle mutex for C callers as well.
    def _handle(self):
        if self._h is None:
            raise ValueError("lbsched: the scheduler is closed")
        return self._h

    def close(self):
        if self._lock.broken:
            # forked mid-call: the handle's mutex is held by a thread this
            # child does not have; the handle is the parent's to free
            self._h = None
            return
        with self._lock:
            if self._h is not None:
                _lib.lbspy_close(self._h)
                self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    # A copy would share the handle, and the first of the two collected
    # would free it under the other (a crash at its next call); a pickle
    # cannot carry a plugin instance, nor what it has learned in memory.
    def _no_copy(self, *args):
        raise TypeError(_NO_COPY % (type(self).__name__, "it owns a plugin instance; "
                                    "create another"))

    __copy__ = __deepcopy__ = __reduce__ = __reduce_ex__ = _no_copy

    def _select(self, test_requirements, available_workers, worker_loads,
                performance_data, maxn):
        # the types looked at first: _mappings's isinstance checks cost about
        # 0.5 us, a fifteenth of a call at 8 workers
        if type(available_workers) not in _PLAIN_FLEET or \
                type(worker_loads) not in _PLAIN or type(performance_data) not in _PLAIN:
            available_workers, worker_loads, performance_data = _mappings(
                available_workers, worker_loads, performance_data)
        if performance_data:
            _check_arguments(test_requirements, available_workers,
                             worker_loads, performance_data)
            with self._lock:
                self._handle()
                work = _work_duration(test_requirements)
                plan = self._learns and self._seed_plan(performance_data, work)
            if plan:
                # The test, capabilities and loads checked (and their
                # warnings issued) before anything is learned: a call that
                # raises leaves no trace
                self._issue(self._select_once(test_requirements, available_workers,
                                              worker_loads, performance_data,
                                              maxn | _CHECK)[1])
                with self._lock:
                    self._handle()
                    # planned again: another thread may have seeded since
                    self._seed_apply(self._seed_plan(performance_data, work))
                return self._select_once(test_requirements, available_workers,
                                         worker_loads, performance_data, maxn)[0]
        # The records' warnings are issued before the scheduler chooses, so
        # that one made an error (-W error) raises with nothing chosen; a
        # call whose records do not warn is one call.
        picked, said = self._select_once(test_requirements, available_workers,
                                         worker_loads, performance_data,
                                         maxn | _HOLD_WARNED)
        if said is None:
            return picked
        self._issue(said)
        # the same records: their warnings, issued above, are not again
        return self._select_once(test_requirements, available_workers,
                                 worker_loads, performance_data, maxn)[0]

    def _issue(self, said):
        """The warnings of a call that stopped before the scheduler chose."""
        try:
            _warn(said)
        except BaseException:
            # the fleet is sent again by the next call, which then warns
            # (and raises) again
            with self._lock:
                self._fleet = None
            raise

    def _select_once(self, test_requirements, available_workers, worker_loads,
                     performance_data, maxn):
        """One call into the library: (ids, None), or (None, the records'
        warnings) when it stopped for them (_HOLD_WARNED) or only checked
        the records (_CHECK)."""
        with self._lock:
            h = self._handle()
            self._said, self._own, self._asked = [], None, True
            picked = self._select_locked(h, test_requirements, available_workers,
                                         worker_loads, performance_data, maxn)
            if picked is _WARNED or maxn & _CHECK or (self._said and maxn & _HOLD_WARNED):
                return None, self._said + (self._warnings(self._fleet, worker_loads, self._own)
                                           if self._asked else [])
            return picked, None

    def _warnings(self, fleet, worker_loads, own):
        """The library's warnings of the last call, at the caller's keys
        (fleet: where its workers came from, or None; own: the records
        that carry their own load); self._lock held."""
        out = ctypes.c_void_p()
        if _lib.lbspy_warnings(self._h, ctypes.byref(out)) != _OK or not out.value:
            return []
        return [_relocate(line, fleet, worker_loads, own)
                for line in json.loads(_take(out))
                if not _said_of_its_key(line, fleet, worker_loads, own)]

    def _select_locked(self, h, test_requirements, available_workers, worker_loads,
                       performance_data, maxn):
        fleet = self._fleet
        # The common case: the capabilities as sent last, the records
        # read by _lbsched_fast.  None: a shape it leaves to the code
        # below; False: they may have changed (this module's
        # comparison decides).
        differ = False
        if fleet is not None and fleet.snap is not None:
            r = _fast.select(self._hv, test_requirements, available_workers,
                             worker_loads, fleet.snap, fleet.first,
                             fleet.second, None, maxn)
            if r is False:
                differ = True
            elif r is not None:
                if r[0] == _OK:  # _answer's, without the call
                    self.last_reason = r[2]
                    out = fleet.out
                    return [out[i] for i in r[1]]
                return self._answer(fleet, r, worker_loads, None)
        # _lbsched_fast took none of a bad argument: named here
        _check_arguments(test_requirements, available_workers,
                         worker_loads, performance_data)
        if not available_workers:
            # answered without the library: the warnings it holds are the
            # last call's
            self._asked = False
            self.last_reason = "no available workers"
            return []
        keys, recs = _split(available_workers)
        views, own = _views(recs, keys)
        # a warning about a record's own "load" is named by the record
        self._own = own
        caps = None
        if fleet is None or not fleet.same(keys, views):
            # The test's own faults first, as the library reports them
            test = _dumps(_record(test_requirements, "test_requirements",
                                  "TestRequirements"), "test_requirements")
            fleet = _Fleet(keys, recs, views, available_workers, fleet)
            caps = fleet.caps
            if fleet.said:
                # This module's warnings (a worker_id that is not its key)
                # stop a held call as the library's do: the library takes
                # the fleet and chooses nothing
                self._said = fleet.said
                if maxn & _HOLD_WARNED:
                    maxn |= _CHECK
            # Which fleet the library holds is not known until it
            # has taken this one.
            self._fleet = None
            if fleet.snap is not None:
                self.fleets_sent += 1
                r = _fast.select(h.value, test_requirements,
                                 available_workers, worker_loads,
                                 fleet.snap, fleet.first, fleet.second,
                                 caps, maxn)
                if r is not None and r is not False:
                    return self._answer(fleet, r, worker_loads, None)
                self.fleets_sent -= 1
        else:
            if differ:
                # Equal, not identical (or with their own loads): a
                # snapshot of them as they are now
                fleet.snap = _fast.snapshot(available_workers)
            test = _dumps(_record(test_requirements, "test_requirements",
                                  "TestRequirements"), "test_requirements")
        loads = _loads(fleet.first, fleet.second, worker_loads, own)
        num = _numeric_loads(loads, fleet.ids)
        if num is None:
            _check_loads(loads, fleet.first, fleet.second, worker_loads, own)
            given = vals = None
            # a record's own "load" named by the record, as the converter does
            text = _dumps(loads, each=lambda i: (_at(fleet.keys, i), ["load"])
                          if own and i in own else "worker_loads[%r]" % (
                fleet.first[i] if fleet.first[i] in (worker_loads or {})
                or fleet.second is None else fleet.second[i],))
        else:
            given, vals = num
            text = None
        if caps is not None:
            self.fleets_sent += 1
        code = _lib.lbspy_select_fleet(
            h, test, caps, _address(given), _address(vals),
            len(vals) if vals else 0, text, maxn, self._picked,
            self._npicked, self._reason, _REASONLEN, self._err, _ERRLEN)
        r = (code, self._picked[:self._npicked.value],
             (self._reason if code == _OK else self._err).value.decode(
                 "utf-8", "replace"))
        return self._answer(fleet, r, worker_loads, own)

    def _answer(self, fleet, r, worker_loads, own):
        """The library's (code, picked, reason or message) as the ids the
        caller uses; self._lock held."""
        code, picked, text = r
        if code == _EWARNED:
            self._fleet = fleet  # the library took it; the warnings are its
            return _WARNED
        if code != _OK:
            _raise_msg(code, _relocate(text, fleet, worker_loads, own))
        self._fleet = fleet
        self.last_reason = text
        out = fleet.out
        return [out[i] for i in picked]

    def _seed_plan(self, performance_data, work):
        """performance_data (worker -> test type -> WorkerPerformance, the
        original service's PerformanceTracker) as the outcomes to report:
        what each record says beyond what was seeded from it before, so
        that a swap keeps what the service knew and goes on learning from
        it.  work: the placed test's expected_duration (_work_duration),
        what the runs are compared with, or None.  Every record is checked
        before any is reported (_seed_apply): a bad one leaves nothing
        learned.  self._lock held."""
        plan = []
        for wid, types in performance_data.items():
            # checked before the emptiness: None, 0 and "" were taken as no
            # history, silently, where a list was refused
            if not hasattr(types, "items"):
                raise ValueError("performance_data[%r]: expected a dict of test "
                                 "type -> WorkerPerformance, got %s"
                                 % (wid, _what(types)))
            if not types:  # a worker with no history yet
                continue
            for ttype, perf in types.items():
                step = self._seed_one(wid, ttype, perf, work)
                if step:
                    plan.append(step)
        return plan

    def _seed_apply(self, plan):
        """_seed_plan's outcomes through report(); self._lock held.  A
        worker id longer than a scheduler learns from is reported first: a
        scheduler that learns refuses it before anything is learned, one
        that does not says so (and the id is no fault)."""
        long_ = [p for p in plan if len(p[0][0].encode("utf-8")) > _LEARN_ID_MAX]
        if long_:
            plan = long_ + [p for p in plan if p not in long_]
        for key, seen, outcomes in plan:
            for o in outcomes:
                code = _lib.lbspy_report(self._h, o, 0, self._err, _ERRLEN)
                if code == _EUNSUPPORTED:
                    self._learns = False
                    return
                if code == _EINPUT and len(key[0].encode("utf-8")) > _LEARN_ID_MAX:
                    raise ValueError("performance_data[%r]: the key is %d bytes long, "
                                     "more than the %d a scheduler learns from (a store's "
                                     "longest key)"
                                     % (key[0], len(key[0].encode("utf-8")), _LEARN_ID_MAX))
                if code != _OK:
                    _raise(code, self._err)
            self._seeded[key] = seen

    def _seed_one(self, wid, ttype, perf, work):
        """One record's (key, what it says, its new outcomes as JSON), or
        None when it says nothing new."""
        where = "performance_data[%r][%r]" % (wid, ttype)
        if not isinstance(wid, str):
            raise ValueError("performance_data: a worker's key must be its id (str), got %r"
                             % (wid,))
        # the outcome converter would refuse them after earlier records
        # were reported
        _c_string(wid, "performance_data[%r]" % (wid,))
        if not wid:
            # the outcome converter refuses it, after earlier records
            # were reported (as an empty test type's key below)
            raise ValueError("performance_data['']: a worker's key must be a non-empty id")
        if not isinstance(ttype, str):
            # str() learned None, 5 and ('a',) as the test types 'None', '5'
            # and "('a',)", which no test has
            raise ValueError("performance_data[%r]: a test type's key must be its name (str), "
                             "got %r" % (wid, ttype))
        _c_string(ttype, where, kind="a test type")
        if not ttype:
            raise ValueError("%s: a test type's key must be a non-empty name" % where)
        rec = _record(perf, where, "WorkerPerformance")
        if "sample_count" not in rec:  # a misspelt dict seeded nothing, silently
            raise ValueError("%s: field 'sample_count': is required" % where)
        if rec is perf:  # a dict: its keys are what the caller wrote
            for k in rec:
                if k not in _PERF_FIELDS:
                    raise ValueError("%s: field '%s': unknown (WorkerPerformance has %s)"
                                     % (where, k, ", ".join(_PERF_FIELDS)))
        for name, key in (("worker_id", wid), ("test_type", ttype)):
            # what it says of another worker or type, learned under these
            # keys without a word, was a false speed put on this pair
            if rec.get(name) is not None and rec.get(name) != key:
                raise ValueError("%s: field '%s': %s differs from its key %r"
                                 % (where, name, _shown(rec.get(name)), key))
        n = rec.get("sample_count", 0)
        failures = rec.get("total_failures")
        rate = rec.get("success_rate")
        mean = rec.get("average_execution_time", 0.0)
        if failures is None and rate is None:
            # The original's WorkerPerformance always has both (1.0 and 0
            # by default): a record with neither was made by hand, and
            # taking its samples as successes taught what nobody said
            raise ValueError("%s: field 'total_failures': is required, or 'success_rate' "
                             "(the original's WorkerPerformance has both)" % where)
        # sample_count None was a bare TypeError from the arithmetic below;
        # total_failures None is left to success_rate
        # past 2^53 a count is no double (a bare OverflowError, past 1e308)
        for name, v in (("sample_count", n), ("total_failures", failures)):
            if (v is not None or name == "sample_count") and \
                    (type(v) is not int or not 0 <= v <= 2 ** 53):
                raise ValueError("%s: field '%s': must be an integer in 0..2^53, "
                                 "got %s" % (where, name, _shown(v)))
        if rate is not None:
            if not isinstance(rate, (int, float)) or isinstance(rate, bool) or \
                    not 0 <= rate <= 1:
                raise ValueError("%s: field 'success_rate': must be a finite number in "
                                 "0..1, got %s" % (where, _shown(rate)))
            implied = int(round(n * (1 - rate)))
            if failures is None:
                failures = implied
            elif abs(failures - implied) > 1:
                # one of slack: the original rebuilds total_failures from a
                # rounded success_rate
                raise ValueError("%s: fields 'total_failures' and 'success_rate' disagree: "
                                 "%d failures of %d samples, a success rate of %r gives %d"
                                 % (where, failures, n, rate, implied))
        if "average_execution_time" not in rec and n:
            # as 0.0 the samples were learned as runs of 0 s: a false speed
            # that put the work there (a dict made by hand; the original's
            # WorkerPerformance always has the field)
            raise ValueError("%s: field 'average_execution_time': is required with samples "
                             "(the mean run in seconds)" % where)
        if not isinstance(mean, (int, float)) or isinstance(mean, bool) or \
                not 0 <= mean <= _MAX_SECONDS:
            raise ValueError("%s: field 'average_execution_time': must be a "
                             "finite number in 0..%d (seconds), got %s"
                             % (where, _MAX_SECONDS, _shown(mean)))
        if failures > n:
            raise ValueError("%s: field 'total_failures': %d is more than the "
                             "%d samples" % (where, failures, n))
        seen_n, seen_f, seen_mean = self._seeded.get((wid, ttype), (0, 0, 0.0))
        if n < seen_n:
            # fewer samples than before: the tracker started again, and all
            # it holds is new (it was ignored until it passed the old count).
            # Not fewer failures: the original rebuilds them from a rounded
            # success rate, and they drop by one now and then.
            seen_n, seen_f, seen_mean = 0, 0, 0.0
        new = n - seen_n
        if new <= 0:
            return None
        new_f = max(0, min(new, failures - seen_f))
        # The new samples' mean, from the running means before and after
        dur = max(0.0, (mean * n - seen_mean * seen_n) / new)
        if dur > _MAX_SECONDS:
            # the converter would blame an outcome's 'duration' the caller
            # never wrote
            raise ValueError("%s: field 'average_execution_time': %r over %d samples, "
                             "after %r over %d, gives the %d new ones a mean of %.6g s, "
                             "above the %d s limit" % (where, mean, n, seen_mean, seen_n,
                                                       new, dur, _MAX_SECONDS))
        # Report at most _SEED_MAX outcomes a record, in the proportions it
        # gives: what the learning keeps is rates and means.  Rounded, not
        # at least one: 1 failure in 1,000,000 samples taught 1 in 100.
        scale = min(1.0, _SEED_MAX / new)
        k = max(1, int(round(new * scale)))
        k_f = int(round(new_f * scale))
        base = {"test_id": "performance_data", "worker_id": wid, "duration": dur,
                "test_type": ttype}
        if work is not None and work[1] == ttype:
            # without it a run teaches no speed: a worker whose history is
            # 100 times slower looked as fast as its prior.  Only the
            # placed test's own type: a 1 s vision test's duration made
            # another type's 30 s runs 30 times slow, for good
            base["expected_duration"] = work[0]
        outcomes = [_dumps(dict(base, success=j >= k_f), where) for j in range(k)]
        return (wid, ttype), (n, failures, mean), outcomes

    def select_worker(self, test_requirements, available_workers,
                      worker_loads=None, performance_data=None):
        """The original interface: a worker id, or None when no worker is
        eligible.  available_workers: dict worker_id -> WorkerCapabilities
        (or a list of them); worker_loads: dict worker_id -> WorkerLoad, may
        lack entries; performance_data: dict worker_id -> test type ->
        WorkerPerformance, seeds what the scheduler has learned."""
        ids = self._select(test_requirements, available_workers, worker_loads,
                           performance_data, 0)
        return ids[0] if ids else None

    def select_workers(self, test_requirements, available_workers,
                       worker_loads=None, performance_data=None, max_workers=0):
        """All the workers of a sharded or replicated placement (a list,
        empty when none is eligible); max_workers 0 = as many as chosen
        (more than a placement can choose is the same)."""
        try:
            n = -1 if isinstance(max_workers, bool) else operator.index(max_workers)
        except TypeError:
            n = -1
        if n < 0:
            raise ValueError("max_workers: must be a whole number >= 0 (0: as many as "
                             "chosen), got %r" % (max_workers,))
        # Larger counts would carry the call's flags (_CHECK, _HOLD_WARNED)
        return self._select(test_requirements, available_workers, worker_loads,
                            performance_data, 0 if n >= _MAX_PICKED else n)

    def report(self, test_id, worker_id, success, duration_s, status=None,
               test_type=None, expected_duration=None):
        """Feed one outcome to the scheduler's learning.  Returns True when
        the scheduler learned from it, False when it does not learn."""
        o = {"test_id": test_id, "worker_id": worker_id,
             "success": success, "duration": duration_s}  # the converter checks it
        if status is not None:
            o["status"] = status
        if test_type is not None:
            o["test_type"] = test_type
        if expected_duration is not None:
            o["expected_duration"] = expected_duration
        err = ctypes.create_string_buffer(_ERRLEN)
        text = _dumps(o, "outcome")
        with self._lock:
            # named as the converter names the outcome's other faults; held
            # when it warns, so that a warning made an error (-W error)
            # learns nothing, and a retry is not learned twice
            code = _lib.lbspy_report(self._handle(), text, 1, err, _ERRLEN)
            said = self._warnings(None, None, None) \
                if code in (_OK, _EUNSUPPORTED, _EWARNED) else ()
        _warn(said)
        if code == _EWARNED:
            with self._lock:
                code = _lib.lbspy_report(self._handle(), text, 0, err, _ERRLEN)
        if code == _EUNSUPPORTED:
            return False
        if code != _OK:
            _raise(code, err)
        return True

    def explain(self, test_requirements, available_workers,
                worker_loads=None, performance_data=None):
        """The plugin's explanation of its choice, as a dict.  Explaining
        learns nothing: performance_data is checked, and records with
        samples the scheduler has not learned are a ValueError (the answer
        would not be select_worker's, which learns them first)."""
        available_workers, worker_loads, performance_data = _mappings(
            available_workers, worker_loads, performance_data)
        _check_arguments(test_requirements, available_workers, worker_loads,
                         performance_data)
        if performance_data:
            with self._lock:
                self._handle()
                plan = self._seed_plan(performance_data, _work_duration(
                    test_requirements))  # checked, whatever the scheduler
            # only one that learns answers otherwise once select_worker seeded them
            if plan and self.learns and self._learns:
                raise ValueError("performance_data: holds samples the scheduler has not "
                                 "learned, and explaining learns nothing: pass it to "
                                 "select_worker first, or leave it out")
        test = _dumps(_record(test_requirements, "test_requirements",
                              "TestRequirements"), "test_requirements")
        fleet, where = _document(available_workers, worker_loads)
        err = ctypes.create_string_buffer(_ERRLEN)
        out = ctypes.c_void_p()
        with self._lock:
            code = _lib.lbspy_explain(self._handle(), test, fleet,
                                      ctypes.byref(out), err, _ERRLEN)
            said = where.said + self._warnings(where, worker_loads, where.own) \
                if code == _OK else ()
        if code != _OK:
            _raise_at(code, err, where, worker_loads)
        answer = json.loads(_take(out))
        _warn(said)  # explaining changes nothing: an error here leaves no trace
        return answer

    def stats(self):
        """The scheduler's counters and store, as a dict."""
        err = ctypes.create_string_buffer(_ERRLEN)
        out = ctypes.c_void_p()
        with self._lock:
            code = _lib.lbspy_stats(self._handle(), ctypes.byref(out), err,
                                    _ERRLEN)
        if code != _OK:
            _raise(code, err)
        return json.loads(_take(out))

    def bench_c(self, test_requirements, available_workers, worker_loads=None,
                iterations=1000):
        """Mean CPU nanoseconds of the C select alone (converted once a
        chunk, untimed), through this scheduler: the cost the binding adds
        is the rest.  iterations: a whole number in 1..10**8, run in chunks
        of about a quarter second each, between which other threads' calls
        and Ctrl-C get through.  The selects run on a scheduler of bench_c's
        own, made from this one's plugin, name and config at the first
        call: this one places, counts and learns nothing."""
        # ctypes takes it as a C unsigned: -1 was 4,294,967,295 selects
        # with the lock held, 2**32 + 1 one
        try:
            n = 0 if isinstance(iterations, bool) else operator.index(iterations)
        except TypeError:
            n = 0
        if not 1 <= n <= _BENCH_MAX:
            raise ValueError("iterations: must be a whole number in 1..%d, got %r"
                             % (_BENCH_MAX, iterations))
        available_workers, worker_loads = _mappings(available_workers, worker_loads)
        _check_arguments(test_requirements, available_workers, worker_loads,
                         None)
        test = _dumps(_record(test_requirements, "test_requirements",
                              "TestRequirements"), "test_requirements")
        fleet, where = _document(available_workers, worker_loads)
        err = ctypes.create_string_buffer(_ERRLEN)
        ns = ctypes.c_double()
        # One C call of 10**8 selects held the lock for minutes: every other
        # thread's call waited, and Ctrl-C was handled only at its end.  In
        # chunks, the lock is let go and Python's signal handlers run
        # between them; each chunk warms up as the whole did (a tenth, not
        # timed), and the answer is still the mean over every timed select.
        done, total, said = 0, 0.0, None
        chunk = min(n, _BENCH_FIRST)
        while done < n:
            with self._lock:
                code = _lib.lbspy_bench(self._handle(), test, fleet, chunk,
                                        ctypes.byref(ns), err, _ERRLEN)
                if said is None and code == _OK:  # each chunk's records are the same
                    said = where.said + self._warnings(where, worker_loads, where.own)
            if code != _OK:
                _raise_at(code, err, where, worker_loads)
            done += chunk
            total += ns.value * chunk
            chunk = int(min(n - done, max(1, _BENCH_SLICE_NS // max(ns.value, 1.0))))
            lock = self._lock
            turn = lock.turns
            while done < n and lock.waiting and lock.turns == turn:
                time.sleep(_BENCH_GAP)  # until one of them has had the lock
        _warn(said)
        return total / n


# The original factory's names, and lbsched's names for them.
SCHEDULER_TYPES = {
    "round_robin": "round-robin",
    "priority_based": "priority",
    "hardware_aware": "hardware-aware",
    "composite": "composite",
    "weighted_round_robin": "weighted-round-robin",
    "performance_based": "performance",
    "affinity_based": "affinity",
    "adaptive": "adaptive",
}


_WEIGHT_MAX = 1000000  # WEIGHT_MAX of plugin/sched_composite.c


def _composite_config(config):
    """A composite's config as a dict: JSON text read (docs/COMPOSITE.md
    shows it as text), a dict as it is."""
    # bytes refused, as every other way in refuses them (decoded with
    # "replace", a bad byte in a store path became U+FFFD without a word)
    if isinstance(config, (bytes, bytearray)):
        raise ValueError("config: must be a dict or JSON text, got %s"
                         % type(config).__name__)
    if isinstance(config, str):
        if not config.strip():
            raise ValueError("composite: config: empty text; give a JSON object, or None "
                             "for the defaults")
        try:
            config = json.loads(config)
        except ValueError as e:
            raise ValueError("composite: config: not valid JSON: %s" % e) from None
    if config is not None and not isinstance(config, dict):
        raise ValueError("composite: config: expected a JSON object or a dict, "
                         "got %s" % _what(config))
    return config


def create_scheduler(scheduler_type, **kwargs):
    """The original create_scheduler: "round_robin", "weighted_round_robin",
    "performance_based", "priority_based", "affinity_based", "adaptive",
    "hardware_aware", or "composite" with algorithms=[{"type", "weight"}]
    (without them, 0.7 hardware_aware, 0.2 priority_based, 0.1 round_robin).
    Other keyword arguments: plugin, config.  Unknown types raise
    ValueError, as in the original."""
    plugin = kwargs.pop("plugin", None)
    config = kwargs.pop("config", None)
    if scheduler_type is not None and not isinstance(scheduler_type, str):
        # a list was dict.get's TypeError: unhashable type
        raise ValueError("scheduler_type: must be a scheduler type's name (str; lbsched has "
                         "%s), got %s" % (", ".join(sorted(SCHEDULER_TYPES)),
                                          _what(scheduler_type)))
    name = SCHEDULER_TYPES.get(scheduler_type)
    if name is None:
        raise ValueError("Unknown scheduler type: %s (lbsched has %s)" %
                         (scheduler_type, ", ".join(sorted(SCHEDULER_TYPES))))
    if scheduler_type == "composite":
        algorithms = kwargs.pop("algorithms", None)
        config = _composite_config(config)
        if algorithms and config and "children" in config:
            raise ValueError("composite: algorithms= and config \"children\" both give "
                             "the children; give them once")
        if algorithms is not None and not isinstance(algorithms, (list, tuple)):
            raise ValueError("composite: algorithms must be a list of {type, weight}, "
                             "got %s" % type(algorithms).__name__)
        if algorithms is not None and len(algorithms) == 0:
            raise ValueError("composite: algorithms is empty; give at least one "
                             "{type, weight}, or none for the default blend")
        children = []
        for i, a in enumerate(algorithms or ()):
            if not isinstance(a, dict):
                raise ValueError("composite: algorithms[%d] must be a dict {type, weight}, "
                                 "got %s" % (i, type(a).__name__))
            extra = sorted(set(a) - {"type", "weight", "config"}, key=str)
            if extra:  # a typo ("wieght") was weight 1.0
                raise ValueError("composite: algorithms[%d]: unknown field '%s' (type, "
                                 "weight, config)" % (i, extra[0]))
            if a.get("type") is not None and not isinstance(a["type"], str):
                raise ValueError("composite: algorithms[%d]: field 'type' must be an "
                                 "algorithm's name (str), got %s" % (i, _what(a["type"])))
            child = SCHEDULER_TYPES.get(a.get("type"))
            if child is None or child == "composite":
                raise ValueError("composite: unknown algorithm type: %s"
                                 % a.get("type"))
            # sched_composite.c's rule, named as the caller wrote it: the
            # plugin would blame config field 'children[0].weight'
            w = a.get("weight", 1.0)
            if isinstance(w, bool) or not isinstance(w, (int, float)) or \
                    not 0 <= w <= _WEIGHT_MAX:  # NaN and inf fail the range
                raise ValueError("composite: algorithms[%d]: field 'weight': must be a finite "
                                 "number in 0..%d, got %s" % (
                                     i, _WEIGHT_MAX, _shown(w)))
            c = {"scheduler": child, "weight": w}
            if a.get("config") is not None:
                c["config"] = a["config"]
            if a.get("type") == "weighted_round_robin":
                # the original's composite holds the original's algorithm
                c["config"] = _wrr_config(c.get("config"))
            children.append(c)
        if algorithms and not any(c["weight"] for c in children):
            raise ValueError("composite: algorithms: every weight is 0; give at least one "
                             "algorithm a weight above 0")
        if algorithms:
            config = dict(config or {}, children=children)
    if kwargs:
        raise ValueError("%s: unknown arguments: %s"
                         % (scheduler_type, ", ".join(sorted(kwargs))))
    if scheduler_type == "weighted_round_robin":
        config = _wrr_config(config)
    return PluginScheduler(name, plugin=plugin, config=config)


def _wrr_config(config):
    """The original's weighted round robin weighs a worker by 1 - its load;
    lbsched's, like nginx's, by its capacity unless told: the factory tells
    it, unless the config names its own weights."""
    if config is None:
        return {"weights_from": "load"}
    if isinstance(config, dict) and "weights_from" not in config and "weights" not in config:
        return dict(config, weights_from="load")
    if isinstance(config, str):
        # text is the plugin's to read, every flaw named (a key given
        # twice, which a dict would drop): "weights_from" added in front
        # when the text is an object that names no weights of its own
        try:
            parsed = json.loads(config)
        except ValueError:
            return config
        if isinstance(parsed, dict) and "weights_from" not in parsed and \
                "weights" not in parsed:
            # before the closing brace, so that the plugin's byte offsets
            # in what it finds wrong stay the caller's
            head = config.rstrip()[:-1]
            return head + (', ' if parsed else '') + '"weights_from": "load"}'
    return config


class _CallLock(object):
    """The lock around a scheduler's or orchestrator's calls into the
    library.  A plain Lock taken again by the thread holding it waits for
    ever: a record's property, __getattr__ or a Mapping's items() that
    calls back into the same object from inside a call hung it; that is a
    RuntimeError now."""

    __slots__ = ("_lock", "_owner", "_call", "_what", "broken", "waiting", "turns", "_count")

    def __init__(self, what):
        # An RLock for _is_owned(), never taken twice: see __enter__
        self._lock = threading.RLock()
        self._owner = None  # the thread inside a call, while it is
        self._call = None   # and the frame of that call's with statement
        self._what = what   # "scheduler" or "orchestrator", for messages
        # Threads waiting for the lock, and calls that took it: bench_c
        # lets a waiter have its turn between its chunks (a Lock is not
        # fair: let go and taken again, it stayed the bench's for good)
        self.waiting = self.turns = 0
        self._count = threading.Lock()  # self.waiting's, += not being atomic
        # In a child forked while another thread was inside a call: the
        # lock, and the C library's mutex of the handle, are held by a
        # thread the child does not have, and would be for ever
        self.broken = False

    def __enter__(self):
        if self.broken:
            raise RuntimeError("lbsched: this %s was forked while another thread was inside "
                               "a call on it; create a new %s in the child"
                               % (self._what, self._what))
        me = _get_ident()
        here = sys._getframe(1)
        # Read without the lock: only this thread ever stores its own id
        if self._owner == me and _on_stack(self._call, here):
            raise RuntimeError("lbsched: the %s was re-entered from inside a call on it "
                               "(a record's property, __getattr__ or items() called it "
                               "back); pass plain dicts, or call another %s"
                               % (self._what, self._what))
        if self._lock._is_owned():
            # Held by this thread outside any call: a KeyboardInterrupt
            # raised between the take and the call's block (after
            # acquire() returned), or on entering __exit__ (before its
            # first line; the call's frame is gone from the stack), left
            # it so, and the next call, close() at exit included, waited
            # for ever, or took itself for a re-entry.  Let go, and taken
            # again below.
            self._lock.release()
        if not self._lock.acquire(False):
            with self._count:
                self.waiting += 1
            try:
                self._lock.acquire()
            finally:
                with self._count:
                    self.waiting -= 1
        self._owner, self._call = me, here
        self.turns += 1
        return self

    def __exit__(self, *exc):
        self._owner = self._call = None
        self._lock.release()


def _on_stack(frame, top):
    """Whether frame is top or one of its callers'."""
    while top is not None:
        if top is frame:
            return True
        top = top.f_back
    return False


# Every live scheduler's and orchestrator's lock, held across fork(): a
# child forked while another thread was inside a call inherited that lock
# held by a thread it does not have, and its first call hung for good.
# Orchestrators first, as their calls take their scheduler's lock inside
# their own.
_fork_locks = (weakref.WeakSet(), weakref.WeakSet())
_fork_held = []
_fork_missed = []  # the locks a fork could not take
_FORK_WAIT = 10.0  # seconds a fork waits for each call under way


def _fork_locked(obj, rank):
    _fork_locks[rank].add(obj)


def _before_fork():
    me = _get_ident()
    for group in _fork_locks:
        for obj in sorted(list(group), key=id):
            lock = obj._lock
            if lock._owner == me or lock.broken:
                # the forking thread's own call goes on in the child, and
                # lets go there; a broken one stays broken
                continue
            # not for ever: a thread that never returns (a hook blocked
            # inside a call, a long bench_c chunk) leaves its object
            # unusable in the child instead
            if lock._lock.acquire(timeout=_FORK_WAIT):
                _fork_held.append(lock._lock)
            else:
                _fork_missed.append(lock)


def _after_fork_in_parent():
    while _fork_held:
        _fork_held.pop().release()
    del _fork_missed[:]


def _after_fork_in_child():
    while _fork_held:
        _fork_held.pop().release()
    for group in _fork_locks:
        for obj in list(group):
            # the waiters were threads of the parent, and the count's
            # lock may have been held by one
            obj._lock.waiting = 0
            obj._lock._count = threading.Lock()
    # Its calls raise instead of waiting for a thread that is not here
    while _fork_missed:
        _fork_missed.pop().broken = True


os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                    after_in_child=_after_fork_in_child)

from .orchestrator import MultiDeviceOrchestrator  # noqa: E402  (needs _lib above)
