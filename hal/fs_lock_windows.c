/* ssrp_fs_lock for Windows: LockFileEx on a lock file. The lock belongs to
 * the handle, so two runs in one process exclude each other too. */
#include <windows.h>

#include "hal/clock.h"
#include "hal/fs.h"
#include "hal/mem.h"
#include "hal/win32_text.h"
#include "ssrp/sys/error.h"

struct ssrp_fs_lock {
	HANDLE h;
};


int ssrp_fs_lock_acquire(ssrp_fs_lock **out, const char *path, unsigned wait_ms)
{
	*out = NULL;
	wchar_t *w = ssrp_win32_widen(path);
	if (!w)
		return ssrp_error_set(SSRP_E_INVALID, "lock file path %s is not UTF-8", path);
	/* FILE_FLAG_OPEN_REPARSE_POINT: a link planted at the lock's path is
	 * opened itself, not followed; the type check then refuses it. */
	HANDLE h = CreateFileW(w, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE,
			       NULL, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT,
			       NULL);
	ssrp_free(w);
	char msg[256];
	if (h == INVALID_HANDLE_VALUE)
		return ssrp_error_set(SSRP_E_IO, "cannot open lock file %s: %s", path,
				      ssrp_win32_strerror(GetLastError(), msg, sizeof msg));
	BY_HANDLE_FILE_INFORMATION info;
	if (GetFileType(h) != FILE_TYPE_DISK || !GetFileInformationByHandle(h, &info) ||
	    (info.dwFileAttributes & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT))) {
		CloseHandle(h);
		return ssrp_error_set(SSRP_E_INVALID, "lock file %s is not a regular file", path);
	}
	uint64_t deadline = ssrp_monotonic_ms() + wait_ms;
	for (;;) {
		OVERLAPPED ov = {0};
		if (LockFileEx(h, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ov))
			break;
		DWORD e = GetLastError();
		if (e != ERROR_LOCK_VIOLATION && e != ERROR_IO_PENDING) {
			CloseHandle(h);
			return ssrp_error_set(SSRP_E_IO, "cannot lock %s: %s", path,
					      ssrp_win32_strerror(e, msg, sizeof msg));
		}
		int rc = ssrp_fs_lock_wait_turn(deadline, path, wait_ms);
		if (rc) {
			CloseHandle(h);
			return rc;
		}
	}
	ssrp_fs_lock *l = ssrp_malloc(sizeof *l);
	if (!l) {
		CloseHandle(h);
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	}
	l->h = h;
	*out = l;
	return SSRP_OK;
}

void ssrp_fs_lock_release(ssrp_fs_lock *lock)
{
	if (!lock)
		return;
	OVERLAPPED ov = {0};
	UnlockFileEx(lock->h, 0, 1, 0, &ov);
	CloseHandle(lock->h);
	ssrp_free(lock);
}
