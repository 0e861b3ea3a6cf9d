"""original_model.py -- the original framework's records and a pure-Python
reimplementation of its hardware-aware scheduler's scoring, written from
the project's description of the original (seed-behaviour.md: §a.1 the
records, §c.1-c.6 the scheduler; no code of the original), for
bench_python.py to time lbsched against in one process.

The scheduler keeps the original's cost structure: a workload profile
built per call through the original's factory from strings (§a.3, §c.2),
hardware profiles per worker built as dicts, converted, cached forever and
registered in a taxonomy (§c.3, §a.2), browsers' "webgpu" giving a GPU
profile too (F3), every profile ever registered scanned, scored and
load-adjusted per call (§c.1, F17).  It does not keep the bugs that make
it answer None or skip workers (F1 enum split, F2 ids split at "_"), so it
does the whole work on every call; nor does it do anything §c does not
describe (the seed's measured 4,400-5,200 us at 512 workers came from a
fleet with 1,243 profiles, more than the bench's fleet gives).
"""

import dataclasses
import datetime
import enum
import logging
import uuid
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

# §a.2, §a.3: the enums' values are their lower-case names; the original
# converts strings to them by name or by value, so they are looked up so here.
def _enum(name, members):
    return enum.Enum(name, [(m, m.lower()) for m in members.split()])


HardwareClass = _enum("HardwareClass", "CPU GPU TPU NPU DSP FPGA ASIC HYBRID UNKNOWN")
SoftwareBackend = _enum("SoftwareBackend", "PYTORCH TENSORFLOW ONNX WEBNN WEBGPU "
                        "DIRECTML OPENVINO QNN CUDA ROCM MPS VULKAN METAL OPENCL "
                        "TVM NNAPI COREML TFLITE TENSORRT OTHER")
Precision = _enum("Precision", "FP32 FP16 BF16 INT8 INT4 INT2 INT1 MIXED OTHER")
Feature = _enum("Feature", "TENSOR_CORES RAY_TRACING NEURAL_ENGINE QUANTIZATION "
                "SPARSITY DYNAMIC_PRECISION MULTI_INSTANCE SHARED_MEMORY "
                "UNIFIED_MEMORY DEDICATED_MEMORY COMPUTE_SHADERS SIMD SIMT AVX "
                "AVX2 AVX512 NEON SVE SMT TSX OTHER")
WorkloadType = _enum("WorkloadType", "VISION NLP AUDIO MULTIMODAL TRAINING "
                     "INFERENCE EMBEDDING CONVERSATIONAL MIXED")
Metric = _enum("Metric", "COMPUTE_INTENSITY MEMORY_INTENSITY IO_INTENSITY "
               "NETWORK_INTENSITY MODEL_SIZE BATCH_SIZE LATENCY_SENSITIVITY "
               "THROUGHPUT_SENSITIVITY PARALLELISM TEMPERATURE ENERGY_SENSITIVITY")
GIB = 1024 ** 3

# §a.3: the factory logs the names it drops.  The seed's cost was measured
# with logging off (§"Measured cost"), so the bench's logger is off too.
log = logging.getLogger("original_model")
log.setLevel(logging.CRITICAL + 1)
log.propagate = False


@dataclass
class Memory:  # §a.2 MemoryProfile
    total_bytes: int = 0
    available_bytes: int = 0
    bandwidth_gbps: Optional[float] = None
    is_shared: bool = False
    hierarchy_levels: int = 1
    has_unified_memory: bool = False
    memory_type: str = "unknown"


@dataclass
class HardwareProfile:  # §a.2 HardwareCapabilityProfile
    hardware_class: HardwareClass = HardwareClass.UNKNOWN
    architecture: str = "OTHER"  # a plain string on the scheduler's path (F7)
    vendor: str = "OTHER"
    model_name: str = "unknown"
    backends: set = field(default_factory=set)
    precisions: set = field(default_factory=set)
    features: set = field(default_factory=set)
    memory: Memory = field(default_factory=Memory)
    compute_units: int = 0
    clock_speed_mhz: int = 0
    thermal_design_power_w: Optional[float] = None
    compute_capability: Optional[str] = None
    firmware_version: Optional[str] = None
    driver_version: Optional[str] = None
    is_virtualized: bool = False
    is_simulated: bool = False
    performance_profile: Dict[str, float] = field(default_factory=dict)
    power_efficiency: Optional[float] = None
    memory_efficiency: Optional[float] = None
    thermal_efficiency: Optional[float] = None

    def is_compatible_with(self, backends, precisions, features, min_memory,
                           min_units):
        return (backends <= self.backends and precisions <= self.precisions and
                features <= self.features and min_memory <= self.memory.total_bytes
                and min_units <= self.compute_units)


@dataclass
class WorkloadProfile:  # §a.3, every field
    workload_id: str
    workload_type: WorkloadType
    required_backends: set = field(default_factory=set)
    required_precisions: set = field(default_factory=set)
    required_features: set = field(default_factory=set)
    min_memory_bytes: int = 0
    min_compute_units: int = 0
    metrics: dict = field(default_factory=dict)
    preferred_hardware_class: Optional[HardwareClass] = None
    preferred_architecture: Optional[str] = None
    preferred_vendors: List[str] = field(default_factory=list)
    priority: int = 3
    deadline: Optional[datetime.datetime] = None
    concurrency_key: Optional[str] = None
    estimated_duration_seconds: Optional[int] = None
    is_shardable: bool = False
    min_shards: int = 1
    max_shards: int = 1
    allocation_strategy: str = "single"
    custom_properties: dict = field(default_factory=dict)

    def efficiency(self, hw):
        """§c.4 get_efficiency_score."""
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


def _by_name(enum_cls, names, what):
    """§a.3: strings upper-cased and looked up by member name; unknown
    names logged and dropped."""
    out = set()
    for n in names:
        try:
            out.add(enum_cls[n.upper()])
        except KeyError:
            log.warning("Unknown %s: %s", what, n)
    return out


def create_workload_profile(workload_type, workload_id=None, min_memory_gb=0.0,
                            min_compute_units=0, metrics=None, priority=3,
                            preferred_backends=None, required_precisions=None,
                            required_features=None, preferred_hardware_class=None,
                            estimated_duration_seconds=None, model_id=None,
                            is_shardable=False, min_shards=1, max_shards=1,
                            allocation_strategy="single"):
    """§a.3's factory, as the scheduler calls it per select (§c.2)."""
    try:
        wtype = WorkloadType[workload_type.upper()]
    except KeyError:
        wtype = WorkloadType.MIXED
    if workload_id is None:
        workload_id = str(uuid.uuid4())
    mets = {}
    for name, value in (metrics or {}).items():
        try:
            mets[Metric[name.upper()]] = value
        except KeyError:
            log.warning("Unknown metric: %s", name)
    hw_class = None
    if preferred_hardware_class:
        try:
            hw_class = HardwareClass[preferred_hardware_class.upper()]
        except KeyError:
            log.warning("Unknown hardware class: %s", preferred_hardware_class)
    return WorkloadProfile(
        workload_id=workload_id, workload_type=wtype,
        required_backends=_by_name(SoftwareBackend, preferred_backends or [], "backend"),
        required_precisions=_by_name(Precision, required_precisions or [], "precision"),
        required_features=_by_name(Feature, required_features or [], "feature"),
        min_memory_bytes=int(min_memory_gb * GIB), min_compute_units=min_compute_units,
        metrics=mets, preferred_hardware_class=hw_class, priority=priority,
        estimated_duration_seconds=estimated_duration_seconds,
        is_shardable=is_shardable, min_shards=min_shards, max_shards=max_shards,
        allocation_strategy=allocation_strategy,
        custom_properties={"model_id": model_id} if model_id else {})


_TYPES = (("vision", "vision"), ("image", "vision"), ("nlp", "nlp"), ("text", "nlp"),
          ("language", "nlp"), ("audio", "audio"), ("speech", "audio"),
          ("embedding", "embedding"), ("training", "training"),
          ("inference", "inference"), ("conversational", "conversational"),
          ("multi", "multimodal"))


def _convert(d):
    """§c.3: a profile dict converted, class by value, backends, precisions
    and features by member name."""
    m = d["memory"]
    return HardwareProfile(
        hardware_class=HardwareClass(d["hardware_class"]),
        architecture=d["architecture"], vendor=d["vendor"], model_name=d["model_name"],
        backends={SoftwareBackend[b] for b in d["supported_backends"]
                  if b in SoftwareBackend.__members__},
        precisions={Precision[p] for p in d["supported_precisions"]
                    if p in Precision.__members__},
        features={Feature[f] for f in d["features"] if f in Feature.__members__},
        memory=Memory(total_bytes=m["total_bytes"], available_bytes=m["available_bytes"],
                      is_shared=m["is_shared"], hierarchy_levels=m["hierarchy_levels"],
                      has_unified_memory=m["has_unified_memory"],
                      memory_type=m["memory_type"]),
        compute_units=d["compute_units"], clock_speed_mhz=d["clock_speed_mhz"])


def _profile(cls, arch, vendor, name, backends, precisions, features, units, mhz,
             memory):
    return {"hardware_class": cls, "architecture": arch, "vendor": vendor,
            "model_name": name, "supported_backends": backends,
            "supported_precisions": precisions, "features": features,
            "compute_units": units, "clock_speed_mhz": mhz, "memory": memory}


class HardwareTaxonomy(object):
    """§a.2: what register_worker_hardware keeps."""

    def __init__(self):
        self.hardware_profiles = {}   # class value -> profiles
        self.worker_hardware_map = {}  # worker -> profiles

    def register_worker_hardware(self, worker_id, profiles):
        self.worker_hardware_map[worker_id] = profiles
        for p in profiles:
            self.hardware_profiles.setdefault(p.hardware_class.value, []).append(p)


class HardwareWorkloadManager(object):
    def __init__(self, taxonomy):
        self.taxonomy = taxonomy

    def get_compatible_hardware(self, wl):
        """§c.1 step 3: every registered worker's every profile, ever seen."""
        out = []
        if wl.preferred_hardware_class:  # never set from the scheduler (F18)
            return out
        for wid, profiles in self.taxonomy.worker_hardware_map.items():
            for p in profiles:
                if p.is_compatible_with(wl.required_backends, wl.required_precisions,
                                        wl.required_features, wl.min_memory_bytes,
                                        wl.min_compute_units):
                    out.append((wid, p, wl.efficiency(p)))
        out.sort(key=lambda x: x[2], reverse=True)
        return out


class HardwareAwareScheduler(object):
    def __init__(self):
        self.taxonomy = HardwareTaxonomy()
        self.workload_manager = HardwareWorkloadManager(self.taxonomy)
        self.worker_hardware_cache = {}  # worker -> profiles, never refreshed
        self.test_workload_cache = {}
        self.workload_worker_preferences = {}
        self.worker_thermal_states = {}  # never filled (F6): T = 0

    def workload(self, req):
        """§c.2, through §a.3's factory."""
        # an ad-hoc attribute, looked for on each call (§a.1, §c.2)
        cp = req.custom_properties if hasattr(req, "custom_properties") else {}
        if not isinstance(cp, dict):
            cp = {}
        if "workload_profile" in cp:
            return self.workload_from_dict(cp["workload_profile"])
        t = (req.test_type or "").lower()
        wtype = "mixed"
        for sub, name in _TYPES:
            if sub in t:
                wtype = name
                break
        d = req.expected_duration
        backend = req.required_backend or req.preferred_backend
        return create_workload_profile(
            workload_type=wtype, workload_id=req.test_id,
            min_memory_gb=req.minimum_memory, min_compute_units=2,
            metrics={"compute_intensity": 0.8 if d > 120 else 0.3 if d < 10 else 0.5,
                     "memory_intensity": min(1.0, req.minimum_memory / 16),
                     "latency_sensitivity": 0.5, "throughput_sensitivity": 0.5},
            priority=req.priority, preferred_backends=[backend] if backend else [],
            estimated_duration_seconds=int(d), model_id=req.model_id,
            is_shardable=cp.get("is_shardable", False), min_shards=cp.get("min_shards", 1),
            max_shards=cp.get("max_shards", 1),
            allocation_strategy=cp.get("allocation_strategy", "single"))

    @staticmethod
    def workload_from_dict(d):
        """§c.2's partial deserializer: backends, precisions, features and
        preferences dropped (no test in the bench has one)."""
        return WorkloadProfile(
            workload_id=d.get("workload_id", ""),
            workload_type=WorkloadType[d.get("workload_type", "MIXED")],
            metrics={Metric[k]: v for k, v in d.get("metrics", {}).items()},
            min_memory_bytes=d.get("min_memory_bytes", 0),
            min_compute_units=d.get("min_compute_units", 0),
            priority=d.get("priority", 3),
            estimated_duration_seconds=d.get("estimated_duration_seconds"),
            is_shardable=d.get("is_shardable", False), min_shards=d.get("min_shards", 1),
            max_shards=d.get("max_shards", 1),
            allocation_strategy=d.get("allocation_strategy", "single"),
            custom_properties=d.get("custom_properties", {}))

    def profiles(self, caps):
        """§c.3, dicts converted."""
        mem = {"total_bytes": int(caps.available_memory * GIB),
               "available_bytes": int(0.9 * caps.available_memory * GIB),
               "is_shared": False, "hierarchy_levels": 2,
               "has_unified_memory": False, "memory_type": "DDR4"}
        out = []
        if caps.cpu_cores > 0:
            out.append(_profile("cpu", "X86_64", "INTEL", "CPU-%dcores" % caps.cpu_cores,
                                ["PYTORCH", "TENSORFLOW", "ONNX"], ["FP32", "INT8"],
                                ["SIMD", "AVX"], caps.cpu_cores, 2500, mem))
        for b in caps.supported_backends:
            lb = b.lower()
            # "webgpu" matches "gpu" too (F3): a browser gets a GPU profile
            if "cuda" in lb or "gpu" in lb:
                out.append(_profile("gpu", "GPU_CUDA", "NVIDIA", "GPU-" + b,
                                    ["PYTORCH", "TENSORFLOW", "ONNX", "CUDA"],
                                    ["FP32", "FP16", "INT8"],
                                    ["COMPUTE_SHADERS", "TENSOR_CORES"], 80, 1500, mem))
            if "tpu" in lb:
                out.append(_profile("tpu", "TPU", "GOOGLE", "TPU-" + b,
                                    ["TENSORFLOW", "ONNX"], ["FP32", "BF16", "INT8"],
                                    ["TENSOR_CORES"], 8, 1000, mem))
            if "npu" in lb or "qnn" in lb:
                out.append(_profile("npu", "NPU_QUALCOMM", "QUALCOMM", "NPU-" + b,
                                    ["ONNX", "QNN"], ["FP32", "FP16", "INT8", "INT4"],
                                    ["QUANTIZATION"], 4, 800, mem))
            if "webnn" in lb or "webgpu" in lb:
                out.append(_profile("hybrid", "GPU_WEBGPU" if "webgpu" in lb else "OTHER",
                                    "OTHER", "Browser-" + b,
                                    ["WEBGPU" if "webgpu" in lb else "WEBNN"],
                                    ["FP32", "FP16"], ["COMPUTE_SHADERS"], 2, 1000,
                                    {"total_bytes": 2 * GIB, "available_bytes": GIB,
                                     "is_shared": True, "hierarchy_levels": 2,
                                     "has_unified_memory": True,
                                     "memory_type": "shared"}))
        if not out:
            out.append(_profile("cpu", "X86_64", "OTHER", "Generic-CPU",
                                list(caps.supported_backends), ["FP32"], [],
                                max(1, caps.cpu_cores), 2000, mem))
        return [_convert(d) for d in out]

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
        """§c.1, steps 1 to 6."""
        wl = self.workload(req)
        for wid, caps in available_workers.items():
            if wid not in self.worker_hardware_cache:
                profs = self.profiles(caps)
                self.worker_hardware_cache[wid] = profs
                self.taxonomy.register_worker_hardware(wid, profs)
        compatible = self.workload_manager.get_compatible_hardware(wl)
        if not compatible:
            return None
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
        prefs = self.workload_worker_preferences.setdefault(wl.workload_type.value, {})
        prefs[wid] = 0.7 * prefs.get(wid, 0.5) + 0.3 * score
        self.test_workload_cache[req.test_id] = wl.workload_id
        return wid
