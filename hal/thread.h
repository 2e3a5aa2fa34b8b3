/* Threads and locks for the platform-neutral layers (escrow/): POSIX
 * threads, or Windows' SRW locks and threads (thread_windows.c). */
#ifndef SSRP_HAL_THREAD_H
#define SSRP_HAL_THREAD_H

#ifdef _WIN32
typedef struct ssrp_mutex {
	void *srw; /* an SRWLOCK, which is one pointer */
} ssrp_mutex;
typedef struct ssrp_cond {
	void *cv; /* a CONDITION_VARIABLE, which is one pointer */
} ssrp_cond;
typedef struct ssrp_thread {
	void *handle;
} ssrp_thread;
typedef struct ssrp_once {
	void *init_once; /* an INIT_ONCE, which is one pointer */
} ssrp_once;
#define SSRP_ONCE_INIT {0}
#else
#include <pthread.h>
typedef struct ssrp_mutex {
	pthread_mutex_t m;
} ssrp_mutex;
typedef struct ssrp_cond {
	pthread_cond_t c;
} ssrp_cond;
typedef struct ssrp_thread {
	pthread_t t;
} ssrp_thread;
typedef struct ssrp_once {
	pthread_once_t o;
} ssrp_once;
#define SSRP_ONCE_INIT {PTHREAD_ONCE_INIT}
#endif

/* Never fail on the platforms ssrp supports (a POSIX mutex with default
 * attributes; an SRW lock). */
void ssrp_mutex_init(ssrp_mutex *m);
void ssrp_mutex_destroy(ssrp_mutex *m);
void ssrp_mutex_lock(ssrp_mutex *m);
void ssrp_mutex_unlock(ssrp_mutex *m);

void ssrp_cond_init(ssrp_cond *c);
void ssrp_cond_destroy(ssrp_cond *c);
/* Wait for a signal with m held (released while waiting). */
void ssrp_cond_wait(ssrp_cond *c, ssrp_mutex *m);
void ssrp_cond_signal(ssrp_cond *c);

/* Run fn exactly once per ssrp_once, whichever thread comes first; the
 * others wait until it has run. */
void ssrp_once_run(ssrp_once *once, void (*fn)(void));

/* Start fn(arg) on a new thread: SSRP_OK, or SSRP_E_GENERIC with the
 * last-error message set. */
int ssrp_thread_start(ssrp_thread *t, void *(*fn)(void *), void *arg);
/* Wait for it to end. */
void ssrp_thread_join(ssrp_thread *t);

#endif
