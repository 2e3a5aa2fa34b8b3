/* hal/thread.h over Windows SRW locks and threads. */
#include <windows.h>

#include "hal/thread.h"
#include "ssrp/sys/error.h"

void ssrp_mutex_init(ssrp_mutex *m)
{
	InitializeSRWLock((PSRWLOCK)&m->srw);
}

void ssrp_mutex_destroy(ssrp_mutex *m)
{
	(void)m; /* an SRW lock holds no resources */
}

void ssrp_mutex_lock(ssrp_mutex *m)
{
	AcquireSRWLockExclusive((PSRWLOCK)&m->srw);
}

void ssrp_mutex_unlock(ssrp_mutex *m)
{
	ReleaseSRWLockExclusive((PSRWLOCK)&m->srw);
}

void ssrp_cond_init(ssrp_cond *c)
{
	InitializeConditionVariable((PCONDITION_VARIABLE)&c->cv);
}

void ssrp_cond_destroy(ssrp_cond *c)
{
	(void)c;
}

void ssrp_cond_wait(ssrp_cond *c, ssrp_mutex *m)
{
	SleepConditionVariableSRW((PCONDITION_VARIABLE)&c->cv, (PSRWLOCK)&m->srw, INFINITE, 0);
}

void ssrp_cond_signal(ssrp_cond *c)
{
	WakeConditionVariable((PCONDITION_VARIABLE)&c->cv);
}

static BOOL CALLBACK run_once(PINIT_ONCE o, PVOID fn, PVOID *ctx)
{
	(void)o;
	(void)ctx;
	((void (*)(void))fn)();
	return TRUE;
}

void ssrp_once_run(ssrp_once *once, void (*fn)(void))
{
	InitOnceExecuteOnce((PINIT_ONCE)&once->init_once, run_once, (PVOID)fn, NULL);
}

typedef struct start {
	void *(*fn)(void *);
	void *arg;
} start;

static DWORD WINAPI trampoline(LPVOID p)
{
	start s = *(start *)p;
	HeapFree(GetProcessHeap(), 0, p);
	s.fn(s.arg);
	return 0;
}

int ssrp_thread_start(ssrp_thread *t, void *(*fn)(void *), void *arg)
{
	start *s = HeapAlloc(GetProcessHeap(), 0, sizeof *s);
	if (!s)
		return ssrp_error_set(SSRP_E_NOMEM, "cannot start a thread: out of memory");
	s->fn = fn;
	s->arg = arg;
	t->handle = CreateThread(NULL, 0, trampoline, s, 0, NULL);
	if (!t->handle) {
		HeapFree(GetProcessHeap(), 0, s);
		return ssrp_error_set(SSRP_E_GENERIC, "cannot start a thread (error %lu)",
				      (unsigned long)GetLastError());
	}
	return SSRP_OK;
}

void ssrp_thread_join(ssrp_thread *t)
{
	WaitForSingleObject(t->handle, INFINITE);
	CloseHandle(t->handle);
}
