#!/usr/bin/env python3
"""make_result.py -- a plausible `lbsched-shim simulate --json` result for the
report's tests, from a toy queueing simulation (not the real simulator: the
renderer only needs data of the right shape that looks like a real run).

  make_result.py [--workers N] [--types N] [--runs a,b,c] [--tests N]
                 [--curve-points N] [--seed S] > result.json

With no options it writes the committed fixture (fixture.json): 4 workers,
3 types, hardware-aware / round-robin / oracle.
"""
import argparse
import json
import math
import random

BASE_WORKERS = [
    ("gpu-a100-1", 2, {"vision": 4.0, "nlp": 3.5, "tabular": 1.2}),
    ("gpu-t4-1", 1, {"vision": 2.0, "nlp": 1.6, "tabular": 1.0}),
    ("cpu-epyc-1", 2, {"vision": 0.6, "nlp": 0.5, "tabular": 1.5}),
    ("npu-edge-1", 1, {"vision": 2.6, "nlp": 0.8, "tabular": 0.7}),
]
BASE_TYPES = ["vision_image_classification", "nlp_text_generation", "tabular_regression"]
FAMILY = ["vision", "nlp", "tabular"]
THROTTLE_AFTER = 300.0
THROTTLE_FACTOR = 0.6


def fleet(n, ntypes, rng):
    workers = []
    for i in range(n):
        name, cap, speed = BASE_WORKERS[i % len(BASE_WORKERS)]
        if n > len(BASE_WORKERS):
            name = "%s-%03d" % (name.rsplit("-", 1)[0], i)
        jitter = [rng.uniform(0.8, 1.2) for _ in range(ntypes)]
        workers.append({
            "id": name, "capacity": cap,
            "speed": [speed[FAMILY[t % 3]] * jitter[t] for t in range(ntypes)],
            "failure_rate": 0.002 + 0.01 * (i % 3 == 2),
        })
    return workers


def simulate(sched, workers, tests, types, args, rng_seed):
    rng = random.Random(rng_seed)
    nw, nt = len(workers), len(types)
    slots = [[0.0] * w["capacity"] for w in workers]
    busy = [[] for _ in workers]            # (start, end) per worker
    learned = [[None] * nw for _ in range(nt)]
    assign = [[0] * nt for _ in range(nw)]
    eff = [[[] for _ in range(nw)] for _ in range(nt)]
    done, durations = [], []
    failures = misses = unplaced = 0
    rr = 0
    cand_n = min(nw, 16)
    for k, (arrival, t, expected, deadline) in enumerate(tests):
        if t == nt - 1 and k % 97 == 0 and sched == "round-robin":
            unplaced += 1               # a rotation ignores a hard requirement here
            done.append(None)
            continue
        cands = range(nw) if nw <= 16 else rng.sample(range(nw), cand_n)

        def finish(w, speed, noise=1.0):
            return max(arrival, min(slots[w])) + expected / speed * noise

        if sched == "round-robin":
            w = rr % nw
            rr += 1
        elif sched == "oracle":
            w = min(cands, key=lambda w: finish(w, workers[w]["speed"][t]))
        else:
            # learns speeds from outcomes; the prior is 1.0, the slack of
            # an untuned variant makes it a little worse
            slack = 0.1 if sched == "hardware-aware" else 0.15 * (sum(map(ord, sched)) % 7 + 1) / 7
            slack += 3.0 * math.exp(-k / 250)   # unsure early on
            def est(w):
                s = learned[t][w]
                return finish(w, s if s else 1.0, 1 + slack * rng.random())
            w = min(cands, key=est)
        slot = min(range(len(slots[w])), key=lambda i: slots[w][i])
        start = max(arrival, slots[w][slot])
        # throttled when the worker has been busy without a break long enough
        since = start
        for s0, e0 in reversed(busy[w][-50:]):
            if e0 >= since - 1e-9 and s0 < since:
                since = s0
        f = THROTTLE_FACTOR if start - since >= THROTTLE_AFTER else 1.0
        actual = expected / (workers[w]["speed"][t] * f) * math.exp(0.1 * rng.gauss(0, 1))
        end = start + actual
        slots[w][slot] = end
        busy[w].append((start, end))
        assign[w][t] += 1
        ok = rng.random() >= workers[w]["failure_rate"]
        if ok:
            ratio = expected / actual
            eff[t][w].append(ratio)
            old = learned[t][w]
            learned[t][w] = ratio if old is None else 0.8 * old + 0.2 * ratio
        else:
            failures += 1
        if end - arrival > deadline:
            misses += 1
        done.append((arrival, end))
        if len(durations) < args.sample and k % max(1, len(tests) // args.sample) == 0:
            durations.append([round(expected, 2), round(actual, 2), t, w])

    completion = [d[1] - d[0] for d in done if d]
    after = [d[1] - d[0] for d in done[args.warmup:] if d]
    curve = []
    step = max(1, (len(done) - args.window) // args.curve_points)
    window = []
    for i, d in enumerate(done):
        if d:
            window.append(d[1] - d[0])
        if len(window) > args.window:
            window.pop(0)
        if i + 1 >= args.window and (i + 1 - args.window) % step == 0 and window:
            curve.append([i + 1, round(sum(window) / len(window), 2)])
    makespan = max((d[1] for d in done if d), default=0.0)

    thermal, throttled = [], []
    for w in range(nw):
        periods = []
        for s, e in sorted(busy[w]):
            if periods and s <= periods[-1][1]:
                periods[-1][1] = max(periods[-1][1], e)
            else:
                periods.append([s, e])
        pts, thr = [[0, 0.0]], []
        for s, e in periods:
            t = s
            while t < e:
                pts.append([round(t, 1), round(min(1.0, 0.25 + (t - s) / THROTTLE_AFTER * 0.75), 3)])
                t += 60.0
            pts.append([round(e, 1), 0.1])
            if e - s > THROTTLE_AFTER:
                thr.append([round(s + THROTTLE_AFTER, 1), round(e, 1)])
        thermal.append(pts)
        throttled.append(thr)

    def mean(xs):
        return round(sum(xs) / len(xs), 2) if xs else None

    def p95(xs):
        return round(sorted(xs)[int(0.95 * (len(xs) - 1))], 2) if xs else None

    return {
        "scheduler": sched, "tests": len(tests), "completed": len(completion),
        "failures": failures, "deadline_misses": misses, "unplaced": unplaced,
        "mean_completion_s": mean(completion), "p95_completion_s": p95(completion),
        "mean_completion_after_warmup_s": mean(after),
        "makespan_s": round(makespan, 1),
        "throughput_per_s": round(len(completion) / makespan, 4) if makespan else None,
        "ratio_to_oracle": None,
        "assignments": assign,
        "efficiency": [[round(sum(c) / len(c), 3) if c else None for c in row] for row in eff],
        "curve": curve, "thermal": thermal, "throttled": throttled, "durations": durations,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--types", type=int, default=3)
    ap.add_argument("--runs", default="hardware-aware,round-robin,oracle")
    ap.add_argument("--tests", type=int, default=3000)
    ap.add_argument("--rate", type=float, default=0.16)
    ap.add_argument("--curve-points", type=int, default=120)
    ap.add_argument("--sample", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--window", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    types = [BASE_TYPES[t % 3] + ("" if t < 3 else "_%d" % t) for t in range(args.types)]
    workers = fleet(args.workers, args.types, rng)
    rate = args.rate * args.workers / 4
    tests, now = [], 0.0
    share = [0.45, 0.35, 0.2] + [0.1] * (args.types - 3)
    for _ in range(args.tests):
        now += rng.expovariate(rate)
        t = rng.choices(range(args.types), weights=share[:args.types])[0]
        expected = rng.uniform(15, 60)
        tests.append((now, t, expected, expected * 6))
    runs = [simulate(s, workers, tests, types, args, args.seed + i)
            for i, s in enumerate(args.runs.split(","))]
    oracle = next((r for r in runs if r["scheduler"] == "oracle"), None)
    if oracle and oracle["mean_completion_after_warmup_s"]:
        for r in runs:
            if r["mean_completion_after_warmup_s"] is not None:
                r["ratio_to_oracle"] = round(
                    r["mean_completion_after_warmup_s"] / oracle["mean_completion_after_warmup_s"], 3)
    result = {
        "lbsched_simulate": 1,
        "scenario": {"workers_file": "examples/hetero/fleet.json",
                     "truth_file": "examples/hetero/truth.json",
                     "mix_file": "examples/hetero/mix.json", "tests_file": None,
                     "tests": args.tests, "rate_per_s": round(rate, 3), "seed": args.seed,
                     "warmup": args.warmup, "noise_sigma": 0.1},
        "workers": [{"id": w["id"], "capacity": w["capacity"]} for w in workers],
        "types": types,
        "curve_window": args.window,
        "runs": runs,
    }
    json.dump(result, fp=__import__("sys").stdout, separators=(",", ":"))
    print()


if __name__ == "__main__":
    main()
