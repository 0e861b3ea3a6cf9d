#!/usr/bin/env python3
"""graphgen.py -- random workload graphs for `simulate --graphs` (issue 20).

    bench/graphgen.py --graphs N --seed S [--min 10] [--max 200] [--wide] > G.jsonl

The usual generator of the scheduling literature (Topcuoglu et al. 2002):
each graph has a random size in [--min, --max], sqrt(n)-ish layers of random
width, and each subtask after the first layer depends on 1-3 subtasks of
earlier layers (fan-out), with no communication cost.  Subtask kinds come
from the bundled heterogeneous mix (examples/hetero/mix.json): type, memory
and expected duration drawn in its ranges; 20 % are declared critical.
--mix takes any mix `simulate --mix` takes (docs/SIMULATE.md), checked by
the same rules; a bad one is an argparse error naming the file and field.
--wide makes each graph one wide layer instead: a root, n - 2 subtasks that
depend on it alone, and one that depends on all of them (n >= 3; fewer is a
chain), the shape that tells binding at once from binding when a worker is
free (docs/ORCHESTRATE.md).
stdlib only, deterministic per seed.
"""
import argparse, json, math, os, random, sys

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


# simulate's mix format (host-shim/sim/stream.c, read_mix): the fields, and
# each range's bounds and whether it holds integers.
MAX_MIX = 1024
MIX_KEYS = ("test_type", "share", "minimum_memory", "expected_duration", "priority",
            "required_backend", "required_accelerators", "deadline")
RANGES = {"minimum_memory": (0, 1e6, False), "expected_duration": (0, 1e7, False),
          "priority": (1, 5, True), "deadline": (0, 1e7, False)}


def is_number(v):
    # bool is an int to Python, not a number to JSON; 1e999 reads as inf
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def got(v):
    return "nothing" if v is None else json.dumps(v)[:60]


def read_range(v, lo, hi, integer):
    """[low, high] from a number or a two-number array; a message on error."""
    if is_number(v):
        if not lo <= v <= hi:
            return None, f"must be a finite number in {lo:.15g}..{hi:.15g}, got {got(v)}"
        ends = [v, v]
    elif isinstance(v, list) and len(v) == 2:
        for name, e in zip(("low", "high"), v):
            if not is_number(e) or not lo <= e <= hi:
                return None, f"the {name} end must be a finite number in {lo:.15g}..{hi:.15g}, got {got(e)}"
        ends = list(v)
        if ends[0] > ends[1]:
            return None, "must be [low, high] with low <= high"
    else:
        return None, f"must be a number or [low, high], got {got(v)}"
    if integer and any(e != math.floor(e) for e in ends):
        return None, "must hold integers"
    return ([int(e) for e in ends] if integer else ends), None


def load_mix(ap, path):
    """The mix at path as simulate reads it: entries with their ranges as
    [low, high] (absent optional fields left out), or ap.error."""
    def fail(field, msg):
        ap.error(f"argument --mix: {path}: " + (f"field '{field}': " if field else "") + msg)

    def no_constant(name):
        raise ValueError(f"{name} is not a JSON number")
    try:
        with open(path, "rb") as f:
            text = f.read()
    except OSError as e:
        fail(None, f"cannot read: {e.strerror}")
    try:
        doc = json.loads(text.decode("utf-8"), parse_constant=no_constant)
    except (ValueError, UnicodeDecodeError) as e:
        fail(None, f"not valid JSON: {e}")
    if not isinstance(doc, list):
        fail(None, f"must be a non-empty JSON array of mix entries, got {got(doc)}")
    if not doc:
        fail(None, "is an empty array: a mix needs at least one entry")
    if len(doc) > MAX_MIX:
        fail(None, f"has more than {MAX_MIX} entries")
    mix = []
    for i, e in enumerate(doc):
        at = f"[{i}]"
        if not isinstance(e, dict):
            fail(at, f"must be an object, got {got(e)}")
        for k in e:
            if k not in MIX_KEYS:
                print(f"{ap.prog}: warning: {path}: unknown field '{at}.{k}' ignored", file=sys.stderr)
        m = {}
        t = e.get("test_type")
        if not isinstance(t, str) or not t:
            fail(f"{at}.test_type", f"required: a non-empty string, got {got(t)}")
        m["test_type"] = t
        sh = e.get("share")
        if not is_number(sh) or not 0 <= sh <= 1e9:
            fail(f"{at}.share", f"required: a finite number in 0..1000000000, got {got(sh)}")
        m["share"] = sh
        for k, (lo, hi, integer) in RANGES.items():
            if e.get(k) is not None:
                r, msg = read_range(e[k], lo, hi, integer)
                if msg:
                    fail(f"{at}.{k}", msg)
                m[k] = r
        if "expected_duration" not in m:
            fail(f"{at}.expected_duration", "is required (the simulator needs a duration)")
        if m["expected_duration"][0] <= 0:
            fail(f"{at}.expected_duration", "must be > 0 s")
        b = e.get("required_backend")
        if b is not None:
            if not isinstance(b, str) or not b:
                fail(f"{at}.required_backend", f"must be a non-empty string, got {got(b)}")
            m["required_backend"] = b
        acc = e.get("required_accelerators")
        if acc is not None:
            if not isinstance(acc, dict):
                fail(f"{at}.required_accelerators", f"must be an object, got {got(acc)}")
            m["required_accelerators"] = acc
        mix.append(m)
    if not sum(m["share"] for m in mix) > 0:
        if len(mix) == 1:
            fail("[0].share", "must be > 0 (the only entry's share)")
        fail(None, "every entry's share is 0: at least one must be > 0")
    return mix


def main():
    ap = argparse.ArgumentParser()
    # No upper limit on --graphs: each graph is written as it is made.
    ap.add_argument("--graphs", type=int_in(1), default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--min", type=int_in(1, MAX_SUBTASKS), default=10)
    ap.add_argument("--max", type=int_in(1, MAX_SUBTASKS), default=200)
    ap.add_argument("--mix", default=os.path.join(HERE, "..", "examples", "hetero", "mix.json"))
    ap.add_argument("--wide", action="store_true")
    a = ap.parse_args()
    if a.min > a.max:
        ap.error(f"argument --min: {a.min} is above --max {a.max}")
    mix = load_mix(ap, a.mix)
    rnd = random.Random(a.seed)
    shares = [m["share"] for m in mix]
    for g in range(a.graphs):
        n = rnd.randint(a.min, a.max)
        if a.wide:
            # Layers [root], [the rest but one], [the join].
            bounds = sorted({0, min(1, n), max(min(1, n), n - 1), n})
        else:
            layers = max(2, int(round(math.sqrt(n) * rnd.uniform(0.7, 1.3))))
            cuts = sorted(rnd.sample(range(1, n), min(layers - 1, n - 1)))
            bounds = [0] + cuts + [n]
        layer_of = []
        for li in range(len(bounds) - 1):
            layer_of += [li] * (bounds[li + 1] - bounds[li])
        subtasks = {}
        for i in range(n):
            m = rnd.choices(mix, weights=shares)[0]
            # The draws in this order whatever the mix: the bundled mix's
            # graphs stay what they were.  A deadline is read but not
            # used: a graph's subtasks have no arrival to count from.
            req = {"test_type": m["test_type"]}
            if "minimum_memory" in m:
                req["minimum_memory"] = round(rnd.uniform(*m["minimum_memory"]), 2)
            # Rounding must not take a duration to 0, which a mix refuses.
            req["expected_duration"] = max(round(rnd.uniform(*m["expected_duration"]), 1),
                                           m["expected_duration"][0])
            if "priority" in m:
                req["priority"] = rnd.randint(*m["priority"])
            for k in ("required_backend", "required_accelerators"):
                if k in m:
                    req[k] = m[k]
            deps = []
            if a.wide and layer_of[i] > 0:
                prev = range(bounds[layer_of[i] - 1], bounds[layer_of[i]])
                deps = ["s%d" % d for d in prev]
            elif layer_of[i] > 0:
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
