#!/usr/bin/env python3
"""graphgen.py -- random workload graphs for `simulate --graphs` (issue 20).

    bench/graphgen.py --graphs N --seed S [--min 10] [--max 200] > G.jsonl

The usual generator of the scheduling literature (Topcuoglu et al. 2002):
each graph has a random size in [--min, --max], sqrt(n)-ish layers of random
width, and each subtask after the first layer depends on 1-3 subtasks of
earlier layers (fan-out), with no communication cost.  Subtask kinds come
from the bundled heterogeneous mix (examples/hetero/mix.json): type, memory
and expected duration drawn in its ranges; 20 % are declared critical.
stdlib only, deterministic per seed.
"""
import argparse, json, math, os, random

HERE = os.path.dirname(os.path.abspath(__file__))
# The most subtasks `simulate --graphs` takes in a graph (ORCH_MAX_SUBTASKS).
MAX_SUBTASKS = 10000


def int_in(lo, hi=None):
    def parse(s):
        try:
            n = int(s)
        except ValueError:
            n = lo - 1
        if n < lo or (hi is not None and n > hi):
            want = f"in {lo}..{hi}" if hi is not None else f">= {lo}"
            raise argparse.ArgumentTypeError(f"must be an integer {want}, got '{s}'")
        return n
    return parse


def main():
    ap = argparse.ArgumentParser()
    # No upper limit on --graphs: each graph is written as it is made.
    ap.add_argument("--graphs", type=int_in(1), default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--min", type=int_in(1, MAX_SUBTASKS), default=10)
    ap.add_argument("--max", type=int_in(1, MAX_SUBTASKS), default=200)
    ap.add_argument("--mix", default=os.path.join(HERE, "..", "examples", "hetero", "mix.json"))
    a = ap.parse_args()
    if a.min > a.max:
        ap.error(f"argument --min: {a.min} is above --max {a.max}")
    mix = json.load(open(a.mix))
    rnd = random.Random(a.seed)
    shares = [m["share"] for m in mix]
    for g in range(a.graphs):
        n = rnd.randint(a.min, a.max)
        layers = max(2, int(round(math.sqrt(n) * rnd.uniform(0.7, 1.3))))
        cuts = sorted(rnd.sample(range(1, n), min(layers - 1, n - 1)))
        bounds = [0] + cuts + [n]
        layer_of = []
        for li in range(len(bounds) - 1):
            layer_of += [li] * (bounds[li + 1] - bounds[li])
        subtasks = {}
        for i in range(n):
            m = rnd.choices(mix, weights=shares)[0]
            req = {"test_type": m["test_type"],
                   "minimum_memory": round(rnd.uniform(*m["minimum_memory"]), 2),
                   "expected_duration": round(rnd.uniform(*m["expected_duration"]), 1),
                   "priority": rnd.randint(*m["priority"])}
            if "required_backend" in m:
                req["required_backend"] = m["required_backend"]
            deps = []
            if layer_of[i] > 0:
                earlier = range(0, bounds[layer_of[i]])
                prev = range(bounds[layer_of[i] - 1], bounds[layer_of[i]])
                # At least one dependency in the layer just before, so the
                # layers are real; the rest anywhere earlier.
                deps = {rnd.choice(prev)}
                for _ in range(rnd.randint(0, 2)):
                    deps.add(rnd.choice(earlier))
                deps = ["s%d" % d for d in sorted(deps)]
            subtasks["s%d" % i] = {"requirements": req, "dependencies": deps,
                                   "criticality": "critical" if rnd.random() < 0.2 else "normal"}
        print(json.dumps({"name": "g%d-%d" % (a.seed, g), "aggregation_method": "concat",
                          "subtasks": subtasks}, separators=(",", ":")))


if __name__ == "__main__":
    main()
