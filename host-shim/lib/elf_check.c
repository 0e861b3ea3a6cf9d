/*
 * elf_check.c -- read a plugin's ELF headers before dlopen() does.
 *
 * Only the fields dlopen() relies on are checked: identity (magic, class,
 * byte order, machine, type), that every header table and segment lies
 * inside the file, and that the dynamic section's tables lie in what the
 * segments load from it.  What a header says is compared with the file's size in
 * 64 bits with the subtraction on the known-smaller side, so no header
 * value can wrap the arithmetic.
 */
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "elf_check.h"

#if defined(__x86_64__)
#define HOST_MACHINE EM_X86_64
#elif defined(__i386__)
#define HOST_MACHINE EM_386
#elif defined(__aarch64__)
#define HOST_MACHINE EM_AARCH64
#elif defined(__arm__)
#define HOST_MACHINE EM_ARM
#elif defined(__riscv)
#define HOST_MACHINE EM_RISCV
#elif defined(__powerpc64__)
#define HOST_MACHINE EM_PPC64
#elif defined(__powerpc__)
#define HOST_MACHINE EM_PPC
#elif defined(__s390x__)
#define HOST_MACHINE EM_S390
#elif defined(__mips__)
#define HOST_MACHINE EM_MIPS
#elif defined(__loongarch__)
#define HOST_MACHINE 258 /* EM_LOONGARCH, missing from older <elf.h> */
#else
#define HOST_MACHINE 0 /* unknown: the machine is left to dlopen() */
#endif

#define HOST_CLASS (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32)
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define HOST_DATA ELFDATA2MSB
#else
#define HOST_DATA ELFDATA2LSB
#endif

static const char *machine_name(unsigned m, char *buf, size_t n)
{
	switch (m) {
	case EM_386: return "i386";
	case EM_X86_64: return "x86-64";
	case EM_ARM: return "arm";
	case EM_AARCH64: return "aarch64";
	case EM_RISCV: return "riscv";
	case EM_PPC: return "powerpc";
	case EM_PPC64: return "powerpc64";
	case EM_S390: return "s390";
	case EM_MIPS: return "mips";
	case EM_SPARCV9: return "sparc64";
	case 258: return "loongarch";
	}
	snprintf(buf, n, "ELF machine %u", m);
	return buf;
}

/* "aarch64", with class and byte order when they differ from the host's
 * (i386 and x86-64 differ by machine; x32 and x86-64 only by class). */
static void describe(char *buf, size_t n, unsigned machine, unsigned cls, unsigned data)
{
	char num[32];
	const char *name = machine_name(machine, num, sizeof num);

	if (cls == HOST_CLASS && data == HOST_DATA)
		snprintf(buf, n, "%s", name);
	else
		snprintf(buf, n, "%s (%s, %s)", name,
		         cls == ELFCLASS64 ? "64-bit" : cls == ELFCLASS32 ? "32-bit" : "unknown class",
		         data == ELFDATA2MSB ? "big-endian"
		         : data == ELFDATA2LSB ? "little-endian" : "unknown byte order");
}

/* 1 when [off, off + len) lies inside a file of `size` bytes. */
static int inside(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

/* 1 when [addr, addr + len) lies in the file-backed part of one PT_LOAD
 * segment: memory dlopen() fills from the file, not zeros or nothing. */
static int mapped(elf_read_fn read, void *ctx, const ElfW(Ehdr) *eh, uint64_t addr,
                  uint64_t len)
{
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		ElfW(Phdr) ph;

		if (read(ctx, eh->e_phoff + (uint64_t)i * sizeof ph, &ph, sizeof ph))
			return 0;
		if (ph.p_type == PT_LOAD && addr >= ph.p_vaddr &&
		    inside(addr - ph.p_vaddr, len, ph.p_filesz))
			return 1;
	}
	return 0;
}

/* The dynamic section's tables that dlopen() follows without a check of
 * its own (a file whose tail was lost to zeros, or overwritten, crashed it
 * inside its relocation): each address, with its size where it has one,
 * in the file-backed part of a loaded segment. */
static const struct {
	ElfW(Sxword) tag, size_tag;
	int required;
	const char *name;
} tables[] = {
	{DT_STRTAB, DT_STRSZ, 1, "string table (DT_STRTAB)"},
	{DT_SYMTAB, 0, 1, "symbol table (DT_SYMTAB)"},
	{DT_HASH, 0, 0, "hash table (DT_HASH)"},
	{DT_GNU_HASH, 0, 0, "hash table (DT_GNU_HASH)"},
	{DT_RELA, DT_RELASZ, 0, "relocations (DT_RELA)"},
	{DT_REL, DT_RELSZ, 0, "relocations (DT_REL)"},
	{DT_JMPREL, DT_PLTRELSZ, 0, "PLT relocations (DT_JMPREL)"},
	{DT_RELR, DT_RELRSZ, 0, "relative relocations (DT_RELR)"},
	{DT_VERSYM, 0, 0, "symbol versions (DT_VERSYM)"},
	{DT_VERNEED, 0, 0, "needed versions (DT_VERNEED)"},
	{DT_VERDEF, 0, 0, "defined versions (DT_VERDEF)"},
	{DT_INIT, 0, 0, "initialiser (DT_INIT)"},
	{DT_FINI, 0, 0, "finaliser (DT_FINI)"},
	{DT_INIT_ARRAY, DT_INIT_ARRAYSZ, 0, "initialisers (DT_INIT_ARRAY)"},
	{DT_FINI_ARRAY, DT_FINI_ARRAYSZ, 0, "finalisers (DT_FINI_ARRAY)"},
};
#define N_TABLES (sizeof tables / sizeof tables[0])
/* as glibc 2.36's <elf.h> names them, for an older one */
#ifndef DT_RELR
#define DT_RELRSZ 35
#define DT_RELR 36
#endif

/* More entries than any linker writes: a section this long is damage. */
#define MAX_DYNAMIC 4096

static int dynamic_check(elf_read_fn read, void *ctx, const ElfW(Ehdr) *eh,
                         const ElfW(Phdr) *dyn, char *why, size_t n)
{
	uint64_t value[N_TABLES] = {0}, size[N_TABLES] = {0};
	int seen[N_TABLES] = {0}, ended = 0;
	uint64_t count = dyn->p_filesz / sizeof(ElfW(Dyn));

	if (count > MAX_DYNAMIC)
		count = MAX_DYNAMIC;
	for (uint64_t k = 0; k < count && !ended; k++) {
		ElfW(Dyn) d;

		if (read(ctx, dyn->p_offset + k * sizeof d, &d, sizeof d))
			break;
		ended = d.d_tag == DT_NULL;
		for (size_t t = 0; t < N_TABLES; t++) {
			if (d.d_tag == tables[t].tag) {
				value[t] = d.d_un.d_ptr;
				seen[t] = 1;
			} else if (tables[t].size_tag && d.d_tag == tables[t].size_tag) {
				size[t] = d.d_un.d_val;
			}
		}
	}
	if (!ended) {
		snprintf(why, n, "damaged: its dynamic section has no end (DT_NULL) in its %llu "
		         "bytes", (unsigned long long)dyn->p_filesz);
		return -1;
	}
	for (size_t t = 0; t < N_TABLES; t++) {
		if (!seen[t] && tables[t].required) {
			snprintf(why, n, "damaged: its dynamic section has no %s", tables[t].name);
			return -1;
		}
		if (seen[t] && !mapped(read, ctx, eh, value[t], size[t] ? size[t] : 1)) {
			snprintf(why, n, "damaged: its %s, %llu bytes at address %#llx, lies outside "
			         "what its segments load from the file", tables[t].name,
			         (unsigned long long)size[t], (unsigned long long)value[t]);
			return -1;
		}
	}
	if (!seen[2] && !seen[3]) {
		snprintf(why, n, "damaged: its dynamic section has no symbol hash table "
		         "(DT_GNU_HASH or DT_HASH)");
		return -1;
	}
	return 0;
}

static const char *type_name(unsigned t)
{
	switch (t) {
	case ET_EXEC: return "an executable, not a shared object";
	case ET_REL: return "a relocatable object (.o), not a shared object";
	case ET_CORE: return "a core dump, not a shared object";
	}
	return "not a shared object";
}

int elf_check(elf_read_fn read, void *ctx, uint64_t file_size, char *why, size_t n)
{
	unsigned char ident[20];
	ElfW(Ehdr) eh;
	ElfW(Phdr) dyn = {0};
	unsigned machine, type, dynamics = 0;
	uint64_t table;

	if (file_size < sizeof ident || read(ctx, 0, ident, sizeof ident) ||
	    memcmp(ident, ELFMAG, SELFMAG)) {
		snprintf(why, n, "not an ELF file (it does not start with the ELF magic number)");
		return -1;
	}
	/* e_type and e_machine sit at bytes 16 and 18 in both classes, in
	 * the file's own byte order. */
	if (ident[EI_DATA] == ELFDATA2MSB) {
		type = (unsigned)ident[16] << 8 | ident[17];
		machine = (unsigned)ident[18] << 8 | ident[19];
	} else {
		type = (unsigned)ident[17] << 8 | ident[16];
		machine = (unsigned)ident[19] << 8 | ident[18];
	}
	if (ident[EI_CLASS] != HOST_CLASS || ident[EI_DATA] != HOST_DATA ||
	    (HOST_MACHINE && machine != HOST_MACHINE)) {
		char file[96], host[96];
		describe(file, sizeof file, machine, ident[EI_CLASS], ident[EI_DATA]);
		describe(host, sizeof host, HOST_MACHINE ? HOST_MACHINE : machine, HOST_CLASS,
		         HOST_DATA);
		snprintf(why, n, "built for %s, this host is %s", file, host);
		return -1;
	}
	if (type != ET_DYN) {
		snprintf(why, n, "%s (ELF type %u)", type_name(type), type);
		return -1;
	}
	if (file_size < sizeof eh || read(ctx, 0, &eh, sizeof eh)) {
		snprintf(why, n, "truncated: the file is %llu bytes, shorter than its ELF header",
		         (unsigned long long)file_size);
		return -1;
	}
	if (eh.e_phnum == 0 || eh.e_phnum == PN_XNUM || eh.e_phentsize != sizeof(ElfW(Phdr))) {
		snprintf(why, n, "its ELF header says %u program headers of %u bytes "
		         "(a shared object has 1 to %u of %zu)",
		         (unsigned)eh.e_phnum, (unsigned)eh.e_phentsize, PN_XNUM - 1,
		         sizeof(ElfW(Phdr)));
		return -1;
	}
	table = (uint64_t)eh.e_phnum * eh.e_phentsize;
	if (!inside(eh.e_phoff, table, file_size)) {
		snprintf(why, n, "truncated: the file is %llu bytes, its program headers are "
		         "%llu bytes at byte %llu", (unsigned long long)file_size,
		         (unsigned long long)table, (unsigned long long)eh.e_phoff);
		return -1;
	}
	/* dlopen() never reads section headers, but they are written last:
	 * a file cut short loses them first. */
	table = (uint64_t)eh.e_shnum * eh.e_shentsize;
	if (eh.e_shoff && !inside(eh.e_shoff, table ? table : eh.e_shentsize, file_size)) {
		snprintf(why, n, "truncated: the file is %llu bytes, its section headers are "
		         "%llu bytes at byte %llu", (unsigned long long)file_size,
		         (unsigned long long)table, (unsigned long long)eh.e_shoff);
		return -1;
	}
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		ElfW(Phdr) ph;

		if (read(ctx, eh.e_phoff + (uint64_t)i * sizeof ph, &ph, sizeof ph)) {
			snprintf(why, n, "cannot read program header %u", i);
			return -1;
		}
		if (ph.p_filesz && !inside(ph.p_offset, ph.p_filesz, file_size)) {
			snprintf(why, n, "truncated: the file is %llu bytes, its segment %u "
			         "(program header type %#x) is %llu bytes at byte %llu",
			         (unsigned long long)file_size, i, (unsigned)ph.p_type,
			         (unsigned long long)ph.p_filesz, (unsigned long long)ph.p_offset);
			return -1;
		}
		if (ph.p_type == PT_DYNAMIC) {
			dyn = ph;
			dynamics++;
		}
	}
	/* A plugin is found by its exported entry: without one dynamic
	 * section there is none to find. */
	if (dynamics != 1) {
		snprintf(why, n, "damaged: it has %u dynamic segments (PT_DYNAMIC), not 1",
		         dynamics);
		return -1;
	}
	return dynamic_check(read, ctx, &eh, &dyn, why, n);
}

static int read_fd(void *ctx, uint64_t off, void *buf, size_t len)
{
	int fd = *(int *)ctx;
	size_t got = 0;

	while (got < len) {
		ssize_t r = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

int elf_check_fd(int fd, uint64_t file_size, char *why, size_t n)
{
	return elf_check(read_fd, &fd, file_size, why, n);
}
