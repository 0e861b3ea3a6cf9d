/* file.h -- whole files into memory, the lines of a JSON Lines file, and
 * the files the commands write. */
#ifndef LBS_FILE_H
#define LBS_FILE_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

/* The most file_read takes: configs, fleets, test streams and import
 * documents are read whole, and nothing the shim or nginx loads should come
 * near it (100,000 simulated tests are about 20 MiB), so a bigger file is a
 * mistake or an attack, not a workload. */
#define FILE_MAX_BYTES (256u << 20)

/* The whole file (or stdin for "-") in a NUL-terminated malloc'd buffer;
 * NULL with "<path>: <problem>" in err, among them a file of more than
 * FILE_MAX_BYTES and one that is not UTF-8 text: it starts with a byte
 * order mark (UTF-8's included) or looks like UTF-16. */
char *file_read(const char *path, size_t *len, char *err, size_t errlen);

/* From now on, file_read's waits for input (a pipe, a terminal) end as soon
 * as *stop is nonzero (a signal's handler set it): NULL with "<path>: read
 * cut short by a signal".  Process-wide, as signals are; NULL (the
 * default) waits as long as it takes. */
void file_set_stop(const volatile sig_atomic_t *stop);

/* file_read() of a scheduler's config, which must hold a document: an
 * empty file (or one of whitespace alone) is "<path>: is empty (expected
 * a JSON object)", not the defaults that no config at all gives. */
char *file_read_config(const char *path, size_t *len, char *err, size_t errlen);

/* The lines of a JSON Lines buffer, for every command that reads one
 * (decide --tests and --feedback, simulate --tests-file). */
typedef struct file_lines {
	char *p, *end;   /* what is left */
	const char *name; /* the file, in messages */
	unsigned lineno; /* of the line last returned, blank ones counted */
} file_lines;

/* text: len bytes and a NUL after them, as file_read returns it. */
void file_lines_init(file_lines *it, char *text, size_t len, const char *name);

/* "<name>:<lineno>" into dst (n bytes), where a line's record is named:
 * a name too long for dst is shown as txt_show() shows text, so that the
 * cut never takes the line number.  Returns dst. */
const char *file_where(char *dst, size_t n, const char *name, unsigned lineno);

/* 1 with the next non-blank line in *line (NUL-terminated in place, *len
 * bytes); 0 at the end; -1 for a line that holds a NUL byte, with
 * "<name>:<line>: ..." in err, and the lines after it still to come. */
int file_next_line(file_lines *it, char **line, size_t *len, char *err, size_t errlen);

/* The lines of a stream read as they come (decide's standard input), so
 * that each is answered before the next arrives: file_next_line()'s
 * answers and rules, a line at a time, and file_read()'s: text that is not
 * UTF-8 at its start (a byte order mark, UTF-16) is refused whole, and a
 * line past FILE_MAX_BYTES is that line's error.  A read error ends the
 * stream after its -1.  file_stream_more: whether another whole line is
 * already read (a caller flushes its answers only when none is).  With
 * `stop` set (after init), a wait for input ends as soon as *stop is
 * nonzero (a signal's handler set it): -1 with errno EINTR. */
typedef struct file_stream {
	int fd;
	char *buf;
	size_t cap, start, end; /* buf[start..end): read, not yet returned */
	const char *name;
	unsigned lineno;
	int done;
	const volatile sig_atomic_t *stop; /* NULL: reads wait as long as it takes */
} file_stream;

void file_stream_init(file_stream *s, int fd, const char *name);
int file_stream_next(file_stream *s, char **line, size_t *len, char *err, size_t errlen);
int file_stream_more(const file_stream *s);
void file_stream_free(file_stream *s);

/*
 * Output files (simulate's --json, --report and --dump-tests, the graph
 * timeline).  file_check_out: whether `path` can be written, asked before
 * the work so that a typo costs nothing.  file_write_out: write it through
 * fn.  A regular file, new or there (through a symlink: its target), is
 * written beside it under a temporary name of its own and renamed over it,
 * so a failed write never leaves half a file and no other file is touched;
 * anything else there (a FIFO, a device), and a path naming one of the
 * process's descriptors (/dev/stdout, /dev/fd/N, /proc/...), is written
 * into, never replaced; so is a file that may be written in a directory
 * that takes no new one.
 * fn writes f and answers 0, or -1 with its reason in err.  Both answer 0,
 * or -1 with "<path>: cannot write: <why>" (or "<path>: <fn's reason>").
 */
/* 1 when writing output `out` would replace the file `other` names (an
 * input when other_in, else another output): one regular file, or one to
 * be made, under two names (a relative and an absolute path, ./x, a
 * symlinked directory).  A stream (a FIFO, a terminal) or a descriptor's
 * path (/dev/stdout, /dev/fd/N: file_write_out writes into it, at its
 * offset) is never replaced, and "-" as an input is standard input: never
 * the same; but two outputs naming one descriptor of this process
 * (/dev/stdout and /dev/fd/1) are, since both would land in it mixed. */
int file_same(const char *out, const char *other, int other_in);

/* 1 when output `path` names this process's standard output (/dev/stdout,
 * /dev/fd/1, /proc/self/fd/1), where a command's own lines go. */
int file_is_stdout(const char *path);

/* An output's path as given: "-" is standard output (/dev/stdout), as
 * "-" is standard input for a file read; NULL stays NULL. */
const char *file_out_path(const char *path);
typedef int (*file_out_fn)(FILE *f, void *ctx, char *err, size_t errlen);
int file_check_out(const char *path, char *err, size_t errlen);
int file_write_out(const char *path, file_out_fn fn, void *ctx, char *err, size_t errlen);

/* Standard input, output and error that the caller closed are opened on
 * /dev/null the wrong way round (read-only for output, write-only for
 * input), so that the next file opened (a store's lock.mdb, a record) does
 * not take their number and receive the output, while their reads and
 * writes still fail as on a closed descriptor.  Call first thing in main. */
void file_hold_std_fds(void);

#endif
