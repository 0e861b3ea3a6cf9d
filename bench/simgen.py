#!/usr/bin/env python3
"""simgen.py -- random heterogeneous simulation scenarios nobody tuned for.

    bench/simgen.py --workers N --seed S --out DIR [--load 0.8]

Writes DIR/fleet.json, DIR/truth.json, DIR/mix.json and prints the arrival
rate (tests/s) that loads the fleet to about --load of its fluid capacity:
the nominal seconds of work per second its slots get through, each worker
running the part of the mix it can run at its own speeds (a slot's rate is
the work-weighted harmonic mean of its speeds).  Classes, their mix in the fleet, their
speeds per workload type, capacities, throttling, failures and the test mix
are all drawn from the seed; stdlib only, deterministic.  Every fleet has at
least one worker that throttles and one that fails often (FAILING_RATE), and
the types' expected durations span 5 s to 600 s (DURATION_LADDER).

Held-out discipline (bench/bench_simulate.sh): seeds 1-5 are the tuning set,
seeds 101-105 the held-out set.  No constant anywhere in the project is ever
tuned on a held-out seed; look at them only to report.
"""
import argparse, json, math, os, random

CLASSES = {
    # name: (backends, accelerators, capacity range, base speeds, throttle prob)
    "gpu_big": (["cpu", "cuda", "pytorch", "onnx"], {"gpu": 4}, (2, 4),
                {"VISION": 5, "NLP": 4, "TRAINING": 6, "AUDIO": 3, "EMBEDDING": 4, "*": 3}, 0.5),
    "gpu_small": (["cpu", "cuda", "pytorch", "onnx"], {"gpu": 1}, (1, 2),
                  {"VISION": 2.5, "NLP": 1.5, "TRAINING": 1.5, "AUDIO": 2, "EMBEDDING": 2, "*": 1.5}, 0.5),
    "tpu": (["cpu", "tpu", "tensorflow", "pytorch"], {"tpu": 4}, (1, 2),
            {"VISION": 3, "NLP": 6, "TRAINING": 5, "EMBEDDING": 5, "*": 1.5}, 0.2),
    "cpu": (["cpu", "pytorch", "onnx"], {}, (1, 3),
            {"VISION": 0.6, "NLP": 0.9, "TRAINING": 0.3, "AUDIO": 1.2, "EMBEDDING": 1.1, "*": 1.0}, 0.1),
    "mac": (["cpu", "mps", "pytorch"], {}, (1, 1),
            {"VISION": 1.8, "AUDIO": 2.0, "NLP": 1.0, "EMBEDDING": 1.5, "*": 1.2}, 0.5),
    "phone": (["cpu", "tflite", "onnx"], {"npu": 1}, (1, 1),
              {"VISION": 0.8, "AUDIO": 1.0, "NLP": 0.3, "EMBEDDING": 0.9, "*": 0.5}, 0.7),
}
# One range per type, shuffled onto the types: 100x from the shortest test
# to the longest.
DURATION_LADDER = [(5, 15), (10, 40), (30, 120), (60, 240), (200, 600)]
# The often-failing worker's failure rate, drawn in this range.
FAILING_RATE = (0.15, 0.3)
# What `simulate` takes: --rate in tests/s, and a fleet's workers
# (CONV_MAX_WORKERS); a scenario it would refuse is refused here.
RATE_RANGE = (0.00001, 1000000)
MAX_WORKERS = 1048576
TYPES = [("vision_image_classification", "VISION"), ("nlp_text_generation", "NLP"),
         ("audio_speech_recognition", "AUDIO"), ("training_fine_tune", "TRAINING"),
         ("sentence_embedding", "EMBEDDING")]
# The converter's rule (scheduler-algos/taxonomy.c, the original's order):
# the first of these words in a test type decides its workload type.
# "embedding_text" was NLP, and every EMBEDDING speed here went unused.
WORDS = [(("vision", "image"), "VISION"), (("nlp", "text", "language"), "NLP"),
         (("audio", "speech"), "AUDIO"), (("embedding",), "EMBEDDING"),
         (("training",), "TRAINING"), (("inference",), "INFERENCE"),
         (("conversational",), "CONVERSATIONAL"), (("multi",), "MULTIMODAL")]


def workload_of(test_type):
    t = test_type.lower()
    return next((wl for words, wl in WORDS if any(w in t for w in words)), "MIXED")


assert all(workload_of(name) == wl for name, wl in TYPES), "a TYPES name the converter reads otherwise"


def worker(cls, i, r):
    backends, accels, cap, _, _ = CLASSES[cls]
    w = {"worker_id": f"{cls}_{i:04d}", "supported_backends": backends,
         "available_memory": {"phone": 8, "mac": 48}.get(cls, r.choice([64, 128, 256, 512])),
         "cpu_cores": r.choice([8, 16, 32, 64]), "capacity": r.randint(*cap)}
    if accels:
        w["available_accelerators"] = accels
    specs = {}
    if cls.startswith("gpu"):
        w["has_gpu"] = True
        big = cls == "gpu_big"
        specs = {"gpu_vendor": "nvidia", "gpu_memory_gb": 80 if big else 16,
                 "gpu_compute_units": 108 if big else 40, "gpu_tensor_cores": True,
                 "gpu_tdp_watts": 400 if big else 70}
    elif cls == "tpu":
        specs = {"tpu_cores": 8, "tpu_memory_gb": 128}
    elif cls == "phone":
        specs = {"cpu_arch": "arm64", "npu_vendor": "qualcomm", "npu_compute_units": 4}
    elif cls == "mac":
        w["has_gpu"] = True
        specs = {"cpu_arch": "arm64", "gpu_vendor": "apple", "gpu_compute_units": 38}
    if specs:
        w["hardware_specs"] = specs
    return w


def throttle(e, r):
    e["throttle_after_s"] = r.choice([120, 300, 600, 900])
    e["throttle_factor"] = round(r.uniform(0.5, 0.9), 2)


def worker_count(s):
    try:
        n = int(s)
    except ValueError:
        n = 0
    if not 1 <= n <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"must be an integer in 1..{MAX_WORKERS}, got '{s}'")
    return n


def load(s):
    try:
        x = float(s)
    except ValueError:
        x = math.nan
    if not (math.isfinite(x) and x > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0 (a share of the fleet's "
                                         f"capacity, 0.8 = 80 %), got '{s}'")
    return x


def seed(s):
    # random.Random takes an int seed's absolute value: -101 would make
    # held-out seed 101's fleet under another name.
    try:
        n = int(s)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got '{s}'")
    return n


def main():
    ap = argparse.ArgumentParser(
        description="Write a random heterogeneous scenario (DIR/fleet.json, truth.json, "
                    "mix.json) and print the arrival rate in tests/s that loads it to --load.")
    ap.add_argument("--workers", type=worker_count, required=True, metavar="N",
                    help=f"the fleet's size, 1..{MAX_WORKERS}")
    ap.add_argument("--seed", type=seed, required=True, metavar="S",
                    help="draws everything; 1-5 tune, 101-105 are held out (never tune on them)")
    ap.add_argument("--out", required=True, metavar="DIR",
                    help="the directory to write into (made if missing)")
    ap.add_argument("--load", type=load, default=0.8, metavar="L",
                    help="the share of the fleet's capacity the printed rate fills "
                         "(default 0.8); pass the rate to simulate --rate")
    a = ap.parse_args()
    if os.path.exists(a.out) and not os.path.isdir(a.out):
        ap.error(f"argument --out: '{a.out}' exists and is not a directory")
    r = random.Random(a.seed)
    weights = {c: r.uniform(0.2, 1.0) for c in CLASSES}
    names = list(CLASSES)
    fleet, truth = [], {}
    for i in range(a.workers):
        cls = r.choices(names, [weights[c] for c in names])[0]
        w = worker(cls, i, r)
        fleet.append(w)
        base = CLASSES[cls][3]
        jitter = math.exp(r.gauss(0, 0.25))
        e = {"speed": {k: round(v * jitter * math.exp(r.gauss(0, 0.15)), 3) for k, v in base.items()},
             "failure_rate": round(r.uniform(0, 0.03), 4)}
        if r.random() < CLASSES[cls][4]:
            throttle(e, r)
        truth[w["worker_id"]] = e
    ids = [w["worker_id"] for w in fleet]
    if not any("throttle_after_s" in truth[i] for i in ids):
        throttle(truth[r.choice(ids)], r)
    # The often-failing worker: one that training (CUDA) can use when there
    # is one, so that avoiding it matters.
    cuda = [w["worker_id"] for w in fleet if "cuda" in w["supported_backends"]]
    truth[r.choice(cuda or ids)]["failure_rate"] = round(r.uniform(*FAILING_RATE), 3)
    shares = [r.uniform(0.05, 1) for _ in TYPES]
    ladder = DURATION_LADDER[:]
    r.shuffle(ladder)
    mix = []
    for (name, _), share, (lo, hi) in zip(TYPES, shares, ladder):
        m = {"test_type": name, "share": round(share, 3), "minimum_memory": [0.5, r.choice([2, 4, 8])],
             "expected_duration": [lo, hi], "priority": [1, 5]}
        if name.startswith("training"):
            m["required_backend"] = "cuda"
        mix.append(m)
    # The nominal seconds of work a second the fleet's slots get through,
    # each worker running the part of the mix it can run (training needs
    # CUDA) at its own speeds: a slot spends sum(p d / s) seconds for
    # sum(p d) nominal ones, so the speeds weigh by the work (p d) and
    # harmonically.  Their mean weighed by count (sum(p s)) counted a worker
    # slow on the long types as fast, and training where it cannot run: the
    # fleets "at 70 %" were at 65-95 %, one at 0.9 past 1.
    total = sum(shares)
    mean_dur = sum(s / total * sum(m["expected_duration"]) / 2 for s, m in zip(shares, mix))
    cap = 0.0
    for w in fleet:
        sp = truth[w["worker_id"]]["speed"]
        runs = [(s * sum(m["expected_duration"]) / 2, sp.get(t, sp["*"]))
                for s, m, (_, t) in zip(shares, mix, TYPES)
                if m.get("required_backend", "cpu") in w["supported_backends"]]
        cap += w["capacity"] * sum(pd for pd, _ in runs) / sum(pd / v for pd, v in runs)
    # Checked as printed, before anything is written: a rate `simulate
    # --rate` refuses leaves no scenario behind that cannot be run.
    # Four decimals, and five significant digits below 1 tests/s: at four
    # decimals alone a light load printed 0.0000 and was refused, or ran
    # several percent off what was asked.
    v = a.load * cap / mean_dur
    rate = f"{v:.{max(4, 4 - math.floor(math.log10(v))) if v > 0 else 4}f}"
    if not RATE_RANGE[0] <= float(rate) <= RATE_RANGE[1]:
        ap.error(f"argument --load: {a.load:g} gives {rate} tests/s, outside the "
                 f"{RATE_RANGE[0]:.5f}..{RATE_RANGE[1]} simulate --rate takes")
    os.makedirs(a.out, exist_ok=True)
    json.dump({"workers": fleet}, open(os.path.join(a.out, "fleet.json"), "w"))
    json.dump({"noise_sigma": 0.1, "workers": truth}, open(os.path.join(a.out, "truth.json"), "w"))
    json.dump(mix, open(os.path.join(a.out, "mix.json"), "w"))
    print(rate)


if __name__ == "__main__":
    main()
