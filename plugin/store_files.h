/*
 * store_files.h -- the store's directory and files are checked before LMDB
 * opens them (docs/SECURITY.md, "The store's files").
 */
#ifndef LBS_PLUGIN_STORE_FILES_H
#define LBS_PLUGIN_STORE_FILES_H

#include <stddef.h>
#include <sys/types.h>

/* What store_files_prepare changed in the calling thread, for
 * store_files_done to put back. */
typedef struct store_files {
	int as_owner;         /* the thread's file-system ids are the directory's owner's */
	uid_t fsuid;          /* what they were before */
	gid_t fsgid;
} store_files;

/*
 * Refuse a store directory that is not a directory, is group- or
 * world-writable, or is owned by neither this process's user nor root
 * (as OpenSSH's StrictModes).  Root may use a directory another user owns
 * (nginx's master and the workers' user): it then acts as that user, through
 * the calling thread's file-system ids, until store_files_done, so LMDB
 * cannot reach a file the owner could not.  Then create data.mdb and
 * lock.mdb with mode, or find them, without following a symbolic link (a
 * data.mdb missing without `create` is "no store in this directory yet"),
 * and with `set_mode` give found ones the mode (a config that names one
 * means it; one that does not, prefs dump's, changes nothing);
 * and refuse what is not a regular file or has other hard links; reserve
 * lock.mdb's blocks (LMDB would die of SIGBUS on a full disk).  0, or -1
 * with a one-line err naming the path and the reason; either way call
 * store_files_done.
 */
int store_files_prepare(const char *dir, unsigned mode, int set_mode, size_t lock_bytes,
                        int create, store_files *f, char *err, size_t errlen);
void store_files_done(store_files *f);

#endif
