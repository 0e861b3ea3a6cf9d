/*
 * thread.h -- the plugin's own threads (the store's flusher, the fleet
 * sync) start with every signal blocked but a fault's, in the C locale.
 *
 * A signal sent to the host's process goes to any thread that does not
 * block it.  nginx counts on its signals reaching its own thread: a
 * SIGQUIT taken by a flusher does not wake the worker's epoll_wait, and a
 * SIGCHLD there reaps a child the plugin is waiting for.  Blocked in the
 * plugin's threads, every signal is the host's.
 */
#ifndef LBS_PLUGIN_THREAD_H
#define LBS_PLUGIN_THREAD_H

#include <pthread.h>

/* pthread_create(t, NULL, fn, arg) with every signal blocked in the new
 * thread but SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP and SIGSYS, and the
 * C locale as the thread's own (uselocale: the numbers it formats or
 * parses have a point, whatever setlocale() the host made); the caller's
 * mask is left as it was.  0 or an errno value. */
int thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

#endif
