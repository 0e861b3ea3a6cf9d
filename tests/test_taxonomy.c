/*
 * test_taxonomy.c -- names <-> values, aliases, and the original's
 * test-type substring rules.
 */
#include <string.h>

#include "check.h"
#include "taxonomy.h"

static void test_scalars(void)
{
	CHECK_INT(tax_class_parse("GPU"), LBS_CLASS_GPU);
	CHECK_INT(tax_class_parse("gpu"), LBS_CLASS_GPU);
	CHECK_INT(tax_class_parse("Hybrid"), LBS_CLASS_HYBRID);
	/* an accelerator kind: a class, or the original's "cuda" (a GPU) */
	CHECK_INT(tax_accel_class_parse("tpu"), LBS_CLASS_TPU);
	CHECK_INT(tax_accel_class_parse("cuda"), LBS_CLASS_GPU);
	CHECK_INT(tax_accel_class_parse("CUDA"), LBS_CLASS_GPU);
	CHECK_INT(tax_accel_class_parse("fpga-x"), -1);
	CHECK_INT(tax_class_parse("cuda"), -1);
	CHECK_INT(tax_class_parse("UNKNOWN"), LBS_CLASS_UNKNOWN);
	CHECK_INT(tax_class_parse("browser"), -1);
	CHECK_INT(tax_class_parse(""), -1);
	CHECK_INT(tax_class_parse(NULL), -1);
	CHECK_INT(tax_class_parse("GPUX"), -1);
	CHECK_INT(tax_class_parse("GP"), -1);

	CHECK_INT(tax_arch_parse("X86_64"), LBS_ARCH_X86_64);
	CHECK_INT(tax_arch_parse("x86_64"), LBS_ARCH_X86_64);
	CHECK_INT(tax_arch_parse("amd64"), LBS_ARCH_X86_64);
	CHECK_INT(tax_arch_parse("AMD64"), LBS_ARCH_X86_64);
	CHECK_INT(tax_arch_parse("aarch64"), LBS_ARCH_ARM64);
	CHECK_INT(tax_arch_parse("arm64"), LBS_ARCH_ARM64);
	CHECK_INT(tax_arch_parse("cuda"), LBS_ARCH_GPU_CUDA);
	CHECK_INT(tax_arch_parse("rocm"), LBS_ARCH_GPU_ROCM);
	CHECK_INT(tax_arch_parse("metal"), LBS_ARCH_GPU_METAL);
	CHECK_INT(tax_arch_parse("WebGPU"), LBS_ARCH_GPU_WEBGPU);
	CHECK_INT(tax_arch_parse("gpu_webgpu"), LBS_ARCH_GPU_WEBGPU);
	CHECK_INT(tax_arch_parse("other"), LBS_ARCH_OTHER);
	CHECK_INT(tax_arch_parse("vax"), -1);
	/* 32-bit ARM as uname -m and distributions spell it: an ARM worker
	 * published OTHER ("unknown architecture 'armv6l'") and never met
	 * an ARM preference */
	CHECK_INT(tax_arch_parse("armv6l"), LBS_ARCH_ARM);
	CHECK_INT(tax_arch_parse("armv7l"), LBS_ARCH_ARM);
	CHECK_INT(tax_arch_parse("armv8l"), LBS_ARCH_ARM);
	CHECK_INT(tax_arch_parse("ARMv7L"), LBS_ARCH_ARM);
	CHECK_INT(tax_arch_parse("armv5tel"), LBS_ARCH_ARM);
	CHECK_INT(tax_arch_parse("armv7hl"), LBS_ARCH_ARM);
	CHECK_INT(tax_arch_parse("armhf"), LBS_ARCH_ARM);
	CHECK_INT(tax_arch_parse("armel"), LBS_ARCH_ARM);
	CHECK_INT(tax_arch_parse("arm"), LBS_ARCH_ARM);
	CHECK_INT(tax_arch_parse("arm64"), LBS_ARCH_ARM64);
	CHECK_INT(tax_arch_parse("aarch64_be"), LBS_ARCH_ARM64);
	/* the prefix alone is no ARM name: a typo stays unknown */
	CHECK_INT(tax_arch_parse("armada"), -1);
	CHECK_INT(tax_arch_parse("armv"), -1);
	CHECK_INT(tax_arch_parse("ar"), -1);
	CHECK_INT(tax_arch_parse("mips64"), LBS_ARCH_MIPS);
	CHECK_INT(tax_arch_parse("mipsel"), LBS_ARCH_MIPS);
	CHECK_INT(tax_arch_parse("mips64el"), LBS_ARCH_MIPS);
	CHECK_INT(tax_arch_parse("ppc64"), LBS_ARCH_PPC64);
	CHECK_INT(tax_arch_parse("ppc64el"), LBS_ARCH_PPC64);
	CHECK_INT(tax_arch_parse("powerpc"), LBS_ARCH_PPC);
	CHECK_INT(tax_arch_parse("riscv32"), LBS_ARCH_RISCV);
	CHECK_INT(tax_arch_parse("i586"), LBS_ARCH_X86);
	/* no member for these: unknown, never filed under a wrong one */
	CHECK_INT(tax_arch_parse("s390x"), -1);
	CHECK_INT(tax_arch_parse("loongarch64"), -1);

	CHECK_INT(tax_vendor_parse("NVIDIA"), LBS_VENDOR_NVIDIA);
	CHECK_INT(tax_vendor_parse("nvidia"), LBS_VENDOR_NVIDIA);
	CHECK_INT(tax_vendor_parse("Qualcomm"), LBS_VENDOR_QUALCOMM);
	CHECK_INT(tax_vendor_parse("GenuineIntel"), LBS_VENDOR_INTEL);
	CHECK_INT(tax_vendor_parse("acme"), -1);

	CHECK_INT(tax_workload_parse("VISION"), LBS_WL_VISION);
	CHECK_INT(tax_workload_parse("vision"), LBS_WL_VISION);
	CHECK_INT(tax_workload_parse("Conversational"), LBS_WL_CONVERSATIONAL);
	CHECK_INT(tax_workload_parse("MIXED"), LBS_WL_MIXED);
	/* exact member names only: no substring rules here */
	CHECK_INT(tax_workload_parse("vision_classification"), -1);
}

static void test_scalar_names(void)
{
	CHECK_STR(tax_class_name(LBS_CLASS_GPU), "GPU");
	CHECK_STR(tax_arch_name(LBS_ARCH_X86_64), "X86_64");
	CHECK_STR(tax_vendor_name(LBS_VENDOR_NVIDIA), "NVIDIA");
	CHECK_STR(tax_workload_name(LBS_WL_VISION), "VISION");
	/* values from a newer minor read as the ABI says to treat them */
	CHECK_STR(tax_class_name(LBS_CLASS_COUNT), "UNKNOWN");
	CHECK_STR(tax_arch_name(999), "OTHER");
	CHECK_STR(tax_vendor_name(LBS_VENDOR_COUNT), "OTHER");
	CHECK_STR(tax_workload_name(LBS_WL_COUNT), "UNKNOWN");

	/* every value round-trips through its name */
	for (uint32_t v = 0; v < LBS_CLASS_COUNT; v++)
		CHECK_INT(tax_class_parse(tax_class_name(v)), v);
	for (uint32_t v = 0; v < LBS_ARCH_COUNT; v++)
		CHECK_INT(tax_arch_parse(tax_arch_name(v)), v);
	for (uint32_t v = 0; v < LBS_VENDOR_COUNT; v++)
		CHECK_INT(tax_vendor_parse(tax_vendor_name(v)), v);
	for (uint32_t v = 0; v < LBS_WL_COUNT; v++)
		CHECK_INT(tax_workload_parse(tax_workload_name(v)), v);
}

static void test_bits(void)
{
	CHECK(tax_backend_parse("cuda") == LBS_BACKEND_CUDA);
	CHECK(tax_backend_parse("CUDA") == LBS_BACKEND_CUDA);
	CHECK(tax_backend_parse("PyTorch") == LBS_BACKEND_PYTORCH);
	CHECK(tax_backend_parse("torch") == LBS_BACKEND_PYTORCH);
	CHECK(tax_backend_parse("tf") == LBS_BACKEND_TENSORFLOW);
	CHECK(tax_backend_parse("trt") == LBS_BACKEND_TENSORRT);
	CHECK(tax_backend_parse("onnxruntime") == LBS_BACKEND_ONNX);
	CHECK(tax_backend_parse("ORT") == LBS_BACKEND_ONNX);
	CHECK(tax_backend_parse("cpu") == LBS_BACKEND_CPU);
	CHECK(tax_backend_parse("gpu") == LBS_BACKEND_GPU);
	CHECK(tax_backend_parse("tpu") == LBS_BACKEND_TPU);
	CHECK(tax_backend_parse("npu") == LBS_BACKEND_NPU);
	CHECK(tax_backend_parse("webgpu") == LBS_BACKEND_WEBGPU);
	CHECK(tax_backend_parse("jax") == 0); /* not a TPU: JAX runs anywhere */
	CHECK(tax_backend_parse("xla") == 0);
	CHECK(tax_backend_parse("foo") == 0);
	CHECK(tax_backend_parse("") == 0);
	CHECK(tax_backend_parse(NULL) == 0);

	CHECK(tax_precision_parse("INT8") == LBS_PREC_INT8);
	CHECK(tax_precision_parse("bf16") == LBS_PREC_BF16);
	CHECK(tax_precision_parse("fp64") == 0);
	CHECK(tax_feature_parse("TENSOR_CORES") == LBS_FEAT_TENSOR_CORES);
	CHECK(tax_feature_parse("avx2") == LBS_FEAT_AVX2);
	CHECK(tax_feature_parse("avx512f") == LBS_FEAT_AVX512);
	CHECK(tax_feature_parse("warp_drive") == 0);

	CHECK_STR(tax_backend_name(LBS_BACKEND_CUDA), "cuda");
	CHECK_STR(tax_backend_name(LBS_BACKEND_OTHER), "other");
	CHECK(tax_backend_name(LBS_BACKEND_CUDA | LBS_BACKEND_ROCM) == NULL);
	CHECK(tax_backend_name(0) == NULL);
	CHECK(tax_backend_name(UINT64_C(1) << 40) == NULL);
	CHECK_STR(tax_precision_name(LBS_PREC_FP16), "fp16");
	CHECK_STR(tax_feature_name(LBS_FEAT_SIMT), "simt");

	/* every named bit round-trips */
	int named = 0;
	for (int i = 0; i < 64; i++) {
		uint64_t bit = UINT64_C(1) << i;
		const char *n = tax_backend_name(bit);
		if (n) {
			named++;
			CHECK(tax_backend_parse(n) == bit);
		}
	}
	CHECK_INT(named, 24); /* 23 backends + OTHER */
	named = 0;
	for (int i = 0; i < 32; i++) {
		uint32_t bit = UINT32_C(1) << i;
		const char *p = tax_precision_name(bit), *f = tax_feature_name(bit);
		if (p)
			CHECK(tax_precision_parse(p) == bit);
		if (f) {
			named++;
			CHECK(tax_feature_parse(f) == bit);
		}
	}
	CHECK_INT(named, 21);
}

static void test_test_types(void)
{
	/* the seed's own cases, seed-behaviour §c.2 */
	CHECK_INT(tax_workload_from_test_type("vision_classification"), LBS_WL_VISION);
	CHECK_INT(tax_workload_from_test_type("nlp_text_embedding"), LBS_WL_NLP);
	CHECK_INT(tax_workload_from_test_type("mobile_nlp_inference"), LBS_WL_NLP);
	CHECK_INT(tax_workload_from_test_type("multi_device_training"), LBS_WL_TRAINING);
	CHECK_INT(tax_workload_from_test_type(NULL), LBS_WL_MIXED);
	CHECK_INT(tax_workload_from_test_type(""), LBS_WL_MIXED);

	CHECK_INT(tax_workload_from_test_type("Image_Segmentation"), LBS_WL_VISION);
	CHECK_INT(tax_workload_from_test_type("LANGUAGE_MODEL"), LBS_WL_NLP);
	CHECK_INT(tax_workload_from_test_type("speech_to_text"), LBS_WL_NLP); /* text wins */
	CHECK_INT(tax_workload_from_test_type("speech_recognition"), LBS_WL_AUDIO);
	CHECK_INT(tax_workload_from_test_type("audio_embedding"), LBS_WL_AUDIO);
	CHECK_INT(tax_workload_from_test_type("sentence_embedding"), LBS_WL_EMBEDDING);
	CHECK_INT(tax_workload_from_test_type("embedding_training"), LBS_WL_EMBEDDING);
	CHECK_INT(tax_workload_from_test_type("model_training"), LBS_WL_TRAINING);
	CHECK_INT(tax_workload_from_test_type("batch_inference"), LBS_WL_INFERENCE);
	CHECK_INT(tax_workload_from_test_type("conversational_agent"), LBS_WL_CONVERSATIONAL);
	CHECK_INT(tax_workload_from_test_type("multimodal_fusion"), LBS_WL_MULTIMODAL);
	CHECK_INT(tax_workload_from_test_type("benchmark"), LBS_WL_MIXED);
}

static void test_strings(void)
{
	char buf[128];

	CHECK_STR(tax_backends_str(LBS_BACKEND_CUDA | LBS_BACKEND_PYTORCH |
	                           LBS_BACKEND_OTHER, buf, sizeof buf),
	          "pytorch,cuda,other");
	CHECK_STR(tax_backends_str(0, buf, sizeof buf), "");
	CHECK_STR(tax_backends_str(UINT64_C(1) << 40, buf, sizeof buf), "bit40");
	CHECK_STR(tax_precisions_str(LBS_PREC_FP32 | LBS_PREC_INT8, buf, sizeof buf),
	          "fp32,int8");
	CHECK_STR(tax_features_str(LBS_FEAT_SIMD | LBS_FEAT_AVX2, buf, sizeof buf),
	          "simd,avx2");

	/* a small buffer truncates and stays terminated */
	char small[6];
	memset(small, 'x', sizeof small);
	tax_backends_str(LBS_BACKEND_PYTORCH | LBS_BACKEND_CUDA, small, sizeof small);
	CHECK_STR(small, "pytor");
	memset(small, 'x', sizeof small);
	tax_backends_str(LBS_BACKEND_ONNX | LBS_BACKEND_CUDA, small, sizeof small);
	CHECK_STR(small, "onnx,");
	CHECK(tax_backends_str(LBS_BACKEND_CUDA, small, 0) == small);
	CHECK_INT(small[0], 'o'); /* len 0: nothing written */

	/* every backend at once fits a generous buffer */
	char all[512];
	tax_backends_str(~UINT64_C(0), all, sizeof all);
	CHECK_CONTAINS(all, "pytorch,tensorflow,onnx,");
	CHECK_CONTAINS(all, ",gpu,bit23,");
	CHECK_CONTAINS(all, ",other");
}

/* A name kept by name that is one typo from a backend's: said as such. */
static void test_backend_near(void)
{
	CHECK_STR(tax_backend_near("cudaa"), "cuda");        /* one added */
	CHECK_STR(tax_backend_near("tensrflow"), "tensorflow"); /* one dropped */
	CHECK_STR(tax_backend_near("Pytorcj"), "pytorch");   /* one changed, any case */
	CHECK_STR(tax_backend_near("pytroch"), "pytorch");   /* two swapped */
	CHECK_STR(tax_backend_near("onnxruntme"), "onnxruntime"); /* an alias */
	/* the names themselves, other software, and names too short to tell */
	CHECK(tax_backend_near("cuda") == NULL);
	CHECK(tax_backend_near("torch") == NULL);
	CHECK(tax_backend_near("nvidia_driver") == NULL);
	CHECK(tax_backend_near("triton") == NULL);
	CHECK(tax_backend_near("jax") == NULL);
	CHECK(tax_backend_near("mpi") == NULL);
	CHECK(tax_backend_near("cudnn") == NULL);
	/* software one edit from a backend, and no typo of it */
	CHECK(tax_backend_near("opencv") == NULL);
	CHECK(tax_backend_near("OpenGL") == NULL);
	CHECK(tax_backend_near("cudf") == NULL);
	CHECK(tax_backend_near("torchx") == NULL);
	CHECK_STR(tax_backend_near("opencll"), "opencl");
	CHECK(tax_backend_near("") == NULL);
	CHECK(tax_backend_near(NULL) == NULL);
}

int main(void)
{
	test_backend_near();
	test_scalars();
	test_scalar_names();
	test_bits();
	test_test_types();
	test_strings();
	return check_done("test_taxonomy");
}
