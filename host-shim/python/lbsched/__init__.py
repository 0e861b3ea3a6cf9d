"""lbsched from Python: the lbsched schedulers as drop-in scheduling
algorithms for the original framework's Python load balancer.

    import lbsched
    sched = lbsched.PluginScheduler("hardware-aware")
    worker_id = sched.select_worker(test_requirements, available_workers,
                                    worker_loads, performance_data)

select_worker has the original SchedulingAlgorithm interface: the original
dataclass objects (TestRequirements, WorkerCapabilities, WorkerLoad), read
by their field names, or plain dicts with the same keys.  The records are
turned into JSON here and converted to the ABI's structs by the shim's own
converters in liblbsched-py.so (host-shim/python/lbsched_py.c); this module
holds no copy of the mapping.

Standard library only.  One scheduler may be used from several threads:
calls on it are serialised (docs/PYTHON.md).
"""

import ctypes
import datetime
import enum
import json
import os
import threading

__all__ = ["PluginScheduler", "create_scheduler", "SCHEDULER_TYPES"]

# Codes from lbsched_py.h.
_OK, _EINPUT, _EREFUSED, _EOPEN, _EUNSUPPORTED, _ENOMEM, _EFAILED = range(7)
_ERRLEN = 1024


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
    lib.lbspy_report.argtypes = [vp, cp, cp, sz]
    lib.lbspy_explain.argtypes = [vp, cp, cp, outp, cp, sz]
    lib.lbspy_stats.argtypes = [vp, outp, cp, sz]
    lib.lbspy_bench.argtypes = [vp, cp, cp, ctypes.c_uint,
                                ctypes.POINTER(ctypes.c_double), cp, sz]
    lib.lbspy_free.argtypes = [vp]
    lib.lbspy_free.restype = None
    for f in ("lbspy_open", "lbspy_select", "lbspy_report", "lbspy_explain",
              "lbspy_stats", "lbspy_bench"):
        getattr(lib, f).restype = ctypes.c_int
    return lib


_lib = _load()


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

def _record(x):
    """One record's fields, shallow: a dataclass's fields plus any ad-hoc
    attributes (the original's example bolts custom_properties on), or a
    plain object's attributes; a dict as it is."""
    if isinstance(x, dict):
        return x
    try:
        d = vars(x)  # a dataclass's fields and any ad-hoc attributes
    except TypeError:
        fields = getattr(x, "__dataclass_fields__", None)  # slots=True
        if not fields:
            raise ValueError("lbsched: cannot read a %s as a record"
                             % type(x).__name__) from None
        d = {k: getattr(x, k) for k in fields if hasattr(x, k)}
    return {k: v for k, v in d.items() if k[:1] != "_"}


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


def _dumps(obj):
    try:
        return json.dumps(obj, default=_default, allow_nan=False,
                          separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as e:
        raise ValueError("lbsched: %s" % e) from e


def _fleet(available_workers, worker_loads):
    """The workers in the caller's order, each with its load (if any) as
    "load": what the shim's conv_fleet takes."""
    if isinstance(available_workers, dict):
        items = list(available_workers.items())
    else:
        items = [(None, w) for w in available_workers]
    loads = worker_loads or {}
    fleet = []
    for key, caps in items:
        w = dict(_record(caps))
        if "worker_id" not in w and key is not None:
            w["worker_id"] = str(key)
        wid = w.get("worker_id")
        load = loads.get(wid, loads.get(key)) if hasattr(loads, "get") else None
        if load is not None and "load" not in w:
            w["load"] = load
        fleet.append(w)
    return fleet


# ----- schedulers ---------------------------------------------------------

class PluginScheduler(object):
    """An lbsched scheduler with the original SchedulingAlgorithm interface.

    scheduler: a name the plugin has ("hardware-aware", "priority",
    "round-robin", "composite").  plugin: path of an lbsched plugin .so,
    None for the one built or installed with this package.  config: the
    scheduler's config as a dict or JSON text (e.g. {"store": {"path":
    "/var/lib/lbsched/prefs"}} for a persistent learned store).

    Raises ValueError (unknown scheduler, bad config), ImportError (the
    plugin was refused: wrong ABI major, ...) or OSError (no such plugin).
    """

    def __init__(self, scheduler="hardware-aware", plugin=None, config=None):
        self.scheduler = scheduler
        self.last_reason = ""
        self._lock = threading.Lock()
        self._h = None
        if isinstance(config, (dict, list)):
            config = json.dumps(config)
        err = ctypes.create_string_buffer(_ERRLEN)
        h = ctypes.c_void_p()
        code = _lib.lbspy_open(
            os.fsencode(plugin) if plugin is not None else None,
            scheduler.encode("utf-8"),
            config.encode("utf-8") if config is not None else None,
            ctypes.byref(h), err, _ERRLEN)
        if code != _OK:
            _raise(code, err)
        self._h = h

    # The handle is used under self._lock so that close() never frees it
    # while another thread is inside a call; the C library has its own
    # per-handle mutex for C callers as well.
    def _handle(self):
        if self._h is None:
            raise ValueError("lbsched: the scheduler is closed")
        return self._h

    def close(self):
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

    def _select(self, test_requirements, available_workers, worker_loads, maxn):
        if not available_workers:
            self.last_reason = "no available workers"
            return []
        test = _dumps(_record(test_requirements))
        fleet = _dumps(_fleet(available_workers, worker_loads))
        err = ctypes.create_string_buffer(_ERRLEN)
        out = ctypes.c_void_p()
        with self._lock:
            code = _lib.lbspy_select(self._handle(), test, fleet, maxn,
                                     ctypes.byref(out), err, _ERRLEN)
        if code != _OK:
            _raise(code, err)
        res = json.loads(_take(out))
        self.last_reason = res.get("reason", "")
        return res["workers"] if res["status"] == "ok" else []

    def select_worker(self, test_requirements, available_workers,
                      worker_loads=None, performance_data=None):
        """The original interface: a worker id, or None when no worker is
        eligible.  available_workers: dict worker_id -> WorkerCapabilities
        (or a list of them); worker_loads: dict worker_id -> WorkerLoad, may
        lack entries.  performance_data is accepted for compatibility and
        not read: lbsched schedulers learn from report()."""
        ids = self._select(test_requirements, available_workers, worker_loads, 0)
        return ids[0] if ids else None

    def select_workers(self, test_requirements, available_workers,
                       worker_loads=None, performance_data=None, max_workers=0):
        """All the workers of a sharded or replicated placement (a list,
        empty when none is eligible); max_workers 0 = as many as chosen."""
        return self._select(test_requirements, available_workers,
                            worker_loads, max_workers)

    def report(self, test_id, worker_id, success, duration_s, status=None,
               test_type=None, expected_duration=None):
        """Feed one outcome to the scheduler's learning.  Returns True when
        the scheduler learned from it, False when it does not learn."""
        o = {"test_id": test_id, "worker_id": worker_id,
             "success": bool(success), "duration": duration_s}
        if status is not None:
            o["status"] = status
        if test_type is not None:
            o["test_type"] = test_type
        if expected_duration is not None:
            o["expected_duration"] = expected_duration
        err = ctypes.create_string_buffer(_ERRLEN)
        with self._lock:
            code = _lib.lbspy_report(self._handle(), _dumps(o), err, _ERRLEN)
        if code == _EUNSUPPORTED:
            return False
        if code != _OK:
            _raise(code, err)
        return True

    def explain(self, test_requirements, available_workers,
                worker_loads=None, performance_data=None):
        """The plugin's explanation of its choice, as a dict."""
        test = _dumps(_record(test_requirements))
        fleet = _dumps(_fleet(available_workers, worker_loads))
        err = ctypes.create_string_buffer(_ERRLEN)
        out = ctypes.c_void_p()
        with self._lock:
            code = _lib.lbspy_explain(self._handle(), test, fleet,
                                      ctypes.byref(out), err, _ERRLEN)
        if code != _OK:
            _raise(code, err)
        return json.loads(_take(out))

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
        """Mean nanoseconds of the C select alone (converted once), through
        this scheduler: the cost the binding adds is the rest."""
        test = _dumps(_record(test_requirements))
        fleet = _dumps(_fleet(available_workers, worker_loads))
        err = ctypes.create_string_buffer(_ERRLEN)
        ns = ctypes.c_double()
        with self._lock:
            code = _lib.lbspy_bench(self._handle(), test, fleet, iterations,
                                    ctypes.byref(ns), err, _ERRLEN)
        if code != _OK:
            _raise(code, err)
        return ns.value


# The original factory's names, and lbsched's names for them.
SCHEDULER_TYPES = {
    "round_robin": "round-robin",
    "priority_based": "priority",
    "hardware_aware": "hardware-aware",
    "composite": "composite",
}


def create_scheduler(scheduler_type, **kwargs):
    """The original create_scheduler: "round_robin", "priority_based",
    "hardware_aware", or "composite" with algorithms=[{"type", "weight"}].
    Other keyword arguments: plugin, config.  The original's other types
    have no lbsched scheduler yet and raise ValueError, as unknown types
    did in the original."""
    plugin = kwargs.pop("plugin", None)
    config = kwargs.pop("config", None)
    name = SCHEDULER_TYPES.get(scheduler_type)
    if name is None:
        raise ValueError("Unknown scheduler type: %s (lbsched has %s)" %
                         (scheduler_type, ", ".join(sorted(SCHEDULER_TYPES))))
    if scheduler_type == "composite":
        algorithms = kwargs.pop("algorithms", None)
        if not algorithms:
            raise ValueError("composite: algorithms=[{type, weight}] is required")
        children = []
        for a in algorithms:
            child = SCHEDULER_TYPES.get(a.get("type"))
            if child is None or child == "composite":
                raise ValueError("composite: unknown algorithm type: %s"
                                 % a.get("type"))
            c = {"scheduler": child, "weight": a.get("weight", 1.0)}
            if a.get("config") is not None:
                c["config"] = a["config"]
            children.append(c)
        config = dict(config or {}, children=children)
    if kwargs:
        raise ValueError("%s: unknown arguments: %s"
                         % (scheduler_type, ", ".join(sorted(kwargs))))
    return PluginScheduler(name, plugin=plugin, config=config)
