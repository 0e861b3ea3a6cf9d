/*
 * fuzz_elf.c -- the loader's ELF header reader (host-shim/lib/elf_check.c),
 * which reads a plugin file before dlopen() does.  The input is the file.
 *
 * The reader may only ask for bytes inside the file it was told about.  A
 * refusal explains itself in one line; an acceptance means the ELF header
 * and every segment the program headers name lie inside the file.
 */
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <string.h>

#include "elf_check.h"
#include "fuzz_env.h"

typedef struct file {
	const uint8_t *data;
	size_t size;
} file;

static int read_mem(void *ctx, uint64_t off, void *buf, size_t len)
{
	const file *f = ctx;

	if (off > f->size || len > f->size - off)
		fuzz_fail("elf_check read %zu bytes at %llu of a %zu-byte file", len,
		          (unsigned long long)off, f->size);
	memcpy(buf, f->data + off, len);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_sandbox(argc, argv);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	file f = {data, size};
	char why[256];
	ElfW(Ehdr) eh;

	why[0] = '\0';
	if (elf_check(read_mem, &f, size, why, sizeof why)) {
		fuzz_check_error(why, sizeof why, NULL, "elf_check");
		return 0;
	}
	if (size < sizeof eh)
		fuzz_fail("accepted a %zu-byte file, shorter than an ELF header", size);
	memcpy(&eh, data, sizeof eh);
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_type != ET_DYN)
		fuzz_fail("accepted a file that is not an ELF shared object");
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		ElfW(Phdr) ph;
		memcpy(&ph, data + eh.e_phoff + (size_t)i * sizeof ph, sizeof ph);
		if (ph.p_filesz && (ph.p_offset > size || ph.p_filesz > size - ph.p_offset))
			fuzz_fail("accepted segment %u beyond the end of the file", i);
	}
	return 0;
}
