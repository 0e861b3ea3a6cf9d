"""The Python binding (issue 8): python3 -m unittest, run by meson test.

Environment (tests/meson.build): PYTHONPATH = host-shim/python in the
source tree, LBSCHED_PY_LIB = the built liblbsched-py.so, LBS_PLUGIN,
LBS_V2_PLUGIN, LBS_SHIM, LBS_SRCDIR.
"""

import dataclasses
import datetime
import json
import os
import subprocess
import tempfile
import threading
import unittest
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set

import lbsched

SRC = os.environ.get("LBS_SRCDIR", os.path.join(os.path.dirname(__file__), "..", ".."))
PLUGIN = os.environ.get("LBS_PLUGIN")
FLEET = os.path.join(SRC, "examples", "fleet.json")
TESTS = os.path.join(SRC, "examples", "tests.jsonl")


# Shaped like the original framework's records (seed-behaviour.md §a.1).
@dataclass
class TestRequirements:
    test_id: str
    model_id: Optional[str] = None
    model_family: Optional[str] = None
    test_type: Optional[str] = None
    minimum_memory: float = 0.5
    required_memory_limit: float = 1000.0
    preferred_backend: Optional[str] = None
    required_backend: Optional[str] = None
    expected_duration: float = 60.0
    priority: int = 3
    required_accelerators: Dict[str, int] = field(default_factory=dict)
    required_accelerator_limit: Dict[str, int] = field(default_factory=dict)
    required_software: Dict[str, str] = field(default_factory=dict)
    timeout: float = 3600.0
    retries: int = 3
    concurrency_key: Optional[str] = None

    def __post_init__(self):
        for k, v in self.required_accelerators.items():
            self.required_accelerator_limit.setdefault(k, v)


@dataclass
class WorkerCapabilities:
    worker_id: str
    hostname: str = ""
    hardware_specs: Dict = field(default_factory=dict)
    software_versions: Dict[str, str] = field(default_factory=dict)
    supported_backends: List[str] = field(default_factory=list)
    browser_support: List[str] = field(default_factory=list)
    has_gpu: bool = False
    has_webgpu: bool = False
    has_webnn: bool = False
    network_bandwidth: float = 0.0
    storage_capacity: float = 0.0
    available_accelerators: Dict[str, int] = field(default_factory=dict)
    available_memory: float = 0.0
    available_disk: float = 0.0
    cpu_cores: int = 0
    cpu_threads: int = 0
    last_updated: datetime.datetime = field(default_factory=datetime.datetime.now)


@dataclass
class WorkerLoad:
    worker_id: str
    active_tests: int = 0
    queued_tests: int = 0
    cpu_utilization: float = 0.0
    memory_utilization: float = 0.0
    gpu_utilization: float = 0.0
    io_utilization: float = 0.0
    network_utilization: float = 0.0
    queue_depth: int = 0
    last_updated: datetime.datetime = field(default_factory=datetime.datetime.now)
    active_test_ids: Set[str] = field(default_factory=set)
    reserved_memory: float = 0.0
    reserved_accelerators: Dict[str, int] = field(default_factory=dict)
    warming_state: bool = False
    cooling_state: bool = False
    warming_until: Optional[datetime.datetime] = None
    cooling_until: Optional[datetime.datetime] = None
    performance_level: float = 1.0


def _record(cls, d, **fixed):
    """A dataclass from a dict; keys it has no field for are bolted on as
    ad-hoc attributes, as the original's example does custom_properties."""
    names = {f.name for f in dataclasses.fields(cls)}
    obj = cls(**{k: v for k, v in d.items() if k in names}, **fixed)
    for k, v in d.items():
        if k not in names and k not in fixed:
            setattr(obj, k, v)
    return obj


def original_fleet():
    with open(FLEET) as f:
        doc = json.load(f)
    workers, loads = {}, {}
    for w in doc["workers"]:
        w = dict(w)
        load = w.pop("load", None)
        workers[w["worker_id"]] = _record(WorkerCapabilities, w)
        if load is not None:
            loads[w["worker_id"]] = _record(WorkerLoad, load, worker_id=w["worker_id"])
    return workers, loads


def original_tests():
    with open(TESTS) as f:
        return [_record(TestRequirements, json.loads(line)) for line in f if line.strip()]


class PicksTest(unittest.TestCase):
    def test_same_picks_as_the_cli(self):
        out = subprocess.run(
            [os.environ["LBS_SHIM"], "decide", "--independent", "--plugin", PLUGIN,
             "--workers", FLEET, "--tests", TESTS],
            check=True, capture_output=True, text=True).stdout
        cli = {}
        for line in out.splitlines():
            d = json.loads(line)
            cli[d["test_id"]] = d["workers"]
        workers, loads = original_fleet()
        tests = original_tests()
        self.assertEqual(len(tests), len(cli))
        sched = lbsched.PluginScheduler("hardware-aware", plugin=PLUGIN)
        for t in tests:
            got = sched.select_workers(t, workers, loads, {})
            self.assertEqual(got, cli[t.test_id], t.test_id)
            one = sched.select_worker(t, workers, loads, {})
            self.assertEqual(one, cli[t.test_id][0] if cli[t.test_id] else None)
        self.assertIsNone(sched.select_worker(tests[-1], workers, loads, {}))
        self.assertIn("no eligible worker", sched.last_reason)

        # Loads the numeric form cannot carry (a null queue_depth) go as
        # JSON: the same picks.
        for load in loads.values():
            load.queue_depth = None
        for t in tests:
            self.assertEqual(sched.select_workers(t, workers, loads, {}),
                             cli[t.test_id], t.test_id)

    def test_dicts_and_objects_agree(self):
        workers, loads = original_fleet()
        with open(FLEET) as f:
            plain = json.load(f)["workers"]
        sched = lbsched.PluginScheduler(plugin=PLUGIN)
        with open(TESTS) as f:
            lines = [line for line in f if line.strip()]
        for t, line in zip(original_tests(), lines):
            self.assertEqual(sched.select_workers(t, workers, loads),
                             sched.select_workers(json.loads(line), plain))

    def test_slots_dataclass_and_plain_object(self):
        @dataclass(slots=True)
        class Req:
            test_id: str
            minimum_memory: float = 0.5
            required_backend: Optional[str] = None

        class Obj:
            pass

        o = Obj()
        o.test_id, o.minimum_memory, o.required_backend = "o", 8, "cuda"
        workers, loads = original_fleet()
        sched = lbsched.PluginScheduler(plugin=PLUGIN)
        want = sched.select_worker({"test_id": "d", "minimum_memory": 8,
                                    "required_backend": "cuda"}, workers, loads, {})
        self.assertIsNotNone(want)
        self.assertEqual(sched.select_worker(Req("s", 8, "cuda"), workers, loads, {}), want)
        self.assertEqual(sched.select_worker(o, workers, loads, {}), want)
        with self.assertRaisesRegex(ValueError, "^test_requirements: expected a "
                                    "TestRequirements or a dict, got an int$"):
            sched.select_worker(5, workers, loads, {})

    def test_factory_names(self):
        workers, loads = original_fleet()
        t = original_tests()[0]
        for kind in ("round_robin", "priority_based", "hardware_aware"):
            s = lbsched.create_scheduler(kind, plugin=PLUGIN)
            self.assertIn(s.select_worker(t, workers, loads, {}), workers)
        comp = lbsched.create_scheduler(
            "composite", plugin=PLUGIN,
            algorithms=[{"type": "hardware_aware", "weight": 0.7},
                        {"type": "round_robin", "weight": 0.3}])
        self.assertIn(comp.select_worker(t, workers, loads, {}), workers)
        with self.assertRaises(ValueError):
            lbsched.create_scheduler("no_such_type")

    def test_explain_is_a_dict(self):
        workers, loads = original_fleet()
        ex = lbsched.PluginScheduler(plugin=PLUGIN).explain(
            original_tests()[0], workers, loads)
        self.assertIsInstance(ex, dict)
        self.assertIn("chosen", ex)


class LearningLoopTest(unittest.TestCase):
    """A minimal load balancer: submit, select, complete, report."""

    def run_loop(self, sched):
        workers = {
            wid: WorkerCapabilities(worker_id=wid, supported_backends=["cpu", "onnx"],
                                    available_memory=64, cpu_cores=16,
                                    hardware_specs={"cpu_arch": "x86_64",
                                                    "cpu_vendor": "intel",
                                                    "total_memory_gb": 64})
            for wid in ("flaky_1", "steady_1")}
        loads = {wid: WorkerLoad(worker_id=wid) for wid in workers}
        picks = []
        for i in range(40):
            req = TestRequirements(test_id="t%d" % i, test_type="nlp_text_classification",
                                   minimum_memory=2, expected_duration=10, priority=3)
            wid = sched.select_worker(req, workers, loads, {})
            self.assertIsNotNone(wid)
            picks.append(wid)
            loads[wid].active_tests += 1
            loads[wid].active_test_ids.add(req.test_id)
            # The flaky worker fails every test; the steady one succeeds.
            ok = wid == "steady_1"
            loads[wid].active_tests -= 1
            loads[wid].active_test_ids.discard(req.test_id)
            self.assertTrue(sched.report(req.test_id, wid, ok, 9.0 if ok else 30.0,
                                         test_type=req.test_type))
        return picks

    def check(self, picks):
        self.assertIn("flaky_1", picks[:10], "the loop never tried the flaky worker")
        self.assertEqual(picks[-10:], ["steady_1"] * 10, picks)

    def test_priority_memory_only(self):
        self.check(self.run_loop(lbsched.create_scheduler("priority_based", plugin=PLUGIN)))

    def test_hardware_aware_with_store(self):
        with tempfile.TemporaryDirectory() as d:
            s = lbsched.PluginScheduler("hardware-aware", plugin=PLUGIN,
                                        config={"store": {"path": os.path.join(d, "prefs")}})
            self.check(self.run_loop(s))
            s.close()

    def test_round_robin_does_not_learn(self):
        s = lbsched.create_scheduler("round_robin", plugin=PLUGIN)
        self.assertFalse(s.report("t", "w", True, 1.0))


def twins():
    """Two workers alike but for their ids, and their loads."""
    caps = {wid: WorkerCapabilities(worker_id=wid, supported_backends=["cpu", "onnx"],
                                    available_memory=64, cpu_cores=16,
                                    hardware_specs={"cpu_arch": "x86_64",
                                                    "cpu_vendor": "intel",
                                                    "total_memory_gb": 64})
            for wid in ("left_1", "right_1")}
    return caps, {wid: WorkerLoad(worker_id=wid) for wid in caps}


class FleetTest(unittest.TestCase):
    """Capabilities go to the library when they change, loads every call."""

    def setUp(self):
        self.sent = []  # for each select, whether the capabilities went
        self.sched = lbsched.PluginScheduler(plugin=PLUGIN)
        self.test = TestRequirements(test_id="t", required_backend="onnx",
                                     minimum_memory=2)

    def pick(self, caps, loads, test=None):
        before = self.sched.fleets_sent
        try:
            return self.sched.select_worker(test or self.test, caps, loads, {})
        finally:
            self.sent.append(self.sched.fleets_sent != before)

    def test_loads_are_read_every_call(self):
        caps, loads = twins()
        loads["left_1"].active_tests, loads["left_1"].cpu_utilization = 6, 90
        self.assertEqual(self.pick(caps, loads), "right_1")
        loads["left_1"].active_tests, loads["left_1"].cpu_utilization = 0, 0
        loads["right_1"].active_tests, loads["right_1"].cpu_utilization = 6, 90
        self.assertEqual(self.pick(caps, loads), "left_1")
        # a load carried in a plain record, changed in place
        plain = {wid: dict(vars(c), load=vars(loads[wid])) for wid, c in caps.items()}
        self.assertEqual(self.pick(plain, {}), "left_1")
        plain["left_1"]["load"]["warming_state"] = True
        plain["left_1"]["load"]["performance_level"] = 0.1
        plain["right_1"]["load"].update(active_tests=0, cpu_utilization=0)
        self.assertEqual(self.pick(plain, {}), "right_1")
        # plain records equal to the dataclasses' fields are the same
        # capabilities: not sent again
        self.assertEqual(self.sent, [True, False, False, False])

    def test_capabilities_sent_again_only_when_changed(self):
        caps, loads = twins()
        self.assertIsNotNone(self.pick(caps, loads))
        self.pick(caps, loads)
        self.pick(dict(caps), loads)  # another dict, the same records
        self.pick({w: dataclasses.replace(c) for w, c in caps.items()}, loads)
        self.assertEqual(self.sent, [True, False, False, False])

        caps["left_1"].available_memory = 1  # below the test's 2 GB
        self.assertEqual(self.pick(caps, loads), "right_1")
        caps["left_1"].available_memory = 64
        caps["right_1"].supported_backends.remove("onnx")  # in place
        self.assertEqual(self.pick(caps, loads), "left_1")
        gpu = TestRequirements(test_id="g", required_accelerators={"gpu": 1})
        self.assertIsNone(self.pick(caps, loads, gpu))
        caps["right_1"].available_accelerators["gpu"] = 1  # in place, nested
        self.assertEqual(self.pick(caps, loads, gpu), "right_1")
        self.assertEqual(self.pick({"right_1": caps["right_1"]}, loads, gpu), "right_1")
        self.assertEqual(self.sent[4:], [True, True, False, True, True])

    def test_a_failed_call_leaves_no_stale_fleet(self):
        workers, loads = original_fleet()
        first = dict(list(workers.items())[:6])
        rest = dict(list(workers.items())[6:])
        t = original_tests()[0]
        want = self.pick(first, loads, t)
        self.assertIn(want, first)
        # the library converts the new fleet, then refuses a load
        bad = {w: WorkerLoad(worker_id=w, cpu_utilization=250) for w in rest}
        with self.assertRaisesRegex(ValueError, "field 'cpu_utilization'"):
            self.pick(rest, bad, t)
        self.assertEqual(self.pick(first, loads, t), want)
        # a fleet that does not convert
        broken = dict(first, oops=WorkerCapabilities(worker_id="oops",
                                                     available_memory=-1))
        with self.assertRaisesRegex(ValueError, "^available_workers\\['oops'\\]: field 'available_memory'"):
            self.pick(broken, loads, t)
        self.assertEqual(self.pick(first, loads, t), want)
        # a bad test is reported before a bad fleet, as in one document
        with self.assertRaisesRegex(ValueError, "^test_requirements: field 'priority'"):
            self.pick(broken, loads, TestRequirements(test_id="p", priority=9))

    def test_two_threads_two_fleets(self):
        workers, loads = original_fleet()
        fleets = [dict(list(workers.items())[:6]), dict(list(workers.items())[6:])]
        tests = original_tests()
        want = [[self.pick(f, loads, t) for t in tests] for f in fleets]
        errors, got = [], {}

        def run(i):
            try:
                got[i] = [[self.pick(fleets[i], loads, t) for t in tests]
                          for _ in range(20)]
            except Exception as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        self.assertEqual(errors, [])
        for i in range(2):
            self.assertEqual(got[i], [want[i]] * 20)


class ErrorTest(unittest.TestCase):
    def setUp(self):
        self.sched = lbsched.PluginScheduler(plugin=PLUGIN)
        self.workers, self.loads = original_fleet()

    def test_bad_requirement(self):
        t = TestRequirements(test_id="bad", minimum_memory=-1)
        with self.assertRaisesRegex(ValueError, "field 'minimum_memory'"):
            self.sched.select_worker(t, self.workers, self.loads, {})

    def test_bad_worker(self):
        w = WorkerCapabilities(worker_id="w1", available_memory="lots")
        with self.assertRaisesRegex(ValueError, "available_memory"):
            self.sched.select_worker(original_tests()[0], {"w1": w}, {}, {})

    def test_bad_load(self):
        t = original_tests()[0]
        where = "worker_loads['cpu_xeon_1']: field "
        # numbers go as numbers, anything else as JSON (a null queue_depth
        # sends them all so): the converter's message either way
        for value, said in ((250, "must be a finite number in 0..100 percent, got 250"),
                            ("high", 'must be a finite number in 0..100 percent, got "high"'),
                            (True, "must be a finite number in 0..100 percent, got true"),
                            (None, "must be a finite number in 0..100 percent, got null")):
            for queue_depth in (0, None):
                self.loads["cpu_xeon_1"].cpu_utilization = value
                self.loads["cpu_xeon_1"].queue_depth = queue_depth
                with self.assertRaises(ValueError) as cm:
                    self.sched.select_worker(t, self.workers, self.loads, {})
                self.assertEqual(str(cm.exception), where + "'cpu_utilization': " + said)
        # JSON cannot carry NaN; as a number it is named
        self.loads["cpu_xeon_1"].cpu_utilization = float("nan")
        self.loads["cpu_xeon_1"].queue_depth = 0
        with self.assertRaises(ValueError) as cm:
            self.sched.select_worker(t, self.workers, self.loads, {})
        self.assertEqual(str(cm.exception), where + "'cpu_utilization': "
                         "must be a finite number in 0..100 percent, got nan")
        self.loads["cpu_xeon_1"].cpu_utilization = 0
        self.loads["gpu_a100_1"].active_tests = 1.5
        with self.assertRaises(ValueError) as cm:
            self.sched.select_worker(t, self.workers, self.loads, {})
        self.assertEqual(str(cm.exception), "worker_loads['gpu_a100_1']: field "
                         "'active_tests': must be an integer in 0..1000000, got 1.5")
        self.loads["gpu_a100_1"].active_tests = 0
        self.loads["gpu_a100_1"].warming_state = self.loads["gpu_a100_1"].cooling_state = True
        with self.assertRaisesRegex(ValueError, "^worker_loads\\['gpu_a100_1'\\]: field "
                                    "'cooling_state': cannot be true together"):
            self.sched.select_worker(t, self.workers, self.loads, {})
        self.loads["gpu_a100_1"].warming_state = 1
        self.loads["gpu_a100_1"].cooling_state = False
        with self.assertRaisesRegex(ValueError, "^worker_loads\\['gpu_a100_1'\\]: field "
                                    "'warming_state': must be true or false, got 1"):
            self.sched.select_worker(t, self.workers, self.loads, {})

    def test_not_a_number(self):
        t = TestRequirements(test_id="nan", expected_duration=float("nan"))
        with self.assertRaises(ValueError):
            self.sched.select_worker(t, self.workers, self.loads, {})

    def test_bad_config_and_name(self):
        with self.assertRaisesRegex(ValueError, "no scheduler named 'nope'"):
            lbsched.PluginScheduler("nope", plugin=PLUGIN)
        with self.assertRaisesRegex(ValueError, "config"):
            lbsched.PluginScheduler("hardware-aware", plugin=PLUGIN,
                                    config={"no_such_field": 1})

    def test_bad_outcome(self):
        with self.assertRaisesRegex(ValueError, "duration"):
            self.sched.report("t", "cpu_xeon_1", True, -5)

    def test_no_workers_is_none(self):
        self.assertIsNone(self.sched.select_worker(original_tests()[0], {}, {}, {}))

    def test_wrong_major_plugin_refused(self):
        with self.assertRaisesRegex(ImportError, "ABI 2"):
            lbsched.PluginScheduler(plugin=os.environ["LBS_V2_PLUGIN"])

    def test_missing_plugin(self):
        with self.assertRaises(OSError):
            lbsched.PluginScheduler(plugin="/nonexistent/lbsched.so")

    def test_closed(self):
        s = lbsched.PluginScheduler(plugin=PLUGIN)
        s.close()
        s.close()
        with self.assertRaisesRegex(ValueError, "closed"):
            s.select_worker(original_tests()[0], self.workers, self.loads, {})


class ThreadsTest(unittest.TestCase):
    def test_two_threads_one_scheduler(self):
        workers, loads = original_fleet()
        tests = original_tests()
        sched = lbsched.PluginScheduler(plugin=PLUGIN)
        expected = [sched.select_worker(t, workers, loads, {}) for t in tests]
        errors, results = [], {}

        def run(name):
            try:
                got = []
                for _ in range(30):
                    got.append([sched.select_worker(t, workers, loads, {}) for t in tests])
                    sched.report("x", "cpu_xeon_1", True, 1.0, test_type="other")
                results[name] = got
            except Exception as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        self.assertEqual(errors, [])
        for got in results.values():
            for round_ in got:
                self.assertEqual(round_, expected)


if __name__ == "__main__":
    unittest.main()
