/*
 * store_verify.h -- a store's data.mdb is read first by a forked child, never
 * by the host (docs/STORE.md, "Verification").
 */
#ifndef LBS_PLUGIN_STORE_VERIFY_H
#define LBS_PLUGIN_STORE_VERIFY_H

#include <stddef.h>

/*
 * LMDB 0.9 has no checksums and trusts every page number and size it reads:
 * one flipped byte can make it read past its mapping and die of SIGBUS or
 * SIGSEGV.  So before this process first opens an existing data.mdb in dir,
 * a forked child opens it read-only and walks every database and record.
 * 0 if the child found it sound (or the file is new or was verified before
 * in this process, unchanged since, or LMDB's open refuses it for what the
 * host's open will name), -1 with a one-line err naming the file and what
 * the child found or died of, or why it could not read the file (no reader
 * slot free of a live process): that open is refused and the next one
 * forks a child again.  Only a file the child walked counts as verified.
 */
int store_verify(const char *dir, char *err, size_t errlen);

/* The data file behind fd was written by this process through LMDB and is
 * trusted as it is now: the next open in this process skips the child. */
void store_verify_trust(int fd);

#endif
