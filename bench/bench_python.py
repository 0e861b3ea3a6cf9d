#!/usr/bin/env python3
"""bench_python.py -- microseconds per select_worker through the Python
binding at 8, 64 and 512 workers, next to the C select cost measured in the
same run through the same scheduler (lbspy_bench: converted once, selects
timed in C).  The binding's overhead (records -> JSON -> the shim's
converters -> JSON answer -> Python) is the difference.

    bench/run python
    LBSCHED_PY_LIB=build/host-shim/python/liblbsched-py.so \
    PYTHONPATH=host-shim/python python3 bench/bench_python.py [--sizes 8,64,512]

Fleets are examples/fleet.json's twelve workers repeated under new ids;
the test is examples/tests.jsonl's first line (hardware-aware).
Columns: select_worker = the whole call from Python; C select = the
scheduler alone; overhead = the difference, split into Python turning the
records into JSON text and the rest (the shim's converters parsing and
checking that text, ctypes, the answer back to Python).
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


def per_call_us(fn, min_time=0.3):
    n, t = 1, 0.0
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        t = time.perf_counter() - t0
        if t >= min_time:
            return t / n * 1e6
        n *= 2


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
    print("%8s %14s %10s | %14s %16s %10s" % (
        "workers", "select_worker", "C select", "overhead", "py records>JSON",
        "C convert+rest"))
    for n in [int(s) for s in a.sizes.split(",")]:
        workers, loads = fleet(n)
        if sched.select_worker(test, workers, loads, {}) is None:
            sys.exit("bench_python: no worker picked at %d workers" % n)
        py_us = per_call_us(lambda: sched.select_worker(test, workers, loads, {}))
        iters = max(100, int(2e5 / n))
        c_us = sched.bench_c(test, workers, loads, iterations=iters) / 1e3
        prep_us = per_call_us(lambda: (
            lbsched._dumps(lbsched._record(test)),
            lbsched._dumps(lbsched._fleet(workers, loads))))
        over = py_us - c_us
        print("%8d %14.1f %10.2f | %14.1f %16.1f %10.1f" % (
            n, py_us, c_us, over, prep_us, over - prep_us))
    sched.close()


if __name__ == "__main__":
    main()
