"""MultiDeviceOrchestrator: the original framework's multi-device workloads
(a graph of subtasks with dependencies) over liblbsched-py's orchestrator
(host-shim/orch, docs/ORCHESTRATE.md), with the original's method names.

    o = MultiDeviceOrchestrator(scheduler=lbsched.PluginScheduler())
    o.register_workload("wl", {"name": ..., "aggregation_method": "concat",
                               "subtasks": {"tokenize": {...}, ...}})
    for st in o.get_ready_subtasks("wl"):
        worker = o.place_subtask("wl", st["subtask_id"], available_workers)
        ...
        o.record_subtask_result("wl", st["subtask_id"], result)
    if o.is_workload_completed("wl"):
        o.get_aggregated_results("wl")
        o.remove_workload("wl")   # else it is kept until close()
"""
import ctypes
import json
import math
import time

from . import _lib, _raise, _raise_at, _take, _document, _dumps, _warn, _c_string, _what, \
    _surrogate, _check_fleet_arguments, _mappings, _int_digits, _shown, _ERRLEN, _OK, _EWARNED, \
    _NO_COPY, PluginScheduler, _fork_locked, _CallLock

_vp, _cp, _sz, _d = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_double
_outp = ctypes.POINTER(ctypes.c_void_p)
_lib.lbspy_orch_new.argtypes = [_cp, _cp, _outp, _outp, _cp, _sz]
_lib.lbspy_orch_free.argtypes = [_vp]
_lib.lbspy_orch_free.restype = None
_lib.lbspy_orch_ready.argtypes = [_vp, _d, _outp, _cp, _sz]
_lib.lbspy_orch_place.argtypes = [_vp, _vp, _cp, _d, _cp, ctypes.c_int, _outp, _cp, _sz]
_lib.lbspy_orch_record.argtypes = [_vp, _vp, _cp, ctypes.c_int, _d, _cp, _d, _cp, _d, _outp,
                                   _cp, _sz]
_lib.lbspy_orch_completed.argtypes = [_vp]
_lib.lbspy_orch_aggregate.argtypes = [_vp, _outp, _cp, _sz]
_lib.lbspy_orch_critical_path.argtypes = [_vp, _outp, _cp, _sz]
_lib.lbspy_orch_estimate.argtypes = [_vp, _vp, _cp, ctypes.c_int, _cp, _sz]
_lib.lbspy_orch_subtask.argtypes = [_vp, _cp, _outp, _cp, _sz]
_lib.lbspy_orch_set_priority.argtypes = [_vp, _cp, _d, _cp, _sz]
for _f in ("lbspy_orch_new", "lbspy_orch_ready", "lbspy_orch_place", "lbspy_orch_record",
           "lbspy_orch_completed", "lbspy_orch_aggregate", "lbspy_orch_critical_path",
           "lbspy_orch_estimate", "lbspy_orch_subtask", "lbspy_orch_set_priority"):
    getattr(_lib, _f).restype = ctypes.c_int


def _subtask_id(workload_id, subtask_id):
    """subtask_id as the library takes it: ctypes would cut it at a NUL,
    and 'a\\x00zz' would be subtask 'a'."""
    sid = str(subtask_id)
    _c_string(sid, "%s: subtask %r" % (workload_id, sid), "its id", "a subtask id")
    return sid


def _workload_id(workload_id):
    """A workload id that is not a str: str() made 5 the graph '5' (and
    None 'None'), and a list was TypeError: unhashable type."""
    if not isinstance(workload_id, str):
        raise ValueError("workload_id: must be a str, got %s" % _what(workload_id))


def _number(v, where, name):
    """v as a float, or a ValueError naming the argument."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError("%s: %s must be a number, got %r" % (where, name, v))
    try:
        return float(v)
    except OverflowError:  # an int beyond a double
        raise ValueError("%s: %s must be a number a double can hold, got %s"
                         % (where, name, _int_digits(v))) from None


def _read_from_run(field):
    """A Subtask attribute read from the run each time it is asked."""
    return property(lambda self: self._info()[field])


class Subtask(object):
    """One subtask of a registered workload, what the original's
    get_subtask() gives: subtask_id, workload_id, config (as registered),
    and, read from the run when asked, state, attempts, worker,
    dependencies.  priority (1 highest .. 5) may be set, as the seeds'
    critical-path boost does (subtask.priority -= 1): placement then
    starts from it."""

    __slots__ = ("_o", "workload_id", "subtask_id", "config")

    def __init__(self, orchestrator, workload_id, subtask_id, config):
        self._o = orchestrator
        self.workload_id = workload_id
        self.subtask_id = subtask_id
        self.config = config

    def _info(self):
        o = self._o
        with o._lock:
            h, _ = o._get(self.workload_id)
            return o._call(_lib.lbspy_orch_subtask, h, self.subtask_id.encode("utf-8"))

    @property
    def priority(self):
        return self._info()["priority"]

    @priority.setter
    def priority(self, value):
        # float(10**400) overflows, and past 5 an int is refused anyway
        number = not isinstance(value, bool) and (isinstance(value, float) or (
            isinstance(value, int) and value <= 5))
        if number and value < 1 and (isinstance(value, int) or value.is_integer()):
            # The seeds' boost (priority -= 1) of a subtask already at 1:
            # the highest stays the highest, as the orchestrator's own
            # critical-path boost stops at 1
            value = 1
        err = ctypes.create_string_buffer(_ERRLEN)
        o = self._o
        with o._lock:
            h, _ = o._get(self.workload_id)
            code = _lib.lbspy_orch_set_priority(h, self.subtask_id.encode("utf-8"),
                                                float(value) if number else math.nan,
                                                err, _ERRLEN)
        if code != _OK:
            # the library's words start with the workload and subtask, cut
            # as every orchestrator error cuts them; what was given is
            # Python's to name
            msg = err.value.decode("utf-8", "replace")
            if not number and msg.endswith(" got nan"):
                msg = msg[:-3] + (_shown(value) if type(value) is int else _what(value))
            raise ValueError(msg)

    state = _read_from_run("state")
    attempts = _read_from_run("attempts")
    worker = _read_from_run("worker")
    dependencies = _read_from_run("dependencies")

    def __repr__(self):
        return "Subtask(%r, %r)" % (self.workload_id, self.subtask_id)


def _subtask_config(config, subtask_id):
    """A subtask's config as registered (subtasks as an object or a list)."""
    subs = config.get("subtasks", {}) if isinstance(config, dict) else {}
    if isinstance(subs, dict):
        return subs.get(subtask_id)
    return next((s for s in subs if isinstance(s, dict) and s.get("subtask_id") == subtask_id),
                None)


class MultiDeviceOrchestrator(object):
    """Workloads made of subtasks, by workload id.

    workload_manager: accepted for the original's signature and unused.
    scheduler: a PluginScheduler for place_subtask() and for estimates
    (estimate_durations()); None when the caller places subtasks itself.
    report_results: True to report each result recorded for a run placed
    through place_subtask to that scheduler, as its outcome (the caller
    then reports none of them itself); False, the original's way, leaves
    reporting to the caller.
    Thread-safe: one lock around every call."""

    def __init__(self, workload_manager=None, scheduler=None, report_results=False):
        self.scheduler = scheduler
        if not isinstance(report_results, bool):
            raise ValueError("report_results: must be True or False, got %r"
                             % (report_results,))
        # Opt-in: code written for the original reports its runs itself,
        # and would teach each twice; no bookkeeping on the scheduler's
        # side can tell two reports of one run from two runs of one test.
        self._report = report_results
        self.workload_manager = workload_manager
        self._lock = _CallLock("orchestrator")
        _fork_locked(self, 0)
        self._w = {}       # workload id -> (handle, config)
        # workload id -> subtask id -> the scheduler of its run placed
        # through place_subtask, to which its result goes (report_results)
        self._placed = {}
        # workload ids whose run has a subtask placed or a result recorded
        self._started = set()
        self._closed = False
        self._t0 = time.monotonic()

    @property
    def scheduler(self):
        """The PluginScheduler placements and estimates go through, or None."""
        return self._scheduler

    @scheduler.setter
    def scheduler(self, scheduler):
        # Checked on every assignment, not only in __init__: one assigned
        # later was AttributeError: no attribute '_lock' at place_subtask
        if scheduler is not None and not isinstance(scheduler, PluginScheduler):
            raise ValueError("scheduler: must be a lbsched.PluginScheduler or None, got %s"
                             % _what(scheduler))
        self._scheduler = scheduler

    def _now(self):
        return time.monotonic() - self._t0

    def _open(self):
        # after close() old ids were KeyError "no workload ... registered",
        # and register_workload and place_subtask went on working
        if self._closed:
            raise ValueError("lbsched: the orchestrator is closed")

    def _get(self, workload_id):
        self._open()
        _workload_id(workload_id)
        try:
            return self._w[workload_id]
        except KeyError:
            raise KeyError("lbsched: no workload %r is registered" % (workload_id,))

    def _in_progress(self, workload_id):
        """Whether workload_id's run has started and neither completed nor
        failed; self._lock held."""
        w = self._w.get(workload_id)
        return bool(w) and workload_id in self._started and _lib.lbspy_orch_completed(w[0]) == 0

    def _refuse_in_progress(self, workload_id):
        """A ValueError when the orchestrator is closed, or when registering
        workload_id again would free a run in progress: its completed
        subtasks' results were lost, silently.  self._lock held."""
        self._open()
        if self._in_progress(workload_id):
            raise ValueError("register_workload: workload %r is in progress (a subtask "
                             "placed or a result recorded, and it has neither completed nor "
                             "failed): registering it again would drop its run; register the "
                             "graph under another id" % (workload_id,))

    def _call(self, fn, *args, at=None):
        """fn's answer; at: (where, worker_loads) of a fleet document, so
        that an error names the caller's keys.  None when fn held back
        for the records' warnings (_EWARNED)."""
        err = ctypes.create_string_buffer(_ERRLEN)
        out = ctypes.c_void_p()
        code = fn(*args, ctypes.byref(out), err, _ERRLEN)
        if code == _EWARNED:
            return None
        if code != _OK:
            if at is not None:
                _raise_at(code, err, *at)
            _raise(code, err)
        return json.loads(_take(out))

    def register_workload(self, workload_id, config):
        """Validate the graph (cycles, missing dependencies, fields: a
        ValueError naming the subtask) and register it.  Unknown fields
        are RecordWarnings; one made an error (-W error) raises and
        registers nothing.  Registering an id again replaces its run when
        that ended or never started; one in progress is a ValueError."""
        # the library names the graph by its id in every message: ctypes
        # would cut it at a NUL, and a surrogate would not encode
        _workload_id(workload_id)
        _c_string(workload_id, "register_workload", "the workload id", "a workload id")
        with self._lock:
            # before the graph's warnings: a call refused issues none
            self._refuse_in_progress(workload_id)
        # the package's JSON: records (TestRequirements) as their fields,
        # NaN named by its field
        if isinstance(config, str):
            # the library reads the text as a C string: a NUL would cut
            # it, and the rest be checked by nobody
            if "\x00" in config:
                raise ValueError("%s: the graph's text must not hold a NUL character "
                                 "(at character %d)" % (workload_id, config.index("\x00")))
            if _surrogate(config) is not None:
                raise ValueError("%s: the graph's text must not hold a surrogate code point "
                                 "(U+%04X), which UTF-8 cannot carry"
                                 % (workload_id, ord(_surrogate(config))))
            text = config.encode("utf-8")
        else:
            text = _dumps(config, str(workload_id))
        err = ctypes.create_string_buffer(_ERRLEN)
        h = ctypes.c_void_p()
        w = ctypes.c_void_p()
        code = _lib.lbspy_orch_new(text, str(workload_id).encode("utf-8"),
                                   ctypes.byref(h), ctypes.byref(w), err, _ERRLEN)
        if code != _OK:
            _raise(code, err)
        said = _take(w).splitlines() if w.value else ()
        try:
            _warn(said)
            registered = json.loads(text)
        except BaseException as e:
            # a warning made an error, or text the library took and
            # Python's json does not: the graph is not registered
            _lib.lbspy_orch_free(h)
            if isinstance(e, json.JSONDecodeError):
                raise ValueError("%s: not valid JSON: %s" % (workload_id, e)) from None
            raise
        with self._lock:
            try:
                # again: another thread may have placed a subtask since
                self._refuse_in_progress(workload_id)
            except ValueError:
                _lib.lbspy_orch_free(h)
                raise
            old = self._w.pop(workload_id, None)
            if old:
                _lib.lbspy_orch_free(old[0])
            self._w[workload_id] = (h, registered)
            self._placed[workload_id] = {}
            self._started.discard(workload_id)

    def get_ready_subtasks(self, workload_id):
        """Subtasks whose dependencies are done: critical path first, then
        upward rank, then id.  Each a dict with subtask_id, config (as
        registered, its requirements those the next placement uses: after
        an "alternate" recovery, the alternate's at the subtask's priority),
        alternate (0: the
        declared requirements, k: alternates[k-1]), critical_path,
        upward_rank, est_s, attempts."""
        with self._lock:
            h, config = self._get(workload_id)
            ready = self._call(_lib.lbspy_orch_ready, h, self._now())
            for r in ready:
                c = _subtask_config(config, r["subtask_id"])
                k = r["alternate"]
                if k and isinstance(c, dict):
                    # What the next placement uses, not what was registered:
                    # the alternate at the subtask's priority (its own
                    # "priority", a set one), not the alternate's
                    alt = dict(c["alternates"][k - 1])
                    alt["priority"] = self._call(_lib.lbspy_orch_subtask, h, r["subtask_id"]
                                                 .encode("utf-8"))["priority"]
                    c = dict(c, requirements=alt)
                r["config"] = c
        return ready

    def get_subtask(self, workload_id, subtask_id):
        """The original's get_subtask: a Subtask whose priority may be
        changed (subtask.priority -= 1) before it is placed.  KeyError for
        an unknown workload, ValueError for an unknown subtask."""
        self._open()  # before the arguments' checks
        sid = _subtask_id(workload_id, subtask_id)
        with self._lock:
            h, config = self._get(workload_id)
            self._call(_lib.lbspy_orch_subtask, h, sid.encode("utf-8"))
        return Subtask(self, workload_id, sid, _subtask_config(config, sid))

    def place_subtask(self, workload_id, subtask_id, available_workers, worker_loads=None):
        """One select through the scheduler for a ready subtask, never on a
        worker it failed on under "reassign".  The worker id, or None."""
        self._open()  # before the arguments' checks and warnings
        if self.scheduler is None:
            raise ValueError("lbsched: place_subtask needs a scheduler")
        sid = _subtask_id(workload_id, subtask_id)
        available_workers, worker_loads = _mappings(available_workers, worker_loads)
        _check_fleet_arguments(available_workers, worker_loads)
        fleet, where = _document(available_workers, worker_loads)
        # before the placement: one made an error (-W error) places nothing
        _warn(where.said)
        # The library's own (a misspelt field) likewise: the first call
        # stops when the records warn, the second, after they are issued,
        # places (and does not issue them again)
        for hold in (1, 0):
            with self._lock:
                h, _ = self._get(workload_id)
                sched = self.scheduler
                with sched._lock:
                    r = self._call(_lib.lbspy_orch_place, h, sched._handle(),
                                   sid.encode("utf-8"), self._now(), fleet, hold,
                                   at=(where, worker_loads))
                    if r is None:
                        said = sched._warnings(where, worker_loads, where.own)
                    elif r["worker"] is not None:
                        self._started.add(workload_id)
                        if self._report:
                            self._placed[workload_id][sid] = sched
            if r is not None:
                return r["worker"]
            _warn(said)

    def estimate_durations(self, workload_id, available_workers, worker_loads=None):
        """Each subtask's estimate from the scheduler (hardware-aware's
        run_s on its likely worker), which the ranks then use."""
        self._open()  # before the arguments' checks and warnings
        if self.scheduler is None:
            raise ValueError("lbsched: estimate_durations needs a scheduler")
        available_workers, worker_loads = _mappings(available_workers, worker_loads)
        _check_fleet_arguments(available_workers, worker_loads)
        fleet, where = _document(available_workers, worker_loads)
        _warn(where.said)  # before the estimates change, as place_subtask
        err = ctypes.create_string_buffer(_ERRLEN)
        for hold in (1, 0):
            with self._lock:
                h, _ = self._get(workload_id)
                with self.scheduler._lock:
                    code = _lib.lbspy_orch_estimate(h, self.scheduler._handle(), fleet, hold,
                                                    err, _ERRLEN)
                    said = self.scheduler._warnings(where, worker_loads, where.own) \
                        if code == _EWARNED else ()
            if code == _OK:
                return
            if code != _EWARNED:
                _raise_at(code, err, where, worker_loads)
            _warn(said)

    def record_subtask_result(self, workload_id, subtask_id, result, success=True,
                              duration=None, progress=0.0, worker_id=None):
        """Record a subtask's result (any JSON value).  A failure
        (success=False) is recovered at once by the subtask's strategy;
        returns {"state", "recovery", "delay_s"}.  With report_results,
        the result of a run placed through place_subtask is also that
        scheduler's outcome (success, duration, on worker_id or the worker
        placed), learned under the subtask's type; without a duration it
        is recorded only (a run of 0 s would teach a false speed), and a
        RecordWarning says so."""
        self._open()  # before the arguments' checks and warnings
        sid = _subtask_id(workload_id, subtask_id)
        where = "%s: subtask '%s'" % (workload_id, sid)
        if not isinstance(success, bool):
            # "false" or 0.0 was truthy, or not, and recorded as such;
            # report() refuses them too
            raise ValueError("%s: success must be True or False, got %r" % (where, success))
        # big: 10**400 went as its digits and came back null
        # a result is the caller's payload, not a record: JSON's own
        # rules for its keys, as for its values
        payload = _dumps(result, where + ": result", big=True, keys=False)
        timed = duration is not None
        duration, progress = _number(duration if timed else 0.0, where, "duration"), \
            _number(progress, where, "progress")
        if worker_id is not None:
            # ctypes would cut 'gpu\x00zz' to 'gpu', and a non-str has no
            # encode: both named here, as a subtask id is
            if not isinstance(worker_id, str):
                raise ValueError("%s: worker_id must be a string, got %r" % (where, worker_id))
            _c_string(worker_id, where, "worker_id")
        closed = False
        with self._lock:
            h, _ = self._get(workload_id)
            sched = self._placed[workload_id].get(sid)
            if sched is not None and timed:
                with sched._lock:
                    # closed since it placed the run: the result is still
                    # the workload's, recorded, and said not to teach
                    closed = sched._h is None
                    r = self._record(h, sched._h, sid, success, duration, payload, progress,
                                     worker_id)
            else:
                r = self._record(h, None, sid, success, duration, payload, progress,
                                 worker_id)
            # only once recorded: a record refused (progress out of range)
            # leaves the run to the caller's corrected one
            self._placed[workload_id].pop(sid, None)
            self._started.add(workload_id)
        refused = r.pop("report_error", None)
        del r["reported"]
        if refused:
            _warn(["%s: the result is recorded, but the scheduler refused it as an outcome: %s"
                   % (where, refused)])
        elif closed:
            _warn(["%s: the result is recorded, but not reported to the scheduler: it was "
                   "closed since it placed the subtask (report_results)" % where])
        elif sched is not None and not timed and sched.learns:
            _warn(["%s: the result is recorded, but not reported to the scheduler: no "
                   "duration was given (report_results)" % where])
        return r

    def _record(self, h, sched, sid, success, duration, payload, progress, worker_id):
        """lbspy_orch_record's answer; sched: the scheduler's handle the
        result goes to as an outcome, or None; self._lock held."""
        return self._call(_lib.lbspy_orch_record, h, sched, sid.encode("utf-8"),
                          int(success), duration, payload, progress,
                          worker_id.encode("utf-8") if worker_id else None, self._now())

    def is_workload_completed(self, workload_id):
        """True when every subtask completed or was skipped."""
        with self._lock:
            h, _ = self._get(workload_id)
            return _lib.lbspy_orch_completed(h) == 1

    def is_workload_failed(self, workload_id):
        """True when a subtask failed beyond its recovery."""
        with self._lock:
            h, _ = self._get(workload_id)
            return _lib.lbspy_orch_completed(h) == -1

    def get_aggregated_results(self, workload_id):
        """{"name", "aggregation_method", "completed", "result", "skipped",
        "lost"}; result by the method (concat: the results in subtask
        order)."""
        with self._lock:
            h, _ = self._get(workload_id)
            return self._call(_lib.lbspy_orch_aggregate, h)

    def analyze_critical_path(self, workload_id):
        """The critical path's subtask ids, entry to exit."""
        return self.critical_path_details(workload_id)["path"]

    def critical_path_details(self, workload_id):
        """{"path": [ids], "length_s", "ranks": {id: upward rank}}."""
        with self._lock:
            h, _ = self._get(workload_id)
            return self._call(_lib.lbspy_orch_critical_path, h)

    def remove_workload(self, workload_id):
        """Forget a workload and free its run (about 4 KB for a small
        graph, docs/PYTHON.md), so that a service registering one workload
        per request under a new id does not grow without bound.  One that
        completed, failed, or never started may go; one in progress (a
        subtask placed or a result recorded, and neither completed nor
        failed) is a ValueError, as registering it again is.  KeyError for
        an id not registered.  The original kept every workload until the
        process ended and had no such call.  With report_results, a failed
        one whose other subtasks are still placed without a result is a
        ValueError too: their results, recorded after it went, would reach
        neither it nor the scheduler, which would never learn of those
        placements."""
        with self._lock:
            h, _ = self._get(workload_id)
            if self._in_progress(workload_id):
                raise ValueError("remove_workload: workload %r is in progress (a subtask "
                                 "placed or a result recorded, and it has neither completed "
                                 "nor failed): record its subtasks' results until it does, "
                                 "then remove it" % (workload_id,))
            running = sorted(self._placed.get(workload_id, {}))
            if running:
                raise ValueError("remove_workload: workload %r failed, but its subtask%s %s "
                                 "%s still placed without a result: record %s, then remove "
                                 "it" % (workload_id, "s" if len(running) > 1 else "",
                                         ", ".join(repr(s) for s in running),
                                         "are" if len(running) > 1 else "is",
                                         "their results" if len(running) > 1 else "its result"))
            del self._w[workload_id]
            self._placed.pop(workload_id, None)
            self._started.discard(workload_id)
            _lib.lbspy_orch_free(h)

    def close(self):
        """Frees every run; any call after it is a ValueError (closing
        again is not)."""
        if self._lock.broken:
            # forked mid-call: the runs may be half changed; the parent's
            # to free
            self._closed = True
            self._w.clear()
            return
        with self._lock:
            self._closed = True
            for h, _ in self._w.values():
                _lib.lbspy_orch_free(h)
            self._w.clear()
            self._placed.clear()
            self._started.clear()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    # A copy would share the runs' handles: the first of the two collected
    # would free every registered workload under the other.
    def _no_copy(self, *args):
        raise TypeError(_NO_COPY % (type(self).__name__, "it owns its workloads' runs; "
                                    "create another and register them again"))

    __copy__ = __deepcopy__ = __reduce__ = __reduce_ex__ = _no_copy
