/*
 * elf_check.h -- whether a file's ELF headers describe a shared object this
 * process can load, read before dlopen() sees the file.
 *
 * dlopen() reports a foreign architecture as "No such file or directory"
 * and maps a truncated file's segments past its end, then dies of SIGBUS on
 * the first touch; these headers say both in advance.
 */
#ifndef LBS_ELF_CHECK_H
#define LBS_ELF_CHECK_H

#include <stddef.h>
#include <stdint.h>

/* Read len bytes at off into buf; 0 when all were read, else -1. */
typedef int (*elf_read_fn)(void *ctx, uint64_t off, void *buf, size_t len);

/*
 * 0 when the file (file_size bytes, read through `read`) is an ELF shared
 * object for this host's architecture, class and byte order, and its ELF,
 * program and section headers and every segment's bytes lie inside it.
 * Else -1 with the problem in `why` (a phrase, e.g. "built for aarch64,
 * this host is x86-64").  Reads at most the ELF header and the program
 * header table.
 */
int elf_check(elf_read_fn read, void *ctx, uint64_t file_size, char *why, size_t n);

/* elf_check over the open file fd of file_size bytes. */
int elf_check_fd(int fd, uint64_t file_size, char *why, size_t n);

#endif
