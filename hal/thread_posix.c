/* hal/thread.h over POSIX threads. */
#include <string.h>

#include "hal/thread.h"
#include "ssrp/sys/error.h"

void ssrp_mutex_init(ssrp_mutex *m)
{
	pthread_mutex_init(&m->m, NULL);
}

void ssrp_mutex_destroy(ssrp_mutex *m)
{
	pthread_mutex_destroy(&m->m);
}

void ssrp_mutex_lock(ssrp_mutex *m)
{
	pthread_mutex_lock(&m->m);
}

void ssrp_mutex_unlock(ssrp_mutex *m)
{
	pthread_mutex_unlock(&m->m);
}

void ssrp_cond_init(ssrp_cond *c)
{
	pthread_cond_init(&c->c, NULL);
}

void ssrp_cond_destroy(ssrp_cond *c)
{
	pthread_cond_destroy(&c->c);
}

void ssrp_cond_wait(ssrp_cond *c, ssrp_mutex *m)
{
	pthread_cond_wait(&c->c, &m->m);
}

void ssrp_cond_signal(ssrp_cond *c)
{
	pthread_cond_signal(&c->c);
}

void ssrp_once_run(ssrp_once *once, void (*fn)(void))
{
	pthread_once(&once->o, fn);
}

int ssrp_thread_start(ssrp_thread *t, void *(*fn)(void *), void *arg)
{
	int e = pthread_create(&t->t, NULL, fn, arg);
	return e ? ssrp_error_set(SSRP_E_GENERIC, "cannot start a thread: %s", strerror(e))
		 : SSRP_OK;
}

void ssrp_thread_join(ssrp_thread *t)
{
	pthread_join(t->t, NULL);
}
