"""original_model.py -- the original framework's records and a pure-Python
reimplementation of its hardware-aware scheduler's scoring, written from
the project's description of the original (seed-behaviour.md: §a.1 the
records, §c.1-c.6 the scheduler; no code of the original), for
bench_python.py to time lbsched against in one process.

The scheduler keeps the original's cost structure: a workload profile
built per call, hardware profiles per worker cached forever, every profile
ever registered scanned, scored and load-adjusted per call (F17).  It does
not keep the bugs that make it answer None or skip workers (F1 enum
split, F2 ids split at "_"), so it does the whole work on every call.
"""

import dataclasses
import datetime
import enum
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set


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

    def load_score(self):
        s = (0.3 * self.cpu_utilization + 0.3 * self.memory_utilization +
             0.2 * self.gpu_utilization + 0.1 * self.io_utilization +
             0.1 * self.network_utilization) / 100.0
        return min(1.0, max(0.0, s))

    def effective_load(self):
        s = self.load_score()
        if self.warming_state or self.cooling_state:
            return min(1.0, s + (1.0 - self.performance_level))
        return s

    def has_capacity_for(self, req):
        if self.load_score() > 0.9:
            return False
        if self.reserved_memory + req.minimum_memory > req.required_memory_limit:
            return False
        for kind, n in req.required_accelerators.items():
            if self.reserved_accelerators.get(kind, 0) + n > \
                    req.required_accelerator_limit.get(kind, 0):
                return False
        return True


def record(cls, d, **fixed):
    """A dataclass from a dict, fields it lacks bolted on as attributes
    (the original's example does custom_properties so)."""
    names = {f.name for f in dataclasses.fields(cls)}
    obj = cls(**{k: v for k, v in d.items() if k in names}, **fixed)
    for k, v in d.items():
        if k not in names and k not in fixed:
            setattr(obj, k, v)
    return obj


# ----- the hardware-aware scheduler (seed-behaviour.md §c) ----------------

HardwareClass = enum.Enum("HardwareClass", "CPU GPU TPU NPU DSP FPGA ASIC HYBRID UNKNOWN")
SoftwareBackend = enum.Enum("SoftwareBackend", "PYTORCH TENSORFLOW ONNX WEBNN WEBGPU "
                            "DIRECTML OPENVINO QNN CUDA ROCM MPS VULKAN METAL OPENCL "
                            "TVM NNAPI COREML TFLITE TENSORRT OTHER")
Precision = enum.Enum("Precision", "FP32 FP16 BF16 INT8 INT4 INT2 INT1 MIXED OTHER")
Feature = enum.Enum("Feature", "TENSOR_CORES RAY_TRACING NEURAL_ENGINE QUANTIZATION "
                    "SPARSITY DYNAMIC_PRECISION MULTI_INSTANCE SHARED_MEMORY "
                    "UNIFIED_MEMORY DEDICATED_MEMORY COMPUTE_SHADERS SIMD SIMT AVX "
                    "AVX2 AVX512 NEON SVE SMT TSX OTHER")
WorkloadType = enum.Enum("WorkloadType", "VISION NLP AUDIO MULTIMODAL TRAINING "
                         "INFERENCE EMBEDDING CONVERSATIONAL MIXED")
Metric = enum.Enum("Metric", "COMPUTE_INTENSITY MEMORY_INTENSITY IO_INTENSITY "
                   "NETWORK_INTENSITY MODEL_SIZE BATCH_SIZE LATENCY_SENSITIVITY "
                   "THROUGHPUT_SENSITIVITY PARALLELISM TEMPERATURE ENERGY_SENSITIVITY")
GIB = 1024 ** 3


@dataclass
class Memory:
    total_bytes: int = 0
    available_bytes: int = 0
    is_shared: bool = False
    hierarchy_levels: int = 1
    has_unified_memory: bool = False
    memory_type: str = "unknown"


@dataclass
class HardwareProfile:
    hardware_class: HardwareClass
    architecture: str
    vendor: str
    model_name: str
    backends: frozenset
    precisions: frozenset
    features: frozenset
    memory: Memory
    compute_units: int
    clock_speed_mhz: int

    def is_compatible_with(self, backends, precisions, features, min_memory,
                           min_units):
        return (backends <= self.backends and precisions <= self.precisions and
                features <= self.features and min_memory <= self.memory.total_bytes
                and min_units <= self.compute_units)


@dataclass
class WorkloadProfile:
    workload_id: str
    workload_type: WorkloadType
    required_backends: frozenset
    metrics: dict
    min_memory_bytes: int
    min_compute_units: int
    priority: int
    estimated_duration_seconds: int
    custom_properties: dict
    preferred_hardware_class: Optional[HardwareClass] = None
    preferred_architecture: Optional[str] = None
    preferred_vendors: List[str] = field(default_factory=list)

    def efficiency(self, hw):
        s = 1.0
        # never set on the scheduler's path, read all the same (§c.4)
        if self.preferred_hardware_class and hw.hardware_class != self.preferred_hardware_class:
            s *= 0.7
        if self.preferred_architecture and hw.architecture != self.preferred_architecture:
            s *= 0.8
        if self.preferred_vendors and hw.vendor not in self.preferred_vendors:
            s *= 0.9
        if self.metrics.get(Metric.COMPUTE_INTENSITY, 0.5) > 0.7:
            s *= 0.5 + 0.5 * min(1.0, hw.compute_units / 100)
        if self.metrics.get(Metric.MEMORY_INTENSITY, 0.5) > 0.7:
            s *= 0.5 + 0.5 * min(1.0, hw.memory.total_bytes / GIB / 16)
        c, t = hw.hardware_class, self.workload_type
        if c is HardwareClass.GPU and t is WorkloadType.VISION:
            s *= 1.2
        if c is HardwareClass.GPU and t is WorkloadType.NLP and \
                Feature.TENSOR_CORES in hw.features:
            s *= 1.2
        if c is HardwareClass.TPU and t in (WorkloadType.NLP, WorkloadType.VISION):
            s *= 1.3
        if c is HardwareClass.NPU and t is WorkloadType.INFERENCE:
            s *= 1.2
        return min(1.0, max(0.0, s))


_TYPES = (("vision", "VISION"), ("image", "VISION"), ("nlp", "NLP"), ("text", "NLP"),
          ("language", "NLP"), ("audio", "AUDIO"), ("speech", "AUDIO"),
          ("embedding", "EMBEDDING"), ("training", "TRAINING"),
          ("inference", "INFERENCE"), ("conversational", "CONVERSATIONAL"),
          ("multi", "MULTIMODAL"))


def _members(enum_cls, names):
    return frozenset(enum_cls[n.upper()] for n in names if n.upper() in enum_cls.__members__)


def _profile(kind, cls, arch, vendor, name, backends, precisions, features, units,
             mhz, memory):
    return HardwareProfile(cls, arch, vendor, name, _members(SoftwareBackend, backends),
                           _members(Precision, precisions), _members(Feature, features),
                           memory, units, mhz)


class HardwareAwareScheduler(object):
    def __init__(self):
        self.hardware_cache = {}  # worker -> profiles, never refreshed
        self.registered = []      # (worker, profile) ever seen
        self.test_workloads = {}
        self.preferences = {}
        self.worker_thermal_states = {}  # never filled (F6): T = 0

    def workload(self, req):
        t = (req.test_type or "").lower()
        wtype = WorkloadType.MIXED
        for sub, name in _TYPES:
            if sub in t:
                wtype = WorkloadType[name]
                break
        d = req.expected_duration
        backend = req.required_backend or req.preferred_backend
        return WorkloadProfile(
            req.test_id, wtype,
            _members(SoftwareBackend, [backend] if backend else []),
            {Metric.COMPUTE_INTENSITY: 0.8 if d > 120 else 0.3 if d < 10 else 0.5,
             Metric.MEMORY_INTENSITY: min(1.0, req.minimum_memory / 16),
             Metric.LATENCY_SENSITIVITY: 0.5, Metric.THROUGHPUT_SENSITIVITY: 0.5},
            int(req.minimum_memory * GIB), 2, req.priority, int(d),
            {"model_id": req.model_id})

    def profiles(self, caps):
        mem = Memory(int(caps.available_memory * GIB),
                     int(0.9 * caps.available_memory * GIB), False, 2, False, "DDR4")
        out = []
        if caps.cpu_cores > 0:
            out.append(_profile("cpu", HardwareClass.CPU, "X86_64", "INTEL",
                                "CPU-%dcores" % caps.cpu_cores,
                                ["PYTORCH", "TENSORFLOW", "ONNX"], ["FP32", "INT8"],
                                ["SIMD", "AVX"], caps.cpu_cores, 2500, mem))
        for b in caps.supported_backends:
            lb = b.lower()
            if "cuda" in lb or ("gpu" in lb and "webgpu" not in lb):
                out.append(_profile("gpu", HardwareClass.GPU, "GPU_CUDA", "NVIDIA",
                                    "GPU-" + b, ["PYTORCH", "TENSORFLOW", "ONNX", "CUDA"],
                                    ["FP32", "FP16", "INT8"],
                                    ["COMPUTE_SHADERS", "TENSOR_CORES"], 80, 1500, mem))
            if "tpu" in lb:
                out.append(_profile("tpu", HardwareClass.TPU, "TPU", "GOOGLE", "TPU-" + b,
                                    ["TENSORFLOW", "ONNX"], ["FP32", "BF16", "INT8"],
                                    ["TENSOR_CORES"], 8, 1000, mem))
            if "npu" in lb or "qnn" in lb:
                out.append(_profile("npu", HardwareClass.NPU, "NPU_QUALCOMM", "QUALCOMM",
                                    "NPU-" + b, ["ONNX", "QNN"],
                                    ["FP32", "FP16", "INT8", "INT4"], ["QUANTIZATION"],
                                    4, 800, mem))
            if "webnn" in lb or "webgpu" in lb:
                out.append(_profile("web", HardwareClass.HYBRID,
                                    "GPU_WEBGPU" if "webgpu" in lb else "OTHER", "OTHER",
                                    "Browser-" + b, ["WEBGPU" if "webgpu" in lb else "WEBNN"],
                                    ["FP32", "FP16"], ["COMPUTE_SHADERS"], 2, 1000,
                                    Memory(2 * GIB, GIB, True, 2, True, "shared")))
        if not out:
            out.append(_profile("generic", HardwareClass.CPU, "X86_64", "OTHER",
                                "Generic-CPU", caps.supported_backends, ["FP32"], [],
                                max(1, caps.cpu_cores), 2000, mem))
        return out

    def adjust(self, wid, eff, load):
        """§c.5: load, thermal state and temperature."""
        adjusted = eff * (1 - 0.3 * load.effective_load())
        if load.warming_state:
            adjusted *= getattr(load, "performance_level", 0.8)
        if load.cooling_state:
            adjusted *= getattr(load, "performance_level", 0.9)
        t = self.worker_thermal_states.get(wid, {}).get("temperature", 0.0)
        return adjusted * (1 - 0.3 * t)

    def select_worker(self, req, available_workers, worker_loads, performance_data):
        wl = self.workload(req)
        for wid, caps in available_workers.items():
            if wid not in self.hardware_cache:
                profs = self.profiles(caps)
                self.hardware_cache[wid] = profs
                self.registered.extend((wid, p) for p in profs)
        compatible = [(wid, p, wl.efficiency(p)) for wid, p in self.registered
                      if p.is_compatible_with(wl.required_backends, frozenset(),
                                              frozenset(), wl.min_memory_bytes,
                                              wl.min_compute_units)]
        if not compatible:
            return None
        compatible.sort(key=lambda x: x[2], reverse=True)
        scored = []
        for hw_id, p, eff in compatible:
            wid = hw_id.split("_")[0]  # §c.1 step 4 (F2: ids hold no "_" here)
            load = worker_loads.get(wid)
            if wid not in available_workers or load is None or \
                    not load.has_capacity_for(req):
                continue
            scored.append((wid, self.adjust(wid, eff, load)))
        if not scored:
            return None
        scored.sort(key=lambda x: x[1], reverse=True)
        wid, score = scored[0]
        prefs = self.preferences.setdefault(wl.workload_type.name.lower(), {})
        prefs[wid] = 0.7 * prefs.get(wid, 0.5) + 0.3 * score
        self.test_workloads[req.test_id] = wl.workload_id
        return wid
