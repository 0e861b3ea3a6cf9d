#!/usr/bin/env python3
"""bench_python.py -- microseconds per select_worker through the Python
binding at 8, 64 and 512 workers, with the original framework's records,
against a pure-Python reimplementation of the original's hardware-aware
scheduler (original_model.py) timed in the same process.

    bench/run python
    LBSCHED_PY_LIB=build/host-shim/python/liblbsched-py.so \
    PYTHONPATH=host-shim/python python3 bench/bench_python.py [--sizes 8,64,512]

Records: the original's dataclasses with every field (TestRequirements 16,
WorkerCapabilities 17, WorkerLoad 18: datetimes, a set of active test
ids, reserved accelerators, thermal state).  Fleets are
examples/fleet.json's workers repeated under new ids; the tests are
examples/tests.jsonl's, a different one on each call.
Columns, microseconds of CPU time per call (the median of fifteen timings of 50 ms;
lbsched and the original timed in turns):
  lbsched        select_worker, capabilities as sent before (the common
                 case: only the test and the loads are read and sent)
  C select       the scheduler alone (lbspy_bench, converted once)
  ctypes path    select_worker without _lbsched_fast (LBSCHED_NO_FAST=1)
  caps changed   select_worker when a worker's capabilities changed
  original       the reimplemented original, same records and tests
  ratio          original / lbsched
"""

import argparse
import copy
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..")
sys.path.insert(0, HERE)

import lbsched  # noqa: E402
from original_model import (HardwareAwareScheduler, TestRequirements,  # noqa: E402
                            WorkerCapabilities, WorkerLoad, record)


def fleet(n):
    with open(os.path.join(SRC, "examples", "fleet.json")) as f:
        base = json.load(f)["workers"]
    now = datetime.datetime(2026, 1, 1, 12, 0, 0)
    workers, loads = {}, {}
    for i in range(n):
        w = copy.deepcopy(base[i % len(base)])
        # no "_": the original recovers ids by splitting at "_" (F2)
        w["worker_id"] = "%s-%d" % (w["worker_id"].replace("_", "-"), i)
        w["last_updated"] = now
        load = w.pop("load", None) or {}
        workers[w["worker_id"]] = record(WorkerCapabilities, w)
        active = load.get("active_tests", 0)
        loads[w["worker_id"]] = record(
            WorkerLoad, load, worker_id=w["worker_id"], last_updated=now,
            active_test_ids={"t%d-%d" % (i, k) for k in range(active)},
            queue_depth=load.get("queued_tests", 0))
    return workers, loads


def tests():
    with open(os.path.join(SRC, "examples", "tests.jsonl")) as f:
        return [record(TestRequirements, json.loads(line)) for line in f if line.strip()]


# CPU time of this process, not wall time: on a shared machine (the CI's
# two cores run other jobs) wall time measures the neighbours.
clock = time.process_time


def calls_per_window(fn, window):
    """How many calls of fn take at least `window` seconds of CPU."""
    n = 1
    while True:
        t0 = clock()
        for _ in range(n):
            fn()
        if clock() - t0 >= window:
            return n
        n *= 2


def alternated_us(fns, window=0.05, rounds=15):
    """Microseconds of CPU per call of each of fns: a window of each in
    turn per round, the median of the rounds, as bench_select times its
    reference (a neighbour's burst lands on both sides, not on one)."""
    counts = [calls_per_window(fn, window) for fn in fns]
    times = [[] for _ in fns]
    for _ in range(rounds):
        for fn, n, t in zip(fns, counts, times):
            t0 = clock()
            for _ in range(n):
                fn()
            t.append((clock() - t0) / n * 1e6)
    return [statistics.median(t) for t in times]


def per_call_us(fn, window=0.05, windows=15):
    """Microseconds of CPU per call: the median of `windows` timings of at
    least `window` seconds each."""
    return alternated_us([fn], window, windows)[0]


def cycling(select, ts, workers, loads):
    """A call that selects for the next test each time."""
    state = [0]

    def call():
        t = ts[state[0]]
        state[0] = (state[0] + 1) % len(ts)
        select(t, workers, loads, {})
    return call


def ctypes_path(sizes, plugin):
    """The ctypes path's column, from a child without _lbsched_fast."""
    if not lbsched.FAST:
        return None
    env = dict(os.environ, LBSCHED_NO_FAST="1")
    args = [sys.executable, __file__, "--sizes", sizes, "--only-lbsched"]
    if plugin:
        args += ["--plugin", plugin]
    out = subprocess.run(args, env=env, stdout=subprocess.PIPE, check=True,
                         universal_newlines=True).stdout
    return {int(k): v for k, v in json.loads(out).items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="8,64,512")
    ap.add_argument("--scheduler", default="hardware-aware")
    ap.add_argument("--plugin", default=None)
    ap.add_argument("--only-lbsched", action="store_true")
    a = ap.parse_args()
    ts = tests()
    sizes = [int(s) for s in a.sizes.split(",")]
    sched = lbsched.PluginScheduler(a.scheduler, plugin=a.plugin)
    if a.only_lbsched:
        res = {}
        for n in sizes:
            workers, loads = fleet(n)
            sched.select_worker(ts[0], workers, loads, {})
            res[n] = per_call_us(cycling(sched.select_worker, ts, workers, loads))
        print(json.dumps(res))
        return
    slow = ctypes_path(a.sizes, a.plugin)
    print("%s with the original's records, %d tests in turn; microseconds per call"
          % (a.scheduler, len(ts)))
    print("native part: %s" % ("_lbsched_fast" if lbsched.FAST
                               else "none (%s)" % lbsched.FAST_MISSING))
    print("%8s %9s %9s %12s %13s %10s %7s" % (
        "workers", "lbsched", "C select", "ctypes path", "caps changed",
        "original", "ratio"))
    for n in sizes:
        workers, loads = fleet(n)
        sent = sched.fleets_sent
        for t in ts:
            sched.select_worker(t, workers, loads, {})
        if sched.fleets_sent != sent + 1:
            sys.exit("bench_python: the capabilities were sent more than once")
        orig = HardwareAwareScheduler()
        if all(orig.select_worker(t, workers, loads, {}) is None for t in ts):
            sys.exit("bench_python: the original picked nothing")
        # the ratio's two sides in turns
        py_us, orig_us = alternated_us([cycling(sched.select_worker, ts, workers, loads),
                                        cycling(orig.select_worker, ts, workers, loads)])
        if sched.fleets_sent != sent + 1:
            sys.exit("bench_python: the capabilities were sent again")
        # as the lbsched column: every test in turn, the median of 15
        # rounds, each the mean over the tests (bench_c times the thread's CPU)
        iters = max(100, int(2e4 / n))
        c_us = statistics.median(
            sum(sched.bench_c(t, workers, loads, iterations=iters) for t in ts) / len(ts)
            for _ in range(15)) / 1e3

        first = next(iter(workers.values()))
        memory = first.available_memory
        flip = [0]

        def changed():
            flip[0] ^= 1
            first.available_memory = memory + flip[0]
            sched.select_worker(ts[0], workers, loads, {})
        caps_us = per_call_us(changed, window=0.1, windows=3)
        first.available_memory = memory
        print("%8d %9.1f %9.2f %12s %13.1f %10.1f %6.1fx" % (
            n, py_us, c_us, "%.1f" % slow[n] if slow else "-", caps_us, orig_us,
            orig_us / py_us))
    sched.close()


if __name__ == "__main__":
    main()
