/*
 * taxonomy.c -- names <-> values of the ABI's taxonomy.
 *
 * The tables are indexed by value (scalars) or bit position (sets), so a
 * name lookup is a short linear scan and a value lookup is an index.  The
 * lists are small (at most 64 entries) and parsing happens when a host
 * converts its records, never on the select() path.
 */
#include "taxonomy.h"

#include <stdio.h>
#include <string.h>

static int lower(int ch)
{
	/* Locale-free on purpose: names are ASCII, and tolower() would make
	 * parsing depend on the host's setlocale(). */
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

static int name_eq(const char *a, const char *b)
{
	while (*a && lower((unsigned char)*a) == lower((unsigned char)*b)) {
		a++;
		b++;
	}
	return *a == '\0' && *b == '\0';
}

/* Case-insensitive substring test; the needles are lower-case literals. */
static int contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++) {
		size_t i = 0;

		while (i < n && hay[i] && lower((unsigned char)hay[i]) == needle[i])
			i++;
		if (i == n)
			return 1;
	}
	return 0;
}

struct alias {
	const char *name;
	int value;
};

static int lookup(const char *name, const char *const *names, size_t n,
                  const struct alias *aliases, size_t n_aliases)
{
	if (!name || !*name)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (names[i] && name_eq(name, names[i]))
			return (int)i;
	for (size_t i = 0; i < n_aliases; i++)
		if (name_eq(name, aliases[i].name))
			return aliases[i].value;
	return -1;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ===== Scalars ============================================================ */

static const char *const class_names[LBS_CLASS_COUNT] = {
	[LBS_CLASS_UNKNOWN] = "UNKNOWN", [LBS_CLASS_CPU] = "CPU",
	[LBS_CLASS_GPU] = "GPU",         [LBS_CLASS_TPU] = "TPU",
	[LBS_CLASS_NPU] = "NPU",         [LBS_CLASS_DSP] = "DSP",
	[LBS_CLASS_FPGA] = "FPGA",       [LBS_CLASS_ASIC] = "ASIC",
	[LBS_CLASS_HYBRID] = "HYBRID",
};

static const char *const arch_names[LBS_ARCH_COUNT] = {
	[LBS_ARCH_UNKNOWN] = "UNKNOWN",
	[LBS_ARCH_X86] = "X86",
	[LBS_ARCH_X86_64] = "X86_64",
	[LBS_ARCH_ARM] = "ARM",
	[LBS_ARCH_ARM64] = "ARM64",
	[LBS_ARCH_PPC] = "PPC",
	[LBS_ARCH_PPC64] = "PPC64",
	[LBS_ARCH_MIPS] = "MIPS",
	[LBS_ARCH_RISCV] = "RISCV",
	[LBS_ARCH_GPU_CUDA] = "GPU_CUDA",
	[LBS_ARCH_GPU_ROCM] = "GPU_ROCM",
	[LBS_ARCH_GPU_METAL] = "GPU_METAL",
	[LBS_ARCH_GPU_WEBGPU] = "GPU_WEBGPU",
	[LBS_ARCH_TPU] = "TPU",
	[LBS_ARCH_NPU_QUALCOMM] = "NPU_QUALCOMM",
	[LBS_ARCH_NPU_MEDIATEK] = "NPU_MEDIATEK",
	[LBS_ARCH_NPU_SAMSUNG] = "NPU_SAMSUNG",
	[LBS_ARCH_DSP_HEXAGON] = "DSP_HEXAGON",
	[LBS_ARCH_FPGA_INTEL] = "FPGA_INTEL",
	[LBS_ARCH_FPGA_XILINX] = "FPGA_XILINX",
	[LBS_ARCH_OTHER] = "OTHER",
};

/* What operating systems and the original's records actually report
 * (platform.machine(), uname -m, Debian's architecture names), besides the
 * member names.  32-bit ARM and MIPS have many spellings: arch_family().
 * s390x and loongarch64 have no member, so they are left unknown (OTHER,
 * with the caller's warning) rather than filed under a wrong one. */
static const struct alias arch_aliases[] = {
	{"amd64", LBS_ARCH_X86_64},      {"x86-64", LBS_ARCH_X86_64},
	{"x64", LBS_ARCH_X86_64},        {"i386", LBS_ARCH_X86},
	{"i486", LBS_ARCH_X86},          {"i586", LBS_ARCH_X86},
	{"i686", LBS_ARCH_X86},          {"aarch64", LBS_ARCH_ARM64},
	{"aarch64_be", LBS_ARCH_ARM64},  {"powerpc", LBS_ARCH_PPC},
	{"ppcle", LBS_ARCH_PPC},         {"ppc64le", LBS_ARCH_PPC64},
	{"ppc64el", LBS_ARCH_PPC64},     {"riscv32", LBS_ARCH_RISCV},
	{"riscv64", LBS_ARCH_RISCV},     {"cuda", LBS_ARCH_GPU_CUDA},
	{"rocm", LBS_ARCH_GPU_ROCM},     {"metal", LBS_ARCH_GPU_METAL},
	{"webgpu", LBS_ARCH_GPU_WEBGPU},
};

/* ASCII case-insensitive: does name start with the lower-case pre? */
static const char *after_prefix(const char *name, const char *pre)
{
	for (; *pre; pre++, name++)
		if (lower((unsigned char)*name) != *pre)
			return NULL;
	return name;
}

/* The families spelt a different way by each kernel, distribution and
 * toolchain.  uname -m says armv6l, armv7l, or armv8l for a 32-bit
 * userland on a 64-bit core (armv5tel, armv7b big-endian); Debian armhf,
 * armel, armeb; Fedora armv7hl: all 32-bit ARM (64-bit is aarch64 or
 * arm64, never an arm-v name).  MIPS is mips, mipsel, mips64, mips64el,
 * mipsisa64r6el, ...: the taxonomy has one MIPS.  "arm" followed by
 * anything else (a typo) stays unknown. */
static int arch_family(const char *name)
{
	const char *r;

	if ((r = after_prefix(name, "arm")) != NULL &&
	    (name_eq(r, "hf") || name_eq(r, "el") || name_eq(r, "eb") ||
	     (lower((unsigned char)r[0]) == 'v' && r[1] >= '0' && r[1] <= '9')))
		return LBS_ARCH_ARM;
	if (after_prefix(name, "mips"))
		return LBS_ARCH_MIPS;
	return -1;
}

static const char *const vendor_names[LBS_VENDOR_COUNT] = {
	[LBS_VENDOR_UNKNOWN] = "UNKNOWN",
	[LBS_VENDOR_INTEL] = "INTEL",
	[LBS_VENDOR_AMD] = "AMD",
	[LBS_VENDOR_NVIDIA] = "NVIDIA",
	[LBS_VENDOR_ARM] = "ARM",
	[LBS_VENDOR_APPLE] = "APPLE",
	[LBS_VENDOR_QUALCOMM] = "QUALCOMM",
	[LBS_VENDOR_MEDIATEK] = "MEDIATEK",
	[LBS_VENDOR_SAMSUNG] = "SAMSUNG",
	[LBS_VENDOR_GOOGLE] = "GOOGLE",
	[LBS_VENDOR_IBM] = "IBM",
	[LBS_VENDOR_MICROSOFT] = "MICROSOFT",
	[LBS_VENDOR_AMAZON] = "AMAZON",
	[LBS_VENDOR_XILINX] = "XILINX",
	[LBS_VENDOR_ALTERA] = "ALTERA",
	[LBS_VENDOR_HUAWEI] = "HUAWEI",
	[LBS_VENDOR_OTHER] = "OTHER",
};

/* The CPUID vendor strings, which is what /proc/cpuinfo reports. */
static const struct alias vendor_aliases[] = {
	{"GenuineIntel", LBS_VENDOR_INTEL},
	{"AuthenticAMD", LBS_VENDOR_AMD},
	{"aws", LBS_VENDOR_AMAZON},
};

static const char *const workload_names[LBS_WL_COUNT] = {
	[LBS_WL_MIXED] = "MIXED",
	[LBS_WL_VISION] = "VISION",
	[LBS_WL_NLP] = "NLP",
	[LBS_WL_AUDIO] = "AUDIO",
	[LBS_WL_MULTIMODAL] = "MULTIMODAL",
	[LBS_WL_TRAINING] = "TRAINING",
	[LBS_WL_INFERENCE] = "INFERENCE",
	[LBS_WL_EMBEDDING] = "EMBEDDING",
	[LBS_WL_CONVERSATIONAL] = "CONVERSATIONAL",
};

int tax_class_parse(const char *name)
{
	return lookup(name, class_names, COUNT(class_names), NULL, 0);
}

/* The accelerator kinds records name beside the class names: the
 * original's own CUDA kind ({"cuda": 1}, its stress test's), which the
 * converter counts as GPUs. */
static const struct alias accel_aliases[] = {
	{"cuda", LBS_CLASS_GPU},
};

int tax_accel_class_parse(const char *kind)
{
	return lookup(kind, class_names, COUNT(class_names), accel_aliases,
	              COUNT(accel_aliases));
}

int tax_arch_parse(const char *name)
{
	int v = lookup(name, arch_names, COUNT(arch_names), arch_aliases,
	               COUNT(arch_aliases));

	return v >= 0 || !name ? v : arch_family(name);
}

int tax_vendor_parse(const char *name)
{
	return lookup(name, vendor_names, COUNT(vendor_names), vendor_aliases,
	              COUNT(vendor_aliases));
}

int tax_workload_parse(const char *name)
{
	return lookup(name, workload_names, COUNT(workload_names), NULL, 0);
}

const char *tax_class_name(uint32_t v)
{
	return v < COUNT(class_names) ? class_names[v] : "UNKNOWN";
}

const char *tax_arch_name(uint32_t v)
{
	return v < COUNT(arch_names) ? arch_names[v] : "OTHER";
}

const char *tax_vendor_name(uint32_t v)
{
	return v < COUNT(vendor_names) ? vendor_names[v] : "OTHER";
}

const char *tax_workload_name(uint32_t v)
{
	return v < COUNT(workload_names) ? workload_names[v] : "UNKNOWN";
}

/* ===== Bit sets =========================================================== */

/* Indexed by bit position; NULL = a bit the ABI does not define. */
static const char *const backend_names[64] = {
	[0] = "pytorch",   [1] = "tensorflow", [2] = "onnx",
	[3] = "webnn",     [4] = "webgpu",     [5] = "directml",
	[6] = "openvino",  [7] = "qnn",        [8] = "cuda",
	[9] = "rocm",      [10] = "mps",       [11] = "vulkan",
	[12] = "metal",    [13] = "opencl",    [14] = "tvm",
	[15] = "nnapi",    [16] = "coreml",    [17] = "tflite",
	[18] = "tensorrt", [19] = "cpu",       [20] = "tpu",
	[21] = "npu",      [22] = "gpu",       [63] = "other",
};

/* "jax" and "xla" are deliberately absent: JAX runs on CPUs and GPUs too,
 * so naming a TPU for it would invent a requirement. */
static const struct alias backend_aliases[] = {
	{"torch", 0},       {"tf", 1},           {"onnxruntime", 2},
	{"ort", 2},         {"trt", 18},
};

static const char *const precision_names[32] = {
	[0] = "fp32", [1] = "fp16", [2] = "bf16",  [3] = "int8",
	[4] = "int4", [5] = "int2", [6] = "int1",  [7] = "mixed",
	[31] = "other",
};

static const struct alias precision_aliases[] = {
	{"float32", 0}, {"float16", 1}, {"half", 1}, {"bfloat16", 2},
};

static const char *const feature_names[32] = {
	[0] = "tensor_cores",      [1] = "ray_tracing",
	[2] = "neural_engine",     [3] = "quantization",
	[4] = "sparsity",          [5] = "dynamic_precision",
	[6] = "multi_instance",    [7] = "shared_memory",
	[8] = "unified_memory",    [9] = "dedicated_memory",
	[10] = "compute_shaders",  [11] = "simd",
	[12] = "simt",             [13] = "avx",
	[14] = "avx2",             [15] = "avx512",
	[16] = "neon",             [17] = "sve",
	[18] = "smt",              [19] = "tsx",
	[31] = "other",
};

/* /proc/cpuinfo flag names for the same features, so a worker can paste
 * its flags into hardware_specs.cpu_features. */
static const struct alias feature_aliases[] = {
	{"avx512f", 15}, {"asimd", 16}, {"ht", 18}, {"rtm", 19},
};

/* a and b one edit apart, ignoring case: a letter added, dropped or
 * changed, or two neighbours swapped. */
static int one_edit(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i = 0;

	if (la < lb) {
		const char *t = a;
		a = b;
		b = t;
		la = lb;
		lb = strlen(b);
	}
	if (la - lb > 1)
		return 0;
	while (i < lb && lower((unsigned char)a[i]) == lower((unsigned char)b[i]))
		i++;
	if (la > lb)
		return name_eq(a + i + 1, b + i);
	if (i == la)
		return 0;
	return name_eq(a + i + 1, b + i + 1) ||
	       (i + 1 < la && lower((unsigned char)a[i]) == lower((unsigned char)b[i + 1]) &&
	        lower((unsigned char)a[i + 1]) == lower((unsigned char)b[i]) &&
	        name_eq(a + i + 2, b + i + 2));
}

/* Software a worker lists that is one edit from a backend's name and no
 * typo of it: OpenCV and OpenGL (opencl), RAPIDS' cuDF (cuda), TorchX
 * (torch).  Said as typos, every worker of a vision fleet warned. */
static const char *const not_typos[] = {"opencv", "opengl", "cudf", "torchx"};

const char *tax_backend_near(const char *name)
{
	/* three letters ("mpi", "jax") are one edit from too many others */
	if (!name || strlen(name) < 4 || tax_backend_parse(name))
		return NULL;
	for (size_t i = 0; i < COUNT(not_typos); i++)
		if (name_eq(name, not_typos[i]))
			return NULL;
	for (size_t i = 0; i < COUNT(backend_names); i++)
		if (backend_names[i] && strlen(backend_names[i]) >= 4 &&
		    one_edit(name, backend_names[i]))
			return backend_names[i];
	for (size_t i = 0; i < COUNT(backend_aliases); i++)
		if (strlen(backend_aliases[i].name) >= 4 && one_edit(name, backend_aliases[i].name))
			return backend_aliases[i].name;
	return NULL;
}

uint64_t tax_backend_parse(const char *name)
{
	int i = lookup(name, backend_names, COUNT(backend_names),
	               backend_aliases, COUNT(backend_aliases));

	return i < 0 ? 0 : UINT64_C(1) << i;
}

uint32_t tax_precision_parse(const char *name)
{
	int i = lookup(name, precision_names, COUNT(precision_names),
	               precision_aliases, COUNT(precision_aliases));

	return i < 0 ? 0 : UINT32_C(1) << i;
}

uint32_t tax_feature_parse(const char *name)
{
	int i = lookup(name, feature_names, COUNT(feature_names),
	               feature_aliases, COUNT(feature_aliases));

	return i < 0 ? 0 : UINT32_C(1) << i;
}

/* The position of a single-bit value, or -1 when it is not one bit. */
static int bit_index(uint64_t bit)
{
	if (bit == 0 || (bit & (bit - 1)) != 0)
		return -1;
	int i = 0;
	while (!(bit & 1)) {
		bit >>= 1;
		i++;
	}
	return i;
}

const char *tax_backend_name(uint64_t bit)
{
	int i = bit_index(bit);

	return i < 0 ? NULL : backend_names[i];
}

const char *tax_precision_name(uint32_t bit)
{
	int i = bit_index(bit);

	return i < 0 ? NULL : precision_names[i];
}

const char *tax_feature_name(uint32_t bit)
{
	int i = bit_index(bit);

	return i < 0 ? NULL : feature_names[i];
}

/* ===== Workload type of a test type ====================================== */

double tax_memory_intensity(double gb)
{
	return gb / 16 < 1 ? gb / 16 : 1;
}

double tax_compute_intensity(double dur)
{
	return dur > 120 ? 0.8 : dur < 10 ? 0.3 : 0.5;
}

uint32_t tax_workload_from_test_type(const char *t)
{
	/* The original's order matters: "nlp_text_embedding" is NLP and
	 * "multi_device_training" is TRAINING because earlier rules win. */
	if (!t)
		return LBS_WL_MIXED;
	if (contains(t, "vision") || contains(t, "image"))
		return LBS_WL_VISION;
	if (contains(t, "nlp") || contains(t, "text") || contains(t, "language"))
		return LBS_WL_NLP;
	if (contains(t, "audio") || contains(t, "speech"))
		return LBS_WL_AUDIO;
	if (contains(t, "embedding"))
		return LBS_WL_EMBEDDING;
	if (contains(t, "training"))
		return LBS_WL_TRAINING;
	if (contains(t, "inference"))
		return LBS_WL_INFERENCE;
	if (contains(t, "conversational"))
		return LBS_WL_CONVERSATIONAL;
	if (contains(t, "multi"))
		return LBS_WL_MULTIMODAL;
	return LBS_WL_MIXED;
}

/* ===== Sets as text ======================================================= */

static char *join(uint64_t set, const char *const *names, int nbits, char *buf,
                  size_t len)
{
	size_t used = 0;

	if (!buf || len == 0)
		return buf;
	buf[0] = '\0';
	for (int i = 0; i < nbits && used + 1 < len; i++) {
		if (!(set & (UINT64_C(1) << i)))
			continue;
		char unnamed[16];
		const char *name = names[i];
		if (!name) {
			/* A bit from a newer ABI minor: keep it visible in
			 * explain output rather than dropping it. */
			snprintf(unnamed, sizeof unnamed, "bit%d", i);
			name = unnamed;
		}
		int n = snprintf(buf + used, len - used, "%s%s",
		                 used ? "," : "", name);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	if (used >= len)
		buf[len - 1] = '\0';
	return buf;
}

char *tax_backends_str(uint64_t set, char *buf, size_t len)
{
	return join(set, backend_names, 64, buf, len);
}

char *tax_precisions_str(uint32_t set, char *buf, size_t len)
{
	return join(set, precision_names, 32, buf, len);
}

char *tax_features_str(uint32_t set, char *buf, size_t len)
{
	return join(set, feature_names, 32, buf, len);
}
