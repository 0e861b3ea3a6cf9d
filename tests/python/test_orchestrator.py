"""MultiDeviceOrchestrator (issue 20) through liblbsched-py: the original's
example flow (docs 000/001 of the seeds: register a multi-device LLM
workload, run ready subtasks, record results, aggregate), critical path,
failures recovered by strategy, and placement through a real scheduler.

Environment as test_binding.py (tests/meson.build).
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest
import warnings

import lbsched

SRC = os.environ.get("LBS_SRCDIR", os.path.join(os.path.dirname(__file__), "..", ".."))
PLUGIN = os.environ.get("LBS_PLUGIN")
HETERO = os.path.join(SRC, "examples", "hetero", "fleet.json")
EXAMPLE = os.path.join(SRC, "examples", "fleet.json")

# The original's example workload (seed 000, "Multi-Device Orchestration"),
# its subtask configurations filled in with requirements.
WORKLOAD = {
    "name": "Multi-Device LLM Inference",
    "aggregation_method": "concat",
    "subtasks": {
        "tokenize": {"requirements": {"test_type": "nlp_tokenize", "expected_duration": 5}},
        "encode": {"requirements": {"test_type": "embedding_text", "expected_duration": 20},
                   "dependencies": ["tokenize"]},
        "generate": {"requirements": {"test_type": "nlp_text_generation",
                                      "expected_duration": 90, "minimum_memory": 16},
                     "dependencies": ["encode"]},
        "postprocess": {"requirements": {"test_type": "nlp_detokenize", "expected_duration": 5},
                        "dependencies": ["generate"]},
    },
}


class OriginalFlow(unittest.TestCase):
    def test_example_flow(self):
        o = lbsched.MultiDeviceOrchestrator(workload_manager=None)
        o.register_workload("multi_device_workload", WORKLOAD)
        order = []
        while not o.is_workload_completed("multi_device_workload"):
            ready = o.get_ready_subtasks("multi_device_workload")
            self.assertTrue(ready, "nothing ready and not complete")
            for subtask in ready:
                self.assertEqual(subtask["config"],
                                 WORKLOAD["subtasks"][subtask["subtask_id"]])
                order.append(subtask["subtask_id"])
                r = o.record_subtask_result("multi_device_workload", subtask["subtask_id"],
                                            {"output": subtask["subtask_id"].upper()})
                self.assertEqual(r["state"], "completed")
        self.assertEqual(order, ["tokenize", "encode", "generate", "postprocess"])
        results = o.get_aggregated_results("multi_device_workload")
        self.assertEqual(results["aggregation_method"], "concat")
        self.assertTrue(results["completed"])
        self.assertEqual(results["result"], [{"output": "TOKENIZE"}, {"output": "ENCODE"},
                                             {"output": "GENERATE"}, {"output": "POSTPROCESS"}])
        self.assertEqual(results["skipped"], [])
        self.assertEqual(o.analyze_critical_path("multi_device_workload"),
                         ["tokenize", "encode", "generate", "postprocess"])
        o.close()

    def test_critical_path_first(self):
        g = {"subtasks": {
            "a": {"requirements": {"expected_duration": 2}},
            "long": {"requirements": {"expected_duration": 50}},
            "b": {"requirements": {"expected_duration": 3}, "dependencies": ["a"]}}}
        o = lbsched.MultiDeviceOrchestrator()
        o.register_workload("w", g)
        self.assertEqual([s["subtask_id"] for s in o.get_ready_subtasks("w")], ["long", "a"])
        d = o.critical_path_details("w")
        self.assertEqual(d["path"], ["long"])
        self.assertEqual(d["ranks"], {"a": 5, "long": 50, "b": 3})

    def test_bad_graphs(self):
        o = lbsched.MultiDeviceOrchestrator()
        with self.assertRaisesRegex(ValueError, "^w: subtask 'a': depends on 'zz', which the "
                                                "graph does not have$"):
            o.register_workload("w", {"subtasks": {"a": {"dependencies": ["zz"]}}})
        with self.assertRaisesRegex(ValueError, "^w: subtask 'a': is on a dependency cycle"):
            o.register_workload("w", {"subtasks": {"a": {"dependencies": ["b"]},
                                                   "b": {"dependencies": ["a"]}}})
        with self.assertRaises(KeyError):
            o.get_ready_subtasks("never")
        with self.assertWarnsRegex(lbsched.RecordWarning,
                                   "^w: subtask 'a': unknown field 'model' ignored$"):
            o.register_workload("w", {"subtasks": {"a": {"model": "bert"}}})
        # a warning made an error registers nothing
        with warnings.catch_warnings():
            warnings.simplefilter("error", lbsched.RecordWarning)
            with self.assertRaisesRegex(lbsched.RecordWarning, "unknown field 'model'"):
                o.register_workload("w2", {"subtasks": {"a": {"model": "bert"}}})
        with self.assertRaises(KeyError):
            o.get_ready_subtasks("w2")

    def test_registering_a_run_in_progress_again_is_refused(self):
        # It freed the run silently: the completed subtasks' results were
        # lost and the graph started again from its first subtask
        g = {"aggregation_method": "concat",
             "subtasks": {"x": {}, "y": {"dependencies": ["x"]}}}
        w = {"a": {"worker_id": "a", "available_memory": 16.0, "cpu_cores": 8}}
        want = ("register_workload: workload 'wl' is in progress (a subtask placed or a "
                "result recorded, and it has neither completed nor failed): registering it "
                "again would drop its run; register the graph under another id")
        s = lbsched.PluginScheduler(plugin=PLUGIN)
        o = lbsched.MultiDeviceOrchestrator(scheduler=s)
        # never started: replaced, as before
        o.register_workload("wl", g)
        o.register_workload("wl", g)
        # a subtask placed, or a result recorded: refused, the run kept
        self.assertEqual(o.place_subtask("wl", "x", w), "a")
        for start in ("placed", "recorded"):
            if start == "recorded":
                o.record_subtask_result("wl", "x", {"tokens": 123})
            with warnings.catch_warnings():
                warnings.simplefilter("error", lbsched.RecordWarning)  # refused before any
                with self.assertRaises(ValueError) as cm:
                    o.register_workload("wl", {"subtasks": {"x": {"model": "m"}}})
            self.assertEqual(str(cm.exception), want, start)
        self.assertEqual([t["subtask_id"] for t in o.get_ready_subtasks("wl")], ["y"])
        o.record_subtask_result("wl", "y", {"tokens": 4})
        self.assertEqual(o.get_aggregated_results("wl")["result"],
                         [{"tokens": 123}, {"tokens": 4}])
        # ended (completed): replaced by a new run
        o.register_workload("wl", g)
        self.assertEqual([t["subtask_id"] for t in o.get_ready_subtasks("wl")], ["x"])
        # a result recorded without a placement starts a run too
        o.record_subtask_result("wl", "x", 1)
        with self.assertRaises(ValueError) as cm:
            o.register_workload("wl", g)
        self.assertEqual(str(cm.exception), want)
        # ended (failed): replaced
        o.register_workload("f", {"subtasks": {"x": {"recovery": {"strategy": "retry",
                                                                "max_attempts": 1}}}})
        o.record_subtask_result("f", "x", None, success=False)
        self.assertTrue(o.is_workload_failed("f"))
        o.register_workload("f", g)
        self.assertEqual([t["subtask_id"] for t in o.get_ready_subtasks("f")], ["x"])
        o.close()
        s.close()

    def test_a_closed_orchestrator_refuses_every_call(self):
        # close() freed the runs and left the object working: old ids were
        # KeyError "no workload ... registered", and new ones registered
        # and placed
        w = {"a": {"worker_id": "a", "available_memory": 16.0, "cpu_cores": 8}}
        g = {"subtasks": {"x": {}, "y": {"dependencies": ["x"]}}}
        s = lbsched.PluginScheduler(plugin=PLUGIN)
        o = lbsched.MultiDeviceOrchestrator(scheduler=s)
        o.register_workload("wl", g)
        sub = o.get_subtask("wl", "y")
        o.close()
        o.close()  # again: nothing to do, no error
        calls = {
            "register_workload": lambda: o.register_workload("z", g),
            "register_workload again": lambda: o.register_workload("wl", g),
            "get_ready_subtasks": lambda: o.get_ready_subtasks("wl"),
            "get_subtask": lambda: o.get_subtask("wl", "x"),
            "place_subtask": lambda: o.place_subtask("wl", "x", w),
            "estimate_durations": lambda: o.estimate_durations("wl", w),
            "record_subtask_result": lambda: o.record_subtask_result("wl", "x", 1),
            "is_workload_completed": lambda: o.is_workload_completed("wl"),
            "is_workload_failed": lambda: o.is_workload_failed("wl"),
            "get_aggregated_results": lambda: o.get_aggregated_results("wl"),
            "analyze_critical_path": lambda: o.analyze_critical_path("wl"),
            "critical_path_details": lambda: o.critical_path_details("wl"),
            "a Subtask's priority": lambda: sub.priority,
            "a Subtask's state": lambda: sub.state,
        }
        for name, call in calls.items():
            with self.assertRaises(ValueError) as cm:
                call()
            self.assertEqual(str(cm.exception), "lbsched: the orchestrator is closed", name)
        with self.assertRaises(ValueError) as cm:
            sub.priority = 2
        self.assertEqual(str(cm.exception), "lbsched: the orchestrator is closed")
        # the scheduler is the caller's: still open
        self.assertIn(s.select_worker({"test_id": "t"}, w), w)
        o.__del__()  # as on garbage collection: closed again, quietly
        s.close()

    def test_failure_recovery(self):
        g = {"aggregation_method": "concat", "subtasks": {
            "a": {"recovery": {"strategy": "skip"}},
            "b": {"recovery": {"strategy": "retry", "backoff_base_s": 0, "jitter": 0}},
            "c": {"dependencies": ["a", "b"]}}}
        o = lbsched.MultiDeviceOrchestrator()
        o.register_workload("w", g)
        r = o.record_subtask_result("w", "a", None, success=False)
        self.assertEqual(r, {"state": "skipped", "recovery": "skip", "delay_s": 0})
        r = o.record_subtask_result("w", "b", None, success=False)
        self.assertEqual(r["recovery"], "retry")
        self.assertEqual(r["state"], "pending")
        o.record_subtask_result("w", "b", 2)
        o.record_subtask_result("w", "c", 3)
        self.assertTrue(o.is_workload_completed("w"))
        agg = o.get_aggregated_results("w")
        self.assertEqual(agg["result"], [2, 3])
        self.assertEqual(agg["skipped"], ["a"])
        with self.assertRaisesRegex(ValueError, "has no run to record a result for"):
            o.record_subtask_result("w", "c", 3)

    def test_a_refused_result_changes_nothing(self):
        # it used to start the run first: the subtask was left running, never
        # ready again, and the original's loop waited for good
        o = lbsched.MultiDeviceOrchestrator()
        o.register_workload("w", {"subtasks": {"a": {}, "b": {"dependencies": ["a"]}}})
        with self.assertRaisesRegex(ValueError, "^w: subtask 'a': result: field 'score': must "
                                                "be a finite number, got nan$"):
            o.record_subtask_result("w", "a", {"score": float("nan")})
        with self.assertRaisesRegex(ValueError, "duration must be a number in 0..10000000 s$"):
            o.record_subtask_result("w", "a", 1, duration=-1)
        # squared in the store's sums, 1e200 would be infinite and cost the
        # pair every sample it learned before
        with self.assertRaisesRegex(ValueError, "^w: subtask 'a': duration must be a number "
                                                "in 0..10000000 s$"):
            o.record_subtask_result("w", "a", 1, duration=1e200)
        with self.assertRaisesRegex(ValueError, "progress must be in 0..1"):
            o.record_subtask_result("w", "a", 1, success=False, progress=5)
        with self.assertRaisesRegex(ValueError, "^w: subtask 'a': duration must be a number, "
                                                "got 'x'$"):
            o.record_subtask_result("w", "a", 1, duration="x")
        self.assertEqual([t["subtask_id"] for t in o.get_ready_subtasks("w")], ["a"])
        o.record_subtask_result("w", "a", 1)
        self.assertEqual([t["subtask_id"] for t in o.get_ready_subtasks("w")], ["b"])

    def test_success_must_be_a_bool(self):
        # "false" was truthy: recorded as a success, the workload completed
        o = lbsched.MultiDeviceOrchestrator()
        o.register_workload("w", {"subtasks": {"a": {}}})
        for v in ("false", "true", 0, 1, 1.0, None):
            with self.assertRaises(ValueError) as cm:
                o.record_subtask_result("w", "a", None, success=v)
            self.assertEqual(str(cm.exception), "w: subtask 'a': success must be True or "
                             "False, got %r" % (v,))
        self.assertFalse(o.is_workload_completed("w"))
        self.assertEqual([t["subtask_id"] for t in o.get_ready_subtasks("w")], ["a"])
        self.assertEqual(o.record_subtask_result("w", "a", None, success=True)["state"],
                         "completed")

    def test_records_in_a_graph_are_their_fields(self):
        # requirements as the original's TestRequirements object, a set
        class Req(object):
            def __init__(self):
                self.test_type = "nlp_tokenize"
                self.minimum_memory = 2
        o = lbsched.MultiDeviceOrchestrator()
        o.register_workload("w", {"subtasks": {"a": {"requirements": Req()}}})
        self.assertEqual([t["subtask_id"] for t in o.get_ready_subtasks("w")], ["a"])
        with self.assertRaisesRegex(ValueError, "^w: field 'subtasks.a.requirements."
                                                "expected_duration': must be a finite number"):
            o.register_workload("w", {"subtasks": {"a": {"requirements": {
                "expected_duration": float("inf")}}}})

    def test_place_reassign(self):
        fleet = json.load(open(HETERO))["workers"]
        s = lbsched.PluginScheduler("hardware-aware", plugin=PLUGIN)
        o = lbsched.MultiDeviceOrchestrator(scheduler=s)
        o.register_workload("w", {"subtasks": {"gen": {
            "requirements": {"test_type": "nlp_text_generation", "required_backend": "cuda"},
            "recovery": {"strategy": "reassign", "max_attempts": 20}}}})
        o.estimate_durations("w", fleet)
        self.assertLess(o.critical_path_details("w")["length_s"], 60)
        tried = []
        for _ in range(8):   # the fleet's eight CUDA workers
            w = o.place_subtask("w", "gen", fleet)
            self.assertTrue(w.startswith("gpu_"))
            self.assertNotIn(w, tried)
            tried.append(w)
            self.assertEqual(o.record_subtask_result("w", "gen", None, success=False,
                                                     worker_id=w)["recovery"], "reassign")
        # every CUDA worker failed it, but place_subtask cannot know that
        # no other will join: it waits, and its attempts bound it
        self.assertIsNone(o.place_subtask("w", "gen", fleet))
        self.assertEqual(o.get_subtask("w", "gen").state, "pending")
        self.assertFalse(o.is_workload_failed("w"))
        # a caller that knows none will come spends the attempts left
        for _ in range(20 - 8):
            o.record_subtask_result("w", "gen", None, success=False)
        self.assertTrue(o.is_workload_failed("w"))
        self.assertEqual(o.get_aggregated_results("w")["lost"], ["gen"])
        s.close()

    def test_place_among_workers_available_loses_nothing(self):
        # place_subtask is given the workers available now: none of them
        # left to reassign to lost the subtask, gpu_p100_legacy_1 untried
        fleet = {w["worker_id"]: w for w in json.load(open(EXAMPLE))["workers"]}
        s = lbsched.PluginScheduler("hardware-aware", plugin=PLUGIN)
        o = lbsched.MultiDeviceOrchestrator(scheduler=s)
        o.register_workload("w", {"subtasks": {"gen": {
            "requirements": {"test_type": "nlp_text_generation", "required_backend": "cuda",
                             "minimum_memory": 16},
            "recovery": {"strategy": "reassign", "max_attempts": 5}}}})
        self.assertEqual(o.place_subtask("w", "gen", fleet), "gpu_a100_1")
        o.record_subtask_result("w", "gen", None, success=False, worker_id="gpu_a100_1")
        cpus = {k: fleet[k] for k in ("cpu_xeon_1", "cpu_epyc_2")}
        self.assertIsNone(o.place_subtask("w", "gen", cpus))
        self.assertEqual(o.get_subtask("w", "gen").state, "pending")
        self.assertFalse(o.is_workload_failed("w"))
        self.assertEqual(o.place_subtask("w", "gen", fleet), "gpu_p100_legacy_1")
        s.close()

    def test_ready_shows_the_alternate_to_be_placed(self):
        cuda = {"test_type": "nlp_text_generation", "required_backend": "cuda"}
        tpu = {"test_type": "nlp_text_generation", "required_backend": "tpu"}
        rocm = {"test_type": "nlp_text_generation", "required_backend": "rocm"}
        gen = {"requirements": cuda, "alternates": [tpu, rocm],
               "recovery": {"strategy": "alternate"}}
        o = lbsched.MultiDeviceOrchestrator()
        o.register_workload("w", {"subtasks": {"gen": gen}})
        # an alternate at the priority placement uses (the default here)
        at3 = lambda r: dict(r, priority=3)  # noqa: E731
        for want, alternate in ((cuda, 0), (at3(tpu), 1), (at3(rocm), 2), (at3(rocm), 2)):
            (r,) = o.get_ready_subtasks("w")
            self.assertEqual((r["config"]["requirements"], r["alternate"]), (want, alternate))
            self.assertEqual(r["config"]["alternates"], [tpu, rocm])
            self.assertEqual(o.record_subtask_result("w", "gen", None, success=False)["recovery"],
                             "alternate")
        # the registered config is left as it was
        self.assertEqual(gen["requirements"], cuda)

    def test_an_alternate_is_estimated_and_ranked_anew(self):
        # after the switch, x still showed the 600 s of the requirements it
        # left, and stayed the critical path ahead of y's 100 s
        o = lbsched.MultiDeviceOrchestrator()
        o.register_workload("w", {"subtasks": {
            "x": {"requirements": {"expected_duration": 600},
                  "alternates": [{"expected_duration": 5}],
                  "recovery": {"strategy": "alternate"}},
            "y": {"requirements": {"expected_duration": 100}}}})
        self.assertEqual(o.analyze_critical_path("w"), ["x"])
        o.record_subtask_result("w", "x", None, success=False)
        ready = {r["subtask_id"]: r for r in o.get_ready_subtasks("w")}
        self.assertEqual((ready["x"]["est_s"], ready["x"]["upward_rank"],
                          ready["x"]["critical_path"]), (5, 5, False))
        self.assertEqual([r["subtask_id"] for r in o.get_ready_subtasks("w")], ["y", "x"])
        self.assertEqual(o.critical_path_details("w"),
                         {"path": ["y"], "length_s": 100, "ranks": {"x": 5, "y": 100}})

    def test_ready_shows_the_alternate_at_the_priority_placed(self):
        # It showed alternates[k-1] with its own priority, 5, while
        # placement used the subtask's, 2
        o = lbsched.MultiDeviceOrchestrator()
        o.register_workload("x", {"subtasks": {"g": {
            "requirements": {"required_backend": "cuda"}, "priority": 2,
            "alternates": [{"required_backend": "tpu", "priority": 5}],
            "recovery": {"strategy": "alternate"}}}})
        o.record_subtask_result("x", "g", None, success=False)
        (r,) = o.get_ready_subtasks("x")
        self.assertEqual(r["config"]["requirements"], {"required_backend": "tpu", "priority": 2})
        o.get_subtask("x", "g").priority = 4  # a priority set is the one placed
        (r,) = o.get_ready_subtasks("x")
        self.assertEqual(r["config"]["requirements"], {"required_backend": "tpu", "priority": 4})

    def test_reassign_excludes_the_worker_it_ran_on(self):
        # the caller says the run failed on w2, not on w1 where it was
        # placed: reassign excluded w1, and the next place went to w2
        s = lbsched.PluginScheduler("round-robin", plugin=PLUGIN)
        o = lbsched.MultiDeviceOrchestrator(scheduler=s)
        two = {"w1": {"cpu_cores": 4, "available_memory": 16},
               "w2": {"cpu_cores": 4, "available_memory": 16}}
        o.register_workload("x", {"subtasks": {"a": {"recovery": {
            "strategy": "reassign", "max_attempts": 5}}}})
        self.assertEqual(o.place_subtask("x", "a", two), "w1")
        r = o.record_subtask_result("x", "a", None, success=False, worker_id="w2")
        self.assertEqual(r["recovery"], "reassign")
        # round-robin's next would be w2: excluded, w1 again
        self.assertEqual(o.place_subtask("x", "a", two), "w1")
        o.record_subtask_result("x", "a", None, success=False, worker_id="w1")
        self.assertIsNone(o.place_subtask("x", "a", two))
        s.close()

    def test_place_warns_as_select_does(self):
        # place_subtask and estimate_durations dropped the library's
        # warnings: a misspelt field was ignored without a word
        s = lbsched.PluginScheduler("hardware-aware", plugin=PLUGIN)
        o = lbsched.MultiDeviceOrchestrator(scheduler=s)
        o.register_workload("w", {"subtasks": {"a": {}}})
        ws = {"w1": {"worker_id": "w1", "supported_backends": ["cpu"], "available_memory": 64,
                     "avaliable_memory": 3}}
        for call in (lambda: s.select_worker({"test_id": "t"}, ws),
                     lambda: o.estimate_durations("w", ws),
                     lambda: o.place_subtask("w", "a", ws)):
            with warnings.catch_warnings(record=True) as got:
                warnings.simplefilter("always")
                call()
            self.assertEqual([str(w.message) for w in got
                              if issubclass(w.category, lbsched.RecordWarning)],
                             ["available_workers['w1']: unknown field 'avaliable_memory' "
                              "ignored"])
        s.close()

    def test_a_warning_made_an_error_places_nothing(self):
        # -W error raised after the placement: the subtask was running on
        # a worker the caller never heard of
        s = lbsched.PluginScheduler("hardware-aware", plugin=PLUGIN)
        o = lbsched.MultiDeviceOrchestrator(scheduler=s)
        o.register_workload("w", {"subtasks": {"a": {}}})
        ws = {"w1": {"worker_id": "w1", "supported_backends": ["cpu"], "available_memory": 64,
                     "avaliable_memory": 3}}
        for _ in range(2):
            with warnings.catch_warnings():
                warnings.simplefilter("error", lbsched.RecordWarning)
                with self.assertRaisesRegex(lbsched.RecordWarning, "'avaliable_memory' ignored"):
                    o.place_subtask("w", "a", ws)
            self.assertEqual([r["subtask_id"] for r in o.get_ready_subtasks("w")], ["a"])
        with warnings.catch_warnings():
            warnings.simplefilter("error", lbsched.RecordWarning)
            with self.assertRaisesRegex(lbsched.RecordWarning, "'avaliable_memory' ignored"):
                o.estimate_durations("w", ws)
        # ignored, it places, once
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            self.assertEqual(o.place_subtask("w", "a", ws), "w1")
        self.assertEqual(len(got), 1)
        self.assertEqual(o.get_ready_subtasks("w"), [])
        s.close()

    def test_place_waits_for_the_backoff(self):
        # place_subtask placed a subtask its retry's backoff held back (and
        # spent an attempt), which get_ready_subtasks did not list
        s = lbsched.PluginScheduler("hardware-aware", plugin=PLUGIN)
        o = lbsched.MultiDeviceOrchestrator(scheduler=s)
        good = {"w1": {"cpu_cores": 4, "available_memory": 16}}
        o.register_workload("w", {"subtasks": {"a": {"recovery": {
            "strategy": "retry", "backoff_base_s": 20, "jitter": 0, "max_attempts": 3}}}})
        self.assertEqual(o.place_subtask("w", "a", good), "w1")
        r = o.record_subtask_result("w", "a", None, success=False, worker_id="w1")
        self.assertEqual((r["state"], r["recovery"]), ("pending", "retry"))
        self.assertGreater(r["delay_s"], 10)
        self.assertEqual(o.get_ready_subtasks("w"), [])
        with self.assertRaisesRegex(ValueError, "^w: subtask 'a': is not ready to place$"):
            o.place_subtask("w", "a", good)
        s.close()

    def test_a_long_workload_id_leaves_room_for_the_problem(self):
        # a workload id of 3,000 bytes went first in the library's message
        # and filled its 2,048 bytes: the subtask and the problem were lost
        wid = "w" * 3000
        o = lbsched.MultiDeviceOrchestrator()
        with self.assertRaisesRegex(ValueError, r"^w{64}\.\.\.: subtask 'a': depends on 'zz', "
                                                "which the graph does not have$"):
            o.register_workload(wid, {"subtasks": {"a": {"dependencies": ["zz"]}}})
        o.register_workload(wid, {"subtasks": {"a": {}}})
        with self.assertRaisesRegex(ValueError, r"^w{64}\.\.\.: subtask 'zz': the workload has "
                                                "no such subtask$"):
            o.record_subtask_result(wid, "zz", 1)

    def test_subtask_errors_start_with_the_workload(self):
        # an unknown or unready subtask said "lbsched: the workload has no
        # subtask 'zz'", naming no workload, where every other error of
        # the orchestrator starts with its id
        s = lbsched.PluginScheduler("round-robin", plugin=PLUGIN)
        o = lbsched.MultiDeviceOrchestrator(scheduler=s)
        o.register_workload("w2", {"subtasks": {"a": {}, "b": {"dependencies": ["a"]}}})
        good = {"w1": {"cpu_cores": 4, "available_memory": 16}}
        for call in (lambda: o.record_subtask_result("w2", "zz", 1),
                     lambda: o.place_subtask("w2", "zz", good),
                     lambda: o.get_subtask("w2", "zz")):
            with self.assertRaisesRegex(ValueError, "^w2: subtask 'zz': the workload has no "
                                                    "such subtask$"):
                call()
        with self.assertRaisesRegex(ValueError, "^w2: subtask 'b': is not ready to place$"):
            o.place_subtask("w2", "b", good)
        with self.assertRaisesRegex(ValueError, "^w2: subtask 'b': is not ready: a dependency "
                                                "has no result yet$"):
            o.record_subtask_result("w2", "b", 1)
        s.close()

    def test_fleet_errors_name_the_callers_keys(self):
        # as select_worker's: explain, place_subtask and estimate_durations
        # said "available_workers: workers[0]: field ..."
        s = lbsched.PluginScheduler("hardware-aware", plugin=PLUGIN)
        o = lbsched.MultiDeviceOrchestrator(scheduler=s)
        o.register_workload("w", {"subtasks": {"a": {}}})
        bad_caps = {"w1": {"cpu_cores": -4}}
        good = {"w1": {"cpu_cores": 4, "available_memory": 16}}
        bad_load = {"w1": {"cpu_utilization": 250}}
        caps_msg = ("available_workers['w1']: field 'cpu_cores': must be an integer in "
                    "0..1000000, got -4")
        load_msg = ("worker_loads['w1']: field 'cpu_utilization': must be a finite number "
                    "in 0..100 percent, got 250")
        for call in (lambda *a: s.explain({"test_id": "t"}, *a),
                     lambda *a: o.place_subtask("w", "a", *a),
                     lambda *a: o.estimate_durations("w", *a)):
            for args, want in (((bad_caps,), caps_msg), ((good, bad_load), load_msg)):
                with self.assertRaises(ValueError) as cm:
                    call(*args)
                self.assertEqual(str(cm.exception), want)
        with self.assertRaisesRegex(ValueError, "^available_workers\\[0\\]: field 'cpu_cores'"):
            o.place_subtask("w", "a", [{"worker_id": "x", "cpu_cores": -4}])
        self.assertEqual(o.place_subtask("w", "a", good), "w1")
        s.close()

    def test_wrong_argument_types_are_named(self):
        # as select_worker's: a raw TypeError ('NoneType' object is not
        # iterable) or AttributeError ('list' object has no attribute 'get')
        s = lbsched.PluginScheduler("hardware-aware", plugin=PLUGIN)
        o = lbsched.MultiDeviceOrchestrator(scheduler=s)
        o.register_workload("w", {"subtasks": {"a": {}}})
        good = {"w1": {"cpu_cores": 4, "available_memory": 16}}
        t = {"test_id": "t"}
        for args in ((None,), ("abc",), (5,), (good, [1]), (good, 5), (good, "x")):
            with self.assertRaises(ValueError) as cm:
                s.select_worker(t, *args)
            want = str(cm.exception)
            self.assertRegex(want, "^(available_workers|worker_loads): expected a dict")
            for call in (lambda: o.place_subtask("w", "a", *args),
                         lambda: o.estimate_durations("w", *args)):
                with self.assertRaises(ValueError) as cm:
                    call()
                self.assertEqual(str(cm.exception), want)
        self.assertEqual(o.place_subtask("w", "a", good), "w1")
        s.close()

    def test_numbers_beyond_a_double_are_named(self):
        # float(10**400) was a bare OverflowError
        o = lbsched.MultiDeviceOrchestrator()
        o.register_workload("w", {"subtasks": {"a": {}}})
        for name in ("duration", "progress"):
            for v in (10 ** 400, -10 ** 400):
                with self.assertRaises(ValueError) as cm:
                    o.record_subtask_result("w", "a", 1, success=False, **{name: v})
                self.assertEqual(str(cm.exception), "w: subtask 'a': %s must be a number a "
                                 "double can hold, got an int of 401 digits" % name)
        self.assertEqual([t["subtask_id"] for t in o.get_ready_subtasks("w")], ["a"])
        # an int a double holds is a duration like any other
        self.assertEqual(o.record_subtask_result("w", "a", 1, duration=10 ** 7)["state"],
                         "completed")


TWINS = {w: {"worker_id": w, "cpu_cores": 16, "available_memory": 64,
             "supported_backends": ["cpu", "onnx"]} for w in ("left_1", "right_1")}


class LearnsFromResults(unittest.TestCase):
    """With report_results, a result recorded for a subtask placed through
    the scheduler is that scheduler's outcome: it was recorded only, and a
    learning scheduler placing through the orchestrator learned nothing
    (reports 0).  Without it, the original's way: the caller reports."""

    def graph(self, n, ttype="vision"):
        return {"subtasks": {"s%d" % i: {"requirements": {"test_type": ttype,
                                                         "expected_duration": 10},
                                         "recovery": {"strategy": "skip"}}
                             for i in range(n)}}

    def test_a_recorded_result_is_learned_under_the_subtasks_type(self):
        s = lbsched.PluginScheduler(plugin=PLUGIN)
        first = s.select_worker({"test_id": "x", "test_type": "vision"}, TWINS)
        other = ({"left_1", "right_1"} - {first}).pop()
        o = lbsched.MultiDeviceOrchestrator(scheduler=s, report_results=True)
        o.register_workload("w", self.graph(20))
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            for i in range(20):
                w = o.place_subtask("w", "s%d" % i, TWINS)
                # the first worker fails every vision subtask, the other not
                o.record_subtask_result("w", "s%d" % i, None, success=w != first,
                                        duration=30.0, worker_id=w)
        self.assertEqual([str(w.message) for w in said], [])
        st = s.stats()
        self.assertEqual((st["reports"], st["learned_pairs"]), (20, 2), st)
        # learned under vision: a vision test goes to the other worker, an
        # nlp test does not
        self.assertEqual(s.select_worker({"test_id": "v", "test_type": "vision"}, TWINS), other)
        self.assertEqual(s.select_worker({"test_id": "n", "test_type": "nlp"}, TWINS), first)

    def test_a_result_reaches_the_decision_that_placed_it(self):
        s = lbsched.PluginScheduler("adaptive", plugin=PLUGIN)
        o = lbsched.MultiDeviceOrchestrator(scheduler=s, report_results=True)
        o.register_workload("w", self.graph(3))
        for i in range(3):
            o.place_subtask("w", "s%d" % i, TWINS)
            o.record_subtask_result("w", "s%d" % i, None, duration=5.0)
        st = s.stats()
        self.assertEqual((st["reports"], st["unmatched_reports"]), (3, 0), st)

    def test_runs_of_one_test_id_on_one_worker_are_each_learned(self):
        # two workloads of one graph: the same test ids, on the one worker
        one = {"left_1": TWINS["left_1"]}
        s = lbsched.PluginScheduler(plugin=PLUGIN)
        o = lbsched.MultiDeviceOrchestrator(scheduler=s, report_results=True)
        o.register_workload("a", self.graph(1))
        o.register_workload("b", self.graph(1))
        self.assertEqual(o.place_subtask("a", "s0", one), "left_1")
        self.assertEqual(o.place_subtask("b", "s0", one), "left_1")
        o.record_subtask_result("a", "s0", None, duration=5.0)
        o.record_subtask_result("b", "s0", None, success=False, duration=5.0)
        self.assertEqual(s.stats()["reports"], 2)

    def test_without_report_results_the_caller_reports(self):
        s = lbsched.PluginScheduler(plugin=PLUGIN)
        o = lbsched.MultiDeviceOrchestrator(scheduler=s)
        o.register_workload("w", self.graph(2))
        w = o.place_subtask("w", "s0", TWINS)
        o.record_subtask_result("w", "s0", None, duration=5.0, worker_id=w)
        self.assertEqual(s.stats()["reports"], 0)
        # the caller's report of it takes the subtask's type: no warning
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            self.assertTrue(s.report("s0", w, True, 5.0))
        self.assertEqual([str(x.message) for x in said], [])
        self.assertEqual(s.stats()["reports"], 1)
        with self.assertRaises(ValueError) as cm:
            lbsched.MultiDeviceOrchestrator(scheduler=s, report_results="yes")
        self.assertEqual(str(cm.exception), "report_results: must be True or False, got 'yes'")

    def test_a_refused_record_leaves_the_run_to_the_corrected_one(self):
        s = lbsched.PluginScheduler(plugin=PLUGIN)
        o = lbsched.MultiDeviceOrchestrator(scheduler=s, report_results=True)
        o.register_workload("w", self.graph(1))
        o.place_subtask("w", "s0", TWINS)
        with self.assertRaises(ValueError):
            o.record_subtask_result("w", "s0", None, duration=5.0, progress=2.0)
        self.assertEqual(s.stats()["reports"], 0)
        o.record_subtask_result("w", "s0", None, duration=5.0, progress=1.0)
        self.assertEqual(s.stats()["reports"], 1)

    def test_a_result_without_a_duration_is_recorded_not_reported(self):
        s = lbsched.PluginScheduler(plugin=PLUGIN)
        o = lbsched.MultiDeviceOrchestrator(scheduler=s, report_results=True)
        o.register_workload("w", self.graph(2))
        o.place_subtask("w", "s0", TWINS)
        with self.assertWarns(lbsched.RecordWarning) as cm:
            r = o.record_subtask_result("w", "s0", None)
        self.assertEqual(str(cm.warning), "w: subtask 's0': the result is recorded, but not "
                         "reported to the scheduler: no duration was given (report_results)")
        self.assertEqual(r, {"state": "completed", "recovery": None, "delay_s": 0})
        self.assertEqual(s.stats()["reports"], 0)
        # a subtask the caller started itself (no place_subtask): recorded only
        o.record_subtask_result("w", "s1", None, duration=5.0, worker_id="left_1")
        self.assertEqual(s.stats()["reports"], 0)

    def test_no_duration_is_said_only_to_a_scheduler_that_learns(self):
        # round-robin learns nothing from an outcome: the warning was noise
        self.assertTrue(lbsched.PluginScheduler(plugin=PLUGIN).learns)
        s = lbsched.PluginScheduler("round-robin", plugin=PLUGIN)
        self.assertFalse(s.learns)
        o = lbsched.MultiDeviceOrchestrator(scheduler=s, report_results=True)
        o.register_workload("w", self.graph(2))
        o.place_subtask("w", "s0", TWINS)
        with warnings.catch_warnings():
            warnings.simplefilter("error", lbsched.RecordWarning)
            r = o.record_subtask_result("w", "s0", None)
        self.assertEqual(r["state"], "completed")

    def test_a_resumed_run_is_learned_against_the_work_it_had_left(self):
        # reported against the whole 100 s, a run that resumed at 75 % and
        # took 25 s taught a speed 4x the worker's
        with tempfile.TemporaryDirectory() as d:
            s = lbsched.PluginScheduler(plugin=PLUGIN, config=json.dumps(
                {"store": {"path": d + "/st", "batch_count": 1}}))
            o = lbsched.MultiDeviceOrchestrator(scheduler=s, report_results=True)
            o.register_workload("w", {"subtasks": {"c": {
                "requirements": {"test_type": "vision", "expected_duration": 100},
                "recovery": {"strategy": "checkpoint", "max_attempts": 5}}}})
            first = o.place_subtask("w", "c", TWINS)
            o.record_subtask_result("w", "c", None, success=False, duration=75.0,
                                    progress=0.75)
            second = o.place_subtask("w", "c", TWINS)
            o.record_subtask_result("w", "c", None, duration=25.0)
            s.close()
            out = subprocess.run([os.environ["LBS_SHIM"], "prefs", "export", "--plugin", PLUGIN,
                                  "--db", d + "/st"], check=True, capture_output=True,
                                 text=True).stdout
        ok = [r for r in json.loads(out)["records"] if r["successes"] == 1]
        self.assertEqual([r["worker"] for r in ok], [second])
        self.assertEqual(ok[0]["ratio_n"], 1)
        self.assertAlmostEqual(ok[0]["log_ratio_mean"], 0.0, places=9)
        self.assertTrue(first in TWINS)

    def recorded_with_warning(self, o, warning):
        """s0's 5 s result: recorded (its workload completed), with this
        RecordWarning."""
        with self.assertWarns(lbsched.RecordWarning) as cm:
            r = o.record_subtask_result("w", "s0", None, duration=5.0)
        self.assertEqual(str(cm.warning), warning)
        self.assertEqual(r, {"state": "completed", "recovery": None, "delay_s": 0})

    def test_a_result_after_the_scheduler_closed_is_recorded_and_said(self):
        # it went as a record only, without a word
        s = lbsched.PluginScheduler(plugin=PLUGIN)
        o = lbsched.MultiDeviceOrchestrator(scheduler=s, report_results=True)
        o.register_workload("w", self.graph(2))
        o.place_subtask("w", "s0", TWINS)
        s.close()
        self.recorded_with_warning(o, "w: subtask 's0': the result is recorded, but not "
                                      "reported to the scheduler: it was closed since it "
                                      "placed the subtask (report_results)")
        self.assertEqual([t["subtask_id"] for t in o.get_ready_subtasks("w")], ["s1"])

    def test_an_outcome_the_scheduler_refuses_is_recorded_and_said(self):
        long = "w" * 600
        s = lbsched.PluginScheduler(plugin=PLUGIN)
        o = lbsched.MultiDeviceOrchestrator(scheduler=s, report_results=True)
        o.register_workload("w", self.graph(1))
        self.assertEqual(o.place_subtask("w", "s0", {long: dict(TWINS["left_1"],
                                                                worker_id=long)}), long)
        self.recorded_with_warning(o, "w: subtask 's0': the result is recorded, but the "
                                      "scheduler refused it as an outcome: field 'worker_id': "
                                      "is 600 bytes long, more than the 510 a scheduler "
                                      "learns from (a store's longest key)")
        self.assertEqual(s.stats()["reports"], 0)

    def test_a_scheduler_that_does_not_learn_records_as_before(self):
        s = lbsched.create_scheduler("round_robin", plugin=PLUGIN)
        o = lbsched.MultiDeviceOrchestrator(scheduler=s, report_results=True)
        o.register_workload("w", self.graph(1))
        o.place_subtask("w", "s0", TWINS)
        self.assertEqual(o.record_subtask_result("w", "s0", None, duration=5.0),
                         {"state": "completed", "recovery": None, "delay_s": 0})
        self.assertTrue(o.is_workload_completed("w"))


class CopyTest(unittest.TestCase):
    def test_an_orchestrator_is_not_copied_or_pickled(self):
        # A copy shared the runs' handles: collecting it freed every
        # registered workload under the original (in a child: the parent
        # would crash, not fail)
        code = """
import copy, json, pickle, sys, lbsched
o = lbsched.MultiDeviceOrchestrator()
o.register_workload("wl", json.loads(sys.argv[1]))
for f in (copy.copy, copy.deepcopy, pickle.dumps):
    try:
        f(o)
        print("copied")
    except TypeError as e:
        print(e)
print([r["subtask_id"] for r in o.get_ready_subtasks("wl")])
"""
        r = subprocess.run([sys.executable, "-c", code, json.dumps(WORKLOAD)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
        want = ("lbsched.MultiDeviceOrchestrator cannot be copied or pickled: it owns its "
                "workloads' runs; create another and register them again")
        self.assertEqual((r.returncode, r.stdout.splitlines()),
                         (0, [want] * 3 + ["['tokenize']"]), r.stderr)


class GetSubtask(unittest.TestCase):
    def test_seed_snippet_boosts_the_critical_path(self):
        # seed 001, "Critical Path Analysis", as pasted
        o = lbsched.MultiDeviceOrchestrator()
        workload_id = "w"
        o.register_workload(workload_id, {"subtasks": {
            "a": {"requirements": {"expected_duration": 50}, "priority": 4},
            "b": {"requirements": {"expected_duration": 1}}}})
        critical_path = o.analyze_critical_path(workload_id)
        self.assertEqual(critical_path, ["a"])
        for subtask_id in critical_path:
            subtask = o.get_subtask(workload_id, subtask_id)
            subtask.priority -= 1  # Lower number = higher priority
        a = o.get_subtask(workload_id, "a")
        self.assertEqual((a.subtask_id, a.priority, a.state, a.attempts, a.worker),
                         ("a", 3, "pending", 0, None))
        self.assertEqual(a.config, {"requirements": {"expected_duration": 50}, "priority": 4})
        self.assertEqual(o.get_subtask(workload_id, "b").priority, 3)  # the default
        for bad in (6, 2.5, "1", True, 10 ** 400, float("nan"), -0.5):
            with self.assertRaisesRegex(ValueError, "^w: subtask 'a': field 'priority': must "
                                                    "be an integer in 1..5, got "):
                a.priority = bad
        self.assertEqual(a.priority, 3)
        # what was given named by its kind, not written out whole; and the
        # workload's id cut as in every other orchestrator error (the
        # setter's own message held all of a 3,000-byte id)
        long_id = "W" * 3000
        o.register_workload(long_id, {"subtasks": {"a": {"requirements": {}}}})
        for bad, got in ((9, "9"), ("x" * 5000, "a str"), (10 ** 400, "an int of 401 digits"),
                         (True, "a bool"), (2.5, "2.5")):
            with self.assertRaises(ValueError) as e:
                o.get_subtask(long_id, "a").priority = bad
            self.assertRegex(str(e.exception), "^W+\\.\\.\\.: subtask 'a': field 'priority': must "
                             "be an integer in 1..5, got %s$" % got)
            self.assertLess(len(str(e.exception)), 200)
        with self.assertRaisesRegex(ValueError, "^w: subtask 'zz': the workload has no such "
                                                "subtask$"):
            o.get_subtask(workload_id, "zz")
        with self.assertRaises(KeyError):
            o.get_subtask("never", "a")

    def test_seed_snippet_runs_on_a_subtask_at_priority_1(self):
        # priority -= 1 on a subtask already at the highest raised
        # ValueError: the seed's loop did not run as pasted
        o = lbsched.MultiDeviceOrchestrator()
        o.register_workload("w", {"subtasks": {
            "a": {"requirements": {"expected_duration": 50}, "priority": 1},
            "b": {"requirements": {"expected_duration": 1}}}})
        for subtask_id in o.analyze_critical_path("w"):
            subtask = o.get_subtask("w", subtask_id)
            subtask.priority -= 1  # Lower number = higher priority
        a = o.get_subtask("w", "a")
        self.assertEqual(a.priority, 1)
        for high in (0, -7, 0.0, -10 ** 400):
            a.priority = high
            self.assertEqual(a.priority, 1)

    def test_a_nul_in_a_subtask_id_is_refused(self):
        # ctypes cut the id at the NUL: 'a\x00zz' was subtask 'a'
        s = lbsched.PluginScheduler("hardware-aware", plugin=PLUGIN)
        o = lbsched.MultiDeviceOrchestrator(scheduler=s)
        o.register_workload("w", {"subtasks": {"a": {"requirements": {"expected_duration": 5}}}})
        want = ("w: subtask 'a\\x00zz': its id must not hold a NUL character "
                "(a subtask id is a C string)")
        fleet = {"w1": {"cpu_cores": 4, "available_memory": 16}}
        for call in (lambda: o.get_subtask("w", "a\x00zz"),
                     lambda: o.place_subtask("w", "a\x00zz", fleet),
                     lambda: o.record_subtask_result("w", "a\x00zz", None)):
            with self.assertRaises(ValueError) as cm:
                call()
            self.assertEqual(str(cm.exception), want)
        self.assertEqual((o.get_subtask("w", "a").state, o.get_subtask("w", "a").worker),
                         ("pending", None))

    def test_a_bad_workload_id_is_refused(self):
        o = lbsched.MultiDeviceOrchestrator()
        for wid, want in (("w\x00x", "register_workload: the workload id must not hold a NUL "
                                      "character (a workload id is a C string)"),
                          ("w\ud800", "register_workload: the workload id must not hold a "
                                       "surrogate code point (U+D800), which UTF-8 cannot "
                                       "carry")):
            with self.assertRaises(ValueError) as cm:
                o.register_workload(wid, {"subtasks": {"a": {}}})
            self.assertEqual(str(cm.exception), want)
        with self.assertRaisesRegex(KeyError, "no workload"):
            o.is_workload_completed("w\x00x")  # nothing was registered

    def test_a_workload_id_or_scheduler_of_a_wrong_type_is_refused(self):
        # str() registered 5 as the graph '5'; a list was TypeError:
        # unhashable type; a scheduler that is not one was AttributeError
        # ('_lock') at the first placement
        o = lbsched.MultiDeviceOrchestrator()
        for wid, what in ((5, "an int"), (None, "None"), (["w"], "a list"), (b"w", "a bytes")):
            for call in (lambda: o.register_workload(wid, {"subtasks": {"a": {}}}),
                         lambda: o.get_ready_subtasks(wid),
                         lambda: o.is_workload_completed(wid),
                         lambda: o.get_aggregated_results(wid),
                         lambda: o.analyze_critical_path(wid)):
                with self.assertRaises(ValueError) as cm:
                    call()
                self.assertEqual(str(cm.exception), "workload_id: must be a str, got " + what)
        for sched, what in ((object(), "an object"), ("hardware-aware", "a str")):
            with self.assertRaises(ValueError) as cm:
                lbsched.MultiDeviceOrchestrator(scheduler=sched)
            self.assertEqual(str(cm.exception), "scheduler: must be a lbsched.PluginScheduler "
                             "or None, got " + what)

    def test_a_scheduler_assigned_later_is_checked_too(self):
        # only __init__ checked it: one assigned afterwards was
        # AttributeError: no attribute '_lock' at the first placement
        o = lbsched.MultiDeviceOrchestrator()
        o.register_workload("w", {"subtasks": {"a": {}}})
        for sched, what in ((object(), "an object"), ("hardware-aware", "a str")):
            with self.assertRaises(ValueError) as cm:
                o.scheduler = sched
            self.assertEqual(str(cm.exception), "scheduler: must be a lbsched.PluginScheduler "
                             "or None, got " + what)
            self.assertIsNone(o.scheduler)
        s = lbsched.PluginScheduler(plugin=PLUGIN)
        o.scheduler = s
        self.assertIs(o.scheduler, s)
        self.assertEqual(o.place_subtask("w", "a", {"w1": {"available_memory": 16}}), "w1")
        o.scheduler = None
        with self.assertRaisesRegex(ValueError, "place_subtask needs a scheduler"):
            o.place_subtask("w", "a", {"w1": {"available_memory": 16}})

    def test_a_bad_worker_id_is_refused(self):
        # 'gpu\x00zz' was recorded as 'gpu'; 5 raised AttributeError
        o = lbsched.MultiDeviceOrchestrator()
        o.register_workload("w", {"subtasks": {"a": {}}})
        for wid, want in (("gpu\x00zz", "w: subtask 'a': worker_id must not hold a NUL "
                                        "character (a worker id is a C string)"),
                          (5, "w: subtask 'a': worker_id must be a string, got 5")):
            with self.assertRaises(ValueError) as cm:
                o.record_subtask_result("w", "a", None, worker_id=wid)
            self.assertEqual(str(cm.exception), want)
        self.assertEqual((o.get_subtask("w", "a").state, o.get_subtask("w", "a").worker),
                         ("pending", None))
        o.record_subtask_result("w", "a", None, worker_id="gpu")
        self.assertEqual(o.get_subtask("w", "a").worker, "gpu")

    def test_a_surrogate_is_named_where_it_was_given(self):
        # It was "s: not valid JSON near byte 14" and a raw UnicodeEncodeError
        o = lbsched.MultiDeviceOrchestrator()
        c = " must not hold a surrogate code point (U+D800), which UTF-8 cannot carry"
        o.register_workload("w", {"subtasks": {"a": {}}})
        for call, want in (
                (lambda: o.register_workload("s", {"subtasks": {"\ud800": {}}}),
                 "s: field 'subtasks': the key '\\ud800'" + c),
                (lambda: o.register_workload("s", {"subtasks": {"a": {"requirements": {
                    "test_type": "x\ud800"}}}}),
                 "s: field 'subtasks.a.requirements.test_type':" + c),
                (lambda: o.get_subtask("w", "\ud800"), "w: subtask '\\ud800': its id" + c),
                (lambda: o.record_subtask_result("w", "a", "x\ud800"),
                 "w: subtask 'a': result:" + c),
                (lambda: o.record_subtask_result("w", "a", None, worker_id="g\ud800"),
                 "w: subtask 'a': worker_id" + c)):
            with self.assertRaises(ValueError) as cm:
                call()
            self.assertEqual(str(cm.exception), want)
        self.assertEqual(o.get_subtask("w", "a").state, "pending")
        with self.assertRaises(KeyError):
            o.get_aggregated_results("s")

    def test_a_result_no_double_holds_is_named(self):
        # 10**400 went as its digits, the library read an infinity, and the
        # aggregate said null; inf and NaN were named already
        o = lbsched.MultiDeviceOrchestrator()
        o.register_workload("w", {"aggregation_method": "concat", "subtasks": {"a": {}}})
        where = "w: subtask 'a': result: "
        for result, want in (
                (10 ** 400, "must be a number a double can hold, got an int of 401 digits"),
                (-10 ** 309, "must be a number a double can hold, got an int of 310 digits"),
                ({"ids": [1, {"n": 10 ** 400}]}, "field 'ids[1].n': must be a number a double "
                                                 "can hold, got an int of 401 digits"),
                (10 ** 5000, "must be a number a double can hold, got an int of more than "
                             "4300 digits"),
                ({"x": float("inf")}, "field 'x': must be a finite number, got inf"),
                ([float("nan")], "field '[0]': must be a finite number, got nan")):
            with self.assertRaises(ValueError) as cm:
                o.record_subtask_result("w", "a", result)
            self.assertEqual(str(cm.exception), where + want)
        self.assertEqual(o.get_subtask("w", "a").state, "pending")
        # every int of 64 bits goes as its digits, never through a float;
        # the largest double does, and so do a string's digits
        ints = [2 ** 63 - 1, -2 ** 63, 2 ** 64 - 1, 2 ** 53 + 1, {"id": 12345678901234567891}]
        self.assertEqual(json.loads(lbsched._dumps(ints, big=True)), ints)
        self.assertEqual(lbsched._dumps(ints, big=True),
                         b'[9223372036854775807,-9223372036854775808,18446744073709551615,'
                         b'9007199254740993,{"id":12345678901234567891}]')
        self.assertEqual(o.record_subtask_result("w", "a", [ints, int(1.7e308), "9" * 400])
                         ["state"], "completed")
        # ... and comes back so: concat and merge hand on each result's own
        # text (the library read them into doubles: 2**53 + 1 came back as
        # 9007199254740992.0, 0.1 + 0.2 as 0.3)
        self.assertEqual(o.get_aggregated_results("w")["result"],
                         [[ints, int(1.7e308), "9" * 400]])
        o.register_workload("m", {"aggregation_method": "merge",
                                  "subtasks": {"a": {}, "b": {}}})
        o.record_subtask_result("m", "a", {"t": 1733390000123456789, "x": 1})
        o.record_subtask_result("m", "b", {"x": 0.1 + 0.2})
        self.assertEqual(o.get_aggregated_results("m")["result"],
                         {"t": 1733390000123456789, "x": 0.30000000000000004})
        o.register_workload("s", {"aggregation_method": "sum", "subtasks": {"a": {}, "b": {}}})
        o.record_subtask_result("s", "a", 0.1)
        o.record_subtask_result("s", "b", 0.2)
        self.assertEqual(o.get_aggregated_results("s")["result"], 0.1 + 0.2)

    def test_sum_and_average_past_the_largest_double(self):
        # both were null: the plain sum overflowed to an infinity
        o = lbsched.MultiDeviceOrchestrator()
        for method in ("average", "sum"):
            o.register_workload(method, {"aggregation_method": method,
                                         "subtasks": {"a": {}, "b": {}}})
            o.record_subtask_result(method, "a", 1e308)
            o.record_subtask_result(method, "b", 1e308)
        self.assertEqual(o.get_aggregated_results("average")["result"], 1e308)
        with self.assertRaises(ValueError) as cm:
            o.get_aggregated_results("sum")
        self.assertEqual(str(cm.exception), "sum: aggregation_method 'sum': the results add "
                         "up to beyond the range of a double (about +-1.8e308)")

    def test_a_graph_text_the_library_would_cut_is_refused(self):
        # The library read the text up to the NUL: a byte inside a string
        # cut short, or a graph accepted on the cut text and then
        # JSONDecodeError, without the workload id, its handle never freed
        o = lbsched.MultiDeviceOrchestrator()
        for text, want in (
                ('{"subtasks":{"a\x00b":{}}}',
                 "w2: the graph's text must not hold a NUL character (at character 15)"),
                ('{"subtasks":{"a":{}}}\x00x',
                 "w2: the graph's text must not hold a NUL character (at character 21)"),
                ('{"subtasks":{"\ud800":{}}}', "w2: the graph's text must not hold a surrogate "
                 "code point (U+D800), which UTF-8 cannot carry"),
                # cJSON takes "1." as 1; the library refuses it, by its field
                ('{"subtasks":{"a":{"requirements":{"expected_duration":1.}}}}',
                 "w2: field 'subtasks.a.requirements.expected_duration': 1. at byte 54 is not "
                 "a JSON number (no leading zeros, a digit after the point)")):
            with self.assertRaises(ValueError) as cm:
                o.register_workload("w2", text)
            self.assertEqual(str(cm.exception), want)
            with self.assertRaises(KeyError):
                o.is_workload_completed("w2")
        o.register_workload("w2", '{"subtasks":{"a":{}}}')
        self.assertFalse(o.is_workload_completed("w2"))

    def test_the_priority_set_is_the_one_placed(self):
        # the priority scheduler is speed-first at 1-2 (one worker, the
        # fastest) and spreads at 4-5
        with open(HETERO) as f:
            fleet = json.load(f)["workers"]
        s = lbsched.PluginScheduler("priority", plugin=PLUGIN)
        o = lbsched.MultiDeviceOrchestrator(scheduler=s)
        ids = ["t%d" % i for i in range(8)]
        req = {"test_type": "nlp_text_generation", "expected_duration": 10}
        o.register_workload("w", {"subtasks": {i: {"requirements": req, "priority": 5}
                                               for i in ids}})
        boosted = ids[:4]
        for i in boosted:
            o.get_subtask("w", i).priority = 1
        placed = {i: o.place_subtask("w", i, fleet) for i in ids}
        self.assertEqual({placed[i] for i in boosted}, {"gpu_a100_1"}, placed)
        self.assertNotEqual({placed[i] for i in ids[4:]}, {"gpu_a100_1"}, placed)
        self.assertEqual(o.get_subtask("w", "t0").worker, "gpu_a100_1")
        self.assertEqual(o.get_subtask("w", "t0").state, "running")


# One workload a request, each under a new id: the child prints how much its
# resident memory grew over `n` workloads after a warm-up, in KB.
_GROWTH = r"""
import sys, lbsched
n, remove = int(sys.argv[1]), sys.argv[2] == "remove"
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4
o = lbsched.MultiDeviceOrchestrator(scheduler=lbsched.PluginScheduler(), report_results=True)
fleet = {"w1": {"available_memory": 16}}
g = {"subtasks": {"a": {}, "b": {"dependencies": ["a"]}}}
def step(i):
    wid = "request-%d" % i
    o.register_workload(wid, g)
    for s in ("a", "b"):
        o.place_subtask(wid, s, fleet)
        o.record_subtask_result(wid, s, {"i": i}, duration=1.0)
    o.get_aggregated_results(wid)
    if remove:
        o.remove_workload(wid)
for i in range(500):
    step(i)
before = rss()
for i in range(500, 500 + n):
    step(i)
print(rss() - before)
"""


class WorkloadMemory(unittest.TestCase):
    """Each workload's graph had an arena whose first block was a zeroed
    64 KiB, and the orchestrator kept every workload until close(): 51,000
    requests were 3.3 GB."""

    def growth_kb(self, n, mode):
        out = subprocess.run([sys.executable, "-c", _GROWTH, str(n), mode], check=True,
                             stdout=subprocess.PIPE, universal_newlines=True).stdout
        return int(out.split()[-1])

    def test_a_workload_kept_costs_a_few_kb_not_64(self):
        n = 3000
        kb = self.growth_kb(n, "keep")
        # about 4 KB each (graph, its run, the config kept); 66 before
        self.assertLess(kb, 16 * n, "%d KB for %d workloads kept" % (kb, n))

    def test_removed_workloads_give_their_memory_back(self):
        n = 6000
        kb = self.growth_kb(n, "remove")
        # nothing is kept: what is left is the allocator's noise
        self.assertLess(kb, n // 2, "%d KB for %d workloads removed" % (kb, n))


class RemoveWorkload(unittest.TestCase):
    FLEET = {"w1": {"available_memory": 16}}
    GRAPH = {"subtasks": {"a": {}, "b": {"dependencies": ["a"]}}}

    def test_one_in_progress_is_refused_naming_it(self):
        o = lbsched.MultiDeviceOrchestrator(scheduler=lbsched.PluginScheduler(plugin=PLUGIN))
        o.register_workload("req-7", self.GRAPH)
        o.place_subtask("req-7", "a", self.FLEET)
        with self.assertRaises(ValueError) as cm:
            o.remove_workload("req-7")
        self.assertEqual(str(cm.exception),
                         "remove_workload: workload 'req-7' is in progress (a subtask placed "
                         "or a result recorded, and it has neither completed nor failed): "
                         "record its subtasks' results until it does, then remove it")
        o.record_subtask_result("req-7", "a", 1)
        with self.assertRaises(ValueError):  # b has not run
            o.remove_workload("req-7")
        self.assertEqual(o.get_ready_subtasks("req-7")[0]["subtask_id"], "b")
        o.record_subtask_result("req-7", "b", 2)
        self.assertEqual(o.get_aggregated_results("req-7")["result"], [1, 2])
        o.remove_workload("req-7")
        with self.assertRaisesRegex(KeyError, "no workload 'req-7' is registered"):
            o.get_aggregated_results("req-7")
        with self.assertRaisesRegex(KeyError, "no workload 'req-7' is registered"):
            o.remove_workload("req-7")
        o.register_workload("req-7", self.GRAPH)  # the id is free again
        self.assertEqual(len(o.get_ready_subtasks("req-7")), 1)

    def test_failed_and_never_started_ones_may_go(self):
        o = lbsched.MultiDeviceOrchestrator()
        o.register_workload("idle", self.GRAPH)
        sub = o.get_subtask("idle", "a")
        o.remove_workload("idle")
        with self.assertRaises(KeyError):
            sub.state  # its run is gone with it
        o.register_workload("bad", {"subtasks": {"a": {"criticality": "critical",
                                                  "recovery": {"max_attempts": 1}}}})
        o.record_subtask_result("bad", "a", None, success=False)
        self.assertTrue(o.is_workload_failed("bad"))
        o.remove_workload("bad")
        # failed while a sibling runs, its results reported: that one's
        # result has somewhere to go (the scheduler learns of it) before the
        # workload may
        s = lbsched.PluginScheduler(plugin=PLUGIN)
        o2 = lbsched.MultiDeviceOrchestrator(scheduler=s, report_results=True)
        o2.register_workload("pair", {"subtasks": {
            "a": {"criticality": "critical", "recovery": {"max_attempts": 1}}, "b": {}}})
        o2.place_subtask("pair", "a", self.FLEET)
        o2.place_subtask("pair", "b", self.FLEET)
        o2.record_subtask_result("pair", "a", None, success=False)
        self.assertTrue(o2.is_workload_failed("pair"))
        with self.assertRaises(ValueError) as cm:
            o2.remove_workload("pair")
        self.assertEqual(str(cm.exception),
                         "remove_workload: workload 'pair' failed, but its subtask 'b' is still "
                         "placed without a result: record its result, then remove it")
        o2.record_subtask_result("pair", "b", 2)
        o2.remove_workload("pair")
        o2.close()
        s.close()
        with self.assertRaises(ValueError) as cm:
            o.remove_workload(5)
        self.assertEqual(str(cm.exception), "workload_id: must be a str, got an int")
        o.close()
        with self.assertRaisesRegex(ValueError, "the orchestrator is closed"):
            o.remove_workload("idle")


if __name__ == "__main__":
    unittest.main()
