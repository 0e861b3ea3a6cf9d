/*
 * taxonomy.h -- names <-> values of the ABI's hardware and workload taxonomy.
 *
 * Every lookup is case-insensitive ("cuda", "CUDA", "Cuda").  An unknown name
 * is reported (return value) so that the caller can warn with the name; the
 * caller then maps it to OTHER, which never satisfies a requirement.
 */
#ifndef LBS_TAXONOMY_H
#define LBS_TAXONOMY_H

#include <stddef.h>
#include <stdint.h>

#include <lbsched/abi.h>

/* Scalar enumerations: return the LBS_CLASS_ / LBS_ARCH_ / LBS_VENDOR_ /
 * LBS_WL_ value, or -1 when the name is not known (NULL and "" included).
 * Architectures also accept what systems report ("amd64", "aarch64",
 * "i686", every 32-bit ARM spelling such as "armv6l", "armv8l", "armhf",
 * "mips64el", ...) and the GPU runtimes ("cuda" -> GPU_CUDA, "rocm", "metal",
 * "webgpu"); vendors accept the CPUID strings ("GenuineIntel"). */
int tax_class_parse(const char *name);
/* The class an accelerator kind of available_accelerators or
 * required_accelerators names: a class name, or "cuda" (GPU); -1 for
 * another. */
int tax_accel_class_parse(const char *kind);
int tax_arch_parse(const char *name);
int tax_vendor_parse(const char *name);
int tax_workload_parse(const char *name); /* exact member name: "VISION" */

/* Name of a value, upper-case as in the ABI ("GPU", "X86_64").  A value out
 * of range (from a newer ABI minor) is "UNKNOWN" for classes and workload
 * types and "OTHER" for architectures and vendors, matching how a reader
 * treats it.  Static strings. */
const char *tax_class_name(uint32_t v);
const char *tax_arch_name(uint32_t v);
const char *tax_vendor_name(uint32_t v);
const char *tax_workload_name(uint32_t v);

/* Bit sets: return the single bit for a name, or 0 when not known.
 * Backends also accept common aliases ("torch" -> PYTORCH, "tf" ->
 * TENSORFLOW, "trt" -> TENSORRT, "onnxruntime"/"ort" -> ONNX); precisions
 * "float32", "float16"/"half", "bfloat16"; features the /proc/cpuinfo flag
 * names "avx512f", "asimd" (NEON), "ht" (SMT), "rtm" (TSX).  "other" parses
 * to the OTHER bit so that names round-trip. */
uint64_t tax_backend_parse(const char *name);
/* The backend name (or alias) of 4 letters or more that `name`, not one
 * itself, is one typo from ("cudaa", "tensorflowx", "pytroch"), or NULL:
 * a name kept by name that is likely a misspelling. */
const char *tax_backend_near(const char *name);
uint32_t tax_precision_parse(const char *name);
uint32_t tax_feature_parse(const char *name);

/* Name of one bit (lower-case, "cuda"); NULL for a bit with no name. */
const char *tax_backend_name(uint64_t bit);
const char *tax_precision_name(uint32_t bit);
const char *tax_feature_name(uint32_t bit);

/*
 * Workload type of a free-form test type ("vision_classification"), by the
 * original framework's substring rules, first match wins: vision/image ->
 * VISION; nlp/text/language -> NLP; audio/speech -> AUDIO; embedding ->
 * EMBEDDING; training -> TRAINING; inference -> INFERENCE; conversational
 * -> CONVERSATIONAL; multi -> MULTIMODAL; otherwise MIXED.  NULL -> MIXED.
 */
uint32_t tax_workload_from_test_type(const char *test_type);

/* The original's metrics of a test's stated requirements (every host maps
 * them alike): memory intensity min(1, GB / 16); compute intensity 0.8
 * above 120 s, 0.3 below 10 s, else 0.5. */
double tax_memory_intensity(double min_memory_gb);
double tax_compute_intensity(double expected_duration_s);

/* Write the names of the bits of `set` as "a,b,c" into buf (always
 * NUL-terminated, truncated when too small; "" for the empty set); a bit
 * with no name is written "bitN".  Returns buf.  For explain output. */
char *tax_backends_str(uint64_t set, char *buf, size_t len);
char *tax_precisions_str(uint32_t set, char *buf, size_t len);
char *tax_features_str(uint32_t set, char *buf, size_t len);

#endif
