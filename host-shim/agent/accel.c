/*
 * accel.c -- GPUs and NPUs the kernel lists (/sys/class/drm, /sys/class/accel)
 * and TPUs by PCI vendor id, for what NVML does not cover.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

#define PCI_NVIDIA 0x10de
#define PCI_AMD 0x1002
#define PCI_INTEL 0x8086
#define PCI_GOOGLE AG_PCI_GOOGLE

/* Display drivers that are a framebuffer, a BMC's VGA or a virtual card:
 * listing them as GPUs would be a lie about compute.  hyperv_drm: a
 * Hyper-V or Azure VM's synthetic video, whose VMBus device has a vendor
 * file (0x1414) like a PCI card's. */
static const char *const not_compute[] = {
	"simpledrm", "simple-framebuffer", "efifb", "ofdrm", "bochs-drm", "bochs",
	"cirrus", "cirrus-qemu", "vboxvideo", "vmwgfx", "qxl", "ast", "mgag200",
	"hibmc-drm", "virtio_gpu", "udl", "gud", "vkms", "hyperv_drm", NULL,
};

/* Drivers of platform (non-PCI) GPUs and whose they are. */
static const struct { const char *driver, *vendor; } platform_gpu[] = {
	{"panfrost", "arm"}, {"panthor", "arm"}, {"lima", "arm"},
	{"msm", "qualcomm"}, {"asahi", "apple"}, {"mediatek-drm", "mediatek"},
	{"etnaviv", "other"}, {"v3d", "other"}, {"vc4", "other"},
	{"tegra", "nvidia"},
};

static const char *pci_vendor_name(unsigned v)
{
	switch (v) {
	case PCI_NVIDIA: return "nvidia";
	case PCI_AMD: case 0x1022: return "amd";
	case PCI_INTEL: return "intel";
	case PCI_GOOGLE: return "google";
	case 0x17cb: return "qualcomm";
	case 0x144d: return "samsung";
	case 0x19e5: return "huawei";
	case 0x10ee: return "xilinx";
	default: return "other";
	}
}

/* The last path element of the symlink root+rel, or "" . */
static void link_name(const ag_env *env, const char *rel, char *out, size_t n)
{
	char p[4096], t[4096];
	ssize_t k;

	out[0] = 0;
	if (ag_path(env, rel, p, sizeof p) < 0 ||
	    (k = readlink(p, t, sizeof t - 1)) <= 0)
		return;
	t[k] = 0;
	const char *b = strrchr(t, '/');
	snprintf(out, n, "%.63s", b ? b + 1 : t);
}

static int listed(const char *const *list, const char *s)
{
	for (int i = 0; list[i]; i++)
		if (!strcmp(list[i], s))
			return 1;
	return 0;
}

/* "card<N>", not a connector ("card0-HDMI-A-1") nor a render node. */
static int is_card(const char *name)
{
	if (strncmp(name, "card", 4) != 0 || !name[4])
		return 0;
	for (const char *p = name + 4; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

static void drm(const ag_env *env, ag_caps *c, int nvml_listed, int rocm_listed)
{
	char dir[4096], rel[512], driver[64];
	DIR *d;
	struct dirent *e;
	unsigned found = 0;

	if (ag_path(env, "/sys/class/drm", dir, sizeof dir) < 0 ||
	    !(d = opendir(dir)))
		return;
	while ((e = readdir(d)) != NULL) {
		uint64_t vendor = 0, device = 0, vram = 0;
		const char *vname = NULL;

		if (!is_card(e->d_name))
			continue;
		snprintf(rel, sizeof rel, "/sys/class/drm/%s/device/driver", e->d_name);
		link_name(env, rel, driver, sizeof driver);
		if (listed(not_compute, driver))
			continue;
		snprintf(rel, sizeof rel, "/sys/class/drm/%s/device/vendor", e->d_name);
		if (ag_read_hex(env, rel, &vendor) == 0) {
			/* NVML and ROCm SMI already described their cards, better */
			if ((vendor == PCI_NVIDIA && nvml_listed) ||
			    (vendor == PCI_AMD && rocm_listed))
				continue;
			vname = pci_vendor_name((unsigned)vendor);
			snprintf(rel, sizeof rel, "/sys/class/drm/%s/device/device", e->d_name);
			ag_read_hex(env, rel, &device);
		} else {
			for (size_t i = 0; i < sizeof platform_gpu / sizeof *platform_gpu; i++)
				if (!strcmp(platform_gpu[i].driver, driver))
					vname = platform_gpu[i].vendor;
			if (!vname)
				continue;
		}
		if (c->n_gpus == AG_MAX_GPUS) {
			c->gpus_over++;
			continue;
		}
		ag_gpu *g = &c->gpus[c->n_gpus++];
		memset(g, 0, sizeof *g);
		g->mem_gb = g->clock_mhz = g->tdp_w = -1;
		g->sm = g->cc_major = g->cc_minor = g->tensor = -1;
		snprintf(g->vendor, sizeof g->vendor, "%s", vname);
		snprintf(g->source, sizeof g->source, "drm");
		if (vendor)
			snprintf(g->name, sizeof g->name, "%s GPU %04x:%04x (%s)", vname,
			         (unsigned)vendor, (unsigned)device, driver[0] ? driver : "no driver");
		else
			snprintf(g->name, sizeof g->name, "%s GPU (%s)", vname, driver);
		/* amdgpu's documented sysfs attribute for the card's VRAM */
		snprintf(rel, sizeof rel, "/sys/class/drm/%s/device/mem_info_vram_total",
		         e->d_name);
		if (ag_read_u64(env, rel, &vram) == 0 && vram > 0)
			g->mem_gb = (double)vram / (1024.0 * 1024 * 1024);
		found++;
	}
	closedir(d);
	if (found)
		ag_why(env, "available_accelerators.gpu",
		       "/sys/class/drm card* with a compute driver (%u; device/vendor, "
		       "device/driver, amdgpu mem_info_vram_total)", found);
}

static void accel(const ag_env *env, ag_caps *c)
{
	char dir[4096], rel[512], driver[64];
	DIR *d;
	struct dirent *e;

	if (ag_path(env, "/sys/class/accel", dir, sizeof dir) < 0 ||
	    !(d = opendir(dir)))
		return;
	while ((e = readdir(d)) != NULL) {
		uint64_t vendor = 0;

		if (strncmp(e->d_name, "accel", 5) != 0)
			continue;
		snprintf(rel, sizeof rel, "/sys/class/accel/%s/device/vendor", e->d_name);
		if (ag_read_hex(env, rel, &vendor) == 0 && vendor == PCI_GOOGLE)
			continue; /* counted as a TPU by its PCI id */
		snprintf(rel, sizeof rel, "/sys/class/accel/%s/device/driver", e->d_name);
		link_name(env, rel, driver, sizeof driver);
		c->npus++;
		if (!c->npu_vendor[0])
			snprintf(c->npu_vendor, sizeof c->npu_vendor, "%s",
			         vendor ? pci_vendor_name((unsigned)vendor) : "other");
		ag_why(env, "available_accelerators.npu",
		       "/sys/class/accel/%s (driver %s, vendor 0x%04x)", e->d_name,
		       driver[0] ? driver : "none", (unsigned)vendor);
	}
	closedir(d);
}

/* Counted over every PCI device by cpu.c (ag_pci_is_tpu): the published
 * list stops at AG_MAX_PCI, and a host with more devices before its TPUs
 * had none. */
static void tpu(const ag_env *env, ag_caps *c)
{
	c->tpus = c->n_tpu_pci;
	for (unsigned i = 0; i < c->n_tpu_pci && i < AG_MAX_PCI; i++)
		ag_why(env, "available_accelerators.tpu",
		       "PCI %s vendor 0x%04x (Google) class 0x%04x, from hwloc",
		       c->tpu_pci[i].addr, c->tpu_pci[i].vendor, c->tpu_pci[i].class_id);
}

void ag_detect_accel(const ag_env *env, ag_caps *c, int nvml_listed, int rocm_listed)
{
	drm(env, c, nvml_listed, rocm_listed);
	accel(env, c);
	tpu(env, c);
}
