/*
 * store_files.c -- the checks on the store's directory and files that come
 * before LMDB opens them; see store_files.h.  LMDB opens its files by name,
 * with O_CREAT and without O_NOFOLLOW: a lock.mdb symlink made it
 * overwrite the file it pointed at, a data.mdb one created a file outside
 * the directory.  So the files are made or found here first, and LMDB only
 * ever opens what is already a regular file of the directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_files.h"

/* Take on the owner's file-system ids; setfsuid says nothing when it
 * fails, so the result is read back. */
static int act_as(store_files *f, uid_t uid, gid_t gid)
{
	f->fsgid = (gid_t)setfsgid((gid_t)-1);
	f->fsuid = (uid_t)setfsuid((uid_t)-1);
	setfsgid(gid);
	setfsuid(uid);
	f->as_owner = 1;
	return (uid_t)setfsuid((uid_t)-1) == uid && (gid_t)setfsgid((gid_t)-1) == gid ? 0 : -1;
}

void store_files_done(store_files *f)
{
	if (f->as_owner) {
		setfsuid(f->fsuid);
		setfsgid(f->fsgid);
		f->as_owner = 0;
	}
}

static int check_dir(const char *dir, store_files *f, char *err, size_t errlen)
{
	struct stat st;
	uid_t me = geteuid();

	if (stat(dir, &st)) {
		snprintf(err, errlen, "store '%s': %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "store '%s': refused: not a directory", dir);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "store '%s': refused: the directory is %s-writable (mode %04o); "
		         "another user could replace its files (chmod go-w it)", dir,
		         st.st_mode & S_IWOTH ? "world" : "group", (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (st.st_uid == me || st.st_uid == 0)
		return 0;
	if (me != 0) {
		snprintf(err, errlen, "store '%s': refused: the directory is owned by uid %u, not by "
		         "this process's user (uid %u) or root", dir, (unsigned)st.st_uid,
		         (unsigned)me);
		return -1;
	}
	if (act_as(f, st.st_uid, st.st_gid)) {
		snprintf(err, errlen, "store '%s': refused: the directory is owned by uid %u and this "
		         "process cannot act as that user", dir, (unsigned)st.st_uid);
		return -1;
	}
	return 0;
}

/* Open or create dir/name, never through a symbolic link: the fd, -2 when
 * the directory or file system is unwritable (mdb_env_open reports that
 * better), or -1 with err set.  *made: this open created it. */
static int open_own(const char *dir, const char *name, unsigned mode, int create,
                    struct stat *st, int *made, char *err, size_t errlen)
{
	const int flags = O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
	char path[4200];
	int fd = -1;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	*made = 0;
	if (create) {
		fd = open(path, flags | O_CREAT | O_EXCL, (mode_t)mode);
		*made = fd >= 0;
	}
	if (fd < 0 && (!create || errno == EEXIST))
		fd = open(path, flags);
	if (fd < 0) {
		int e = errno;
		struct stat f;

		/* A file there that this user may not write is the file's
		 * fault, not the directory's, which mdb_env_open would
		 * blame. */
		if ((e == EACCES || e == EPERM) && !lstat(path, &f)) {
			snprintf(err, errlen, "store '%s': cannot open: %s: %s (this user, uid %u, "
			         "must read and write it; its mode is %04o, its owner uid %u)", dir,
			         name, strerror(e), (unsigned)setfsuid((uid_t)-1) /* as acted */,
			         (unsigned)(f.st_mode & 07777), (unsigned)f.st_uid);
			return -1;
		}
		errno = e;
		if (errno == EACCES || errno == EROFS || errno == EPERM)
			return -2;
		if (errno == ENOENT && !create) {
			snprintf(err, errlen, "store '%s': no store in this directory yet (no %s)", dir,
			         name);
			return -1;
		}
		if (errno == ELOOP)
			snprintf(err, errlen, "store '%s': refused: %s is a symbolic link", dir, name);
		else
			snprintf(err, errlen, "store '%s': refused: %s: %s", dir, name, strerror(errno));
		return -1;
	}
	if (fstat(fd, st) || !S_ISREG(st->st_mode) || st->st_nlink != 1) {
		if (!S_ISREG(st->st_mode))
			snprintf(err, errlen, "store '%s': refused: %s is not a regular file", dir, name);
		else
			snprintf(err, errlen, "store '%s': refused: %s has %lu hard links, it must "
			         "have one", dir, name, (unsigned long)st->st_nlink);
		close(fd);
		return -1;
	}
	return fd;
}

/* The config's file_mode on a file open as fd, whatever it was made with
 * (an earlier config, the umask): an operator who tightens it gets it.
 * set_mode 0 leaves a file made before as it is, but not one this open
 * made, whose mode the umask cut (0377 made a 0400 data.mdb that no later
 * open could write). */
static int own_mode(int fd, const struct stat *st, const char *dir, const char *name,
                    unsigned mode, int set_mode, char *err, size_t errlen)
{
	if (!set_mode || (st->st_mode & 07777) == mode || !fchmod(fd, (mode_t)mode))
		return 0;
	snprintf(err, errlen, "store '%s': cannot give %s the file_mode %04o (it has %04o): %s",
	         dir, name, mode, (unsigned)(st->st_mode & 07777), strerror(errno));
	return -1;
}

int store_files_prepare(const char *dir, unsigned mode, int set_mode, size_t lock_bytes,
                        int create, store_files *f, char *err, size_t errlen)
{
	struct stat st;
	int fd, made, rc = 0;

	*f = (store_files){0};
	if (check_dir(dir, f, err, errlen))
		return -1;
	fd = open_own(dir, "data.mdb", mode, create, &st, &made, err, errlen);
	if (fd == -1)
		return -1;
	if (fd >= 0) {
		rc = own_mode(fd, &st, dir, "data.mdb", mode, set_mode || made, err, errlen);
		close(fd);
		if (rc)
			return -1;
	}
	/* LMDB makes lock.mdb again whenever it is gone */
	fd = open_own(dir, "lock.mdb", mode, 1, &st, &made, err, errlen);
	if (fd == -1)
		return -1;
	if (fd < 0)
		return 0;
	if (own_mode(fd, &st, dir, "lock.mdb", mode, set_mode || made, err, errlen)) {
		close(fd);
		return -1;
	}
	/* LMDB writes lock.mdb through a mapping: on a full disk the first
	 * touch of a page without a block would be a SIGBUS.  A lock file
	 * in use keeps its size: LMDB sizes a later opener's reader table by
	 * it, and processes that mapped it smaller (an older plugin's 126
	 * readers, still running through an upgrade) would read past their
	 * mapping once readers filled the larger one.  LMDB's first opener
	 * grows it to its own table. */
	rc = posix_fallocate(fd, 0, st.st_size > 0 ? st.st_size : (off_t)lock_bytes);
	close(fd);
	if (rc == ENOSPC || rc == EDQUOT) {
		snprintf(err, errlen, "store '%s': cannot open: %s (the disk is full)", dir,
		         strerror(rc));
		return -1;
	}
	return 0;
}
