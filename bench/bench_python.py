#!/usr/bin/env python3
"""bench_python.py -- microseconds per select_worker through the Python
binding at 8, 64 and 512 workers, next to the C select cost measured in the
same run through the same scheduler (lbspy_bench: converted once, selects
timed in C).  The binding's overhead is the difference.

    bench/run python
    LBSCHED_PY_LIB=build/host-shim/python/liblbsched-py.so \
    PYTHONPATH=host-shim/python python3 bench/bench_python.py [--sizes 8,64,512]

Fleets are examples/fleet.json's twelve workers repeated under new ids,
as attribute records; the test is examples/tests.jsonl's first line.
Columns, microseconds per call (the best of five timings):
  select_worker  the whole call from Python, capabilities as sent before
                 (the binding compares them and sends only the loads)
  C select       the scheduler alone
  overhead       the difference, split into
    python       the test to JSON, the capabilities compared with those
                 sent, the loads read into numbers
    ctypes+C     the call, the test converted, the loads checked and put
                 on the workers, the answer
  caps changed   select_worker when a worker's capabilities changed since
                 the last call: all of them sent and converted again
  vs original    the original Python hardware-aware's published time
                 (seed-behaviour.md; 8, 64, 512 workers) divided by
                 select_worker: how many times faster the binding is
"""

import argparse
import copy
import dataclasses
import json
import os
import sys
import time

import lbsched

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


@dataclasses.dataclass
class Record:
    """Stands in for the original's dataclasses: read by field names."""


def as_object(d):
    r = Record()
    for k, v in d.items():
        setattr(r, k, v)
    return r


def fleet(n):
    with open(os.path.join(SRC, "examples", "fleet.json")) as f:
        base = json.load(f)["workers"]
    workers, loads = {}, {}
    for i in range(n):
        w = copy.deepcopy(base[i % len(base)])
        w["worker_id"] = "%s_%d" % (w["worker_id"], i)
        load = w.pop("load", None)
        workers[w["worker_id"]] = as_object(w)
        if load is not None:
            loads[w["worker_id"]] = as_object(load)
    return workers, loads


def per_call_us(fn, window=0.1, windows=5):
    """Microseconds per call: the best of `windows` timings of at least
    `window` seconds each, since on a shared machine the slow ones measure
    the neighbours."""
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        if time.perf_counter() - t0 >= window:
            break
        n *= 2
    best = None
    for _ in range(windows):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        t = (time.perf_counter() - t0) / n * 1e6
        best = t if best is None or t < best else best
    return best


# The original's mean microseconds per select_worker (seed-behaviour.md,
# "Measured cost of the original"), another machine: for scale only.
ORIGINAL_US = {8: (72, 87), 64: (720, 860), 512: (4400, 5200)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="8,64,512")
    ap.add_argument("--scheduler", default="hardware-aware")
    ap.add_argument("--plugin", default=None)
    a = ap.parse_args()
    with open(os.path.join(SRC, "examples", "tests.jsonl")) as f:
        test = as_object(json.loads(f.readline()))
    sched = lbsched.PluginScheduler(a.scheduler, plugin=a.plugin)
    print("%s, test %s; microseconds per call" % (a.scheduler, test.test_id))
    print("%8s %14s %9s | %9s %9s %9s | %12s %12s" % (
        "workers", "select_worker", "C select", "overhead", "python",
        "ctypes+C", "caps changed", "vs original"))
    for n in [int(s) for s in a.sizes.split(",")]:
        workers, loads = fleet(n)
        if sched.select_worker(test, workers, loads, {}) is None:
            sys.exit("bench_python: no worker picked at %d workers" % n)
        py_us = per_call_us(lambda: sched.select_worker(test, workers, loads, {}))
        iters = max(100, int(2e5 / n))
        c_us = sched.bench_c(test, workers, loads, iterations=iters) / 1e3

        def python_side():
            lbsched._dumps(lbsched._record(test))
            views, own = lbsched._views(list(workers.values()))
            f = sched._fleet
            if not f.same(list(workers), views):
                sys.exit("bench_python: the capabilities were not kept")
            lbsched._numeric_loads(
                lbsched._loads(f.ids, list(workers), loads, own), f.ids)
        prep_us = per_call_us(python_side)

        first = next(iter(workers.values()))
        memory = first.available_memory
        flip = [0]

        def changed():
            flip[0] ^= 1
            first.available_memory = memory + flip[0]
            sched.select_worker(test, workers, loads, {})
        caps_us = per_call_us(changed)
        first.available_memory = memory

        over = py_us - c_us
        orig = ORIGINAL_US.get(n)
        vs = "%.1f-%.1fx" % (orig[0] / py_us, orig[1] / py_us) if orig else "-"
        print("%8d %14.1f %9.2f | %9.1f %9.1f %9.1f | %12.1f %12s" % (
            n, py_us, c_us, over, prep_us, over - prep_us, caps_us, vs))
    sched.close()


if __name__ == "__main__":
    main()
