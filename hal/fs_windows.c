/* hal/fs.h for Windows: directories, atomic replacement (a temporary file
 * flushed with FlushFileBuffers, then MoveFileExW with write-through, so the
 * rename is on disk when it returns), secret files, path helpers. */
#include <stdio.h>
#include <string.h>
#include <windows.h>

#include "hal/acl_windows.h"
#include "hal/fs.h"
#include "hal/mem.h"
#include "hal/win32_text.h"
#include "ssrp/sys/error.h"

static int win_error(int code, const char *what, const char *path)
{
	char msg[256];
	return ssrp_error_set(code, "%s %s: %s", what, path,
			      ssrp_win32_strerror(GetLastError(), msg, sizeof msg));
}

static int is_sep(char c)
{
	return c == '/' || c == '\\';
}

/* A mode without group or other bits (0700) gives each directory made the
 * private DACL of hal/acl_windows.h; any other inherits its parent's ACL. */
int ssrp_fs_mkdirs(const char *dir, mode_t mode)
{
	char path[4096];
	size_t len = dir ? strlen(dir) : 0;
	if (len == 0 || len >= sizeof path)
		return ssrp_error_set(SSRP_E_INVALID, "bad directory '%s'", dir ? dir : "");
	SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, FALSE};
	if (!(mode & 077)) {
		int rc = ssrp_win32_private_dir_sd(&sa.lpSecurityDescriptor);
		if (rc)
			return rc;
	}
	int rc = SSRP_OK;
	memcpy(path, dir, len + 1);
	/* Skip a drive ("C:\") so the first directory made is below it. */
	char *p = path + 1;
	if (len >= 2 && path[1] == ':')
		p = path + (len > 2 && is_sep(path[2]) ? 3 : 2);
	for (;; p++) {
		if (*p && !is_sep(*p))
			continue;
		char saved = *p;
		*p = '\0';
		wchar_t *w = ssrp_win32_widen(path);
		if (!w) {
			rc = ssrp_error_set(SSRP_E_INVALID, "directory %s is not UTF-8", path);
			break;
		}
		BOOL ok = CreateDirectoryW(w, &sa) || GetLastError() == ERROR_ALREADY_EXISTS;
		ssrp_free(w);
		if (!ok) {
			rc = win_error(SSRP_E_IO, "cannot create directory", path);
			break;
		}
		*p = saved;
		if (!saved)
			break;
	}
	LocalFree(sa.lpSecurityDescriptor);
	return rc;
}

int ssrp_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	(void)mode; /* the file inherits its directory's ACL */
	static volatile LONG calls;
	LONG n = InterlockedIncrement(&calls);
	wchar_t *wpath = ssrp_win32_widen(path);
	if (!wpath)
		return ssrp_error_set(SSRP_E_INVALID, "path %s is not UTF-8", path);
	DWORD attr = GetFileAttributesW(wpath);
	if (attr != INVALID_FILE_ATTRIBUTES &&
	    (attr & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT | FILE_ATTRIBUTE_DEVICE))) {
		ssrp_free(wpath);
		return ssrp_error_set(SSRP_E_INVALID,
				      "%s exists and is not a regular file (%s); ssrp replaces only "
				      "regular files",
				      path,
				      attr & FILE_ATTRIBUTE_REPARSE_POINT ? "a symbolic link or junction"
				      : attr & FILE_ATTRIBUTE_DIRECTORY   ? "a directory"
									  : "a device");
	}
	char tmp[4096];
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%lu.%ld", path, GetCurrentProcessId(),
			     (long)n) >= sizeof tmp) {
		ssrp_free(wpath);
		return ssrp_error_set(SSRP_E_INVALID, "path '%s' is too long", path);
	}
	wchar_t *wtmp = ssrp_win32_widen(tmp);
	HANDLE h = wtmp ? CreateFileW(wtmp, GENERIC_WRITE, 0, NULL, CREATE_NEW,
				      FILE_ATTRIBUTE_NORMAL, NULL)
			: INVALID_HANDLE_VALUE;
	if (h == INVALID_HANDLE_VALUE) {
		int rc = win_error(SSRP_E_IO, "cannot create", tmp);
		ssrp_free(wtmp);
		ssrp_free(wpath);
		return rc;
	}
	const unsigned char *p = data;
	BOOL ok = TRUE;
	while (ok && len) {
		DWORD chunk = len > 0x40000000u ? 0x40000000u : (DWORD)len, done = 0;
		ok = WriteFile(h, p, chunk, &done, NULL) && done == chunk;
		p += done;
		len -= done;
	}
	ok = ok && FlushFileBuffers(h);
	DWORD err = ok ? 0 : GetLastError();
	CloseHandle(h);
	if (ok && !MoveFileExW(wtmp, wpath, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
		ok = FALSE;
		err = GetLastError();
	}
	if (!ok)
		DeleteFileW(wtmp);
	ssrp_free(wtmp);
	ssrp_free(wpath);
	if (!ok) {
		char msg[256];
		return ssrp_error_set(SSRP_E_IO, "cannot write %s: %s", path,
				      ssrp_win32_strerror(err, msg, sizeof msg));
	}
	return SSRP_OK;
}

/* Mode 0600 on Windows: nobody but SYSTEM, Administrators and this user
 * may read or change the file (its owner and DACL). */
int ssrp_secret_file_read(const char *path, char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	unsigned char *buf = NULL;
	size_t n = 0;
	int rc = ssrp_win32_check_secret_file(path, "secret");
	if (rc)
		return rc;
	rc = ssrp_fs_read_input(path, 65536, &buf, &n);
	if (rc)
		return ssrp_error_prefix(rc, "cannot read secret file %s", path);
	size_t got = n;
	while (got && (buf[got - 1] == '\n' || buf[got - 1] == '\r'))
		got--;
	memset(buf + got, 0, n + 1 - got);
	if (!got) {
		ssrp_free_secret(buf, n + 1);
		return ssrp_error_set(SSRP_E_INVALID, "secret file %s is empty", path);
	}
	/* The caller frees *len bytes: hand back an exact copy. */
	char *exact = ssrp_malloc(got + 1);
	if (!exact) {
		ssrp_free_secret(buf, n + 1);
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	}
	memcpy(exact, buf, got + 1);
	ssrp_free_secret(buf, n + 1);
	*out = exact;
	*len = got;
	return SSRP_OK;
}

int ssrp_fs_exists(const char *path)
{
	wchar_t *w = ssrp_win32_widen(path);
	if (!w)
		return 1;
	DWORD attr = GetFileAttributesW(w);
	DWORD e = GetLastError();
	ssrp_free(w);
	return !(attr == INVALID_FILE_ATTRIBUTES &&
		 (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND));
}

int ssrp_fs_move_noreplace(const char *from, const char *to)
{
	wchar_t *wfrom = ssrp_win32_widen(from), *wto = ssrp_win32_widen(to);
	BOOL ok = wfrom && wto && MoveFileExW(wfrom, wto, MOVEFILE_WRITE_THROUGH);
	DWORD e = GetLastError();
	ssrp_free(wfrom);
	ssrp_free(wto);
	if (ok)
		return SSRP_OK;
	if (e == ERROR_ALREADY_EXISTS || e == ERROR_FILE_EXISTS)
		return ssrp_error_set(SSRP_E_REFUSED, "cannot put the file at %s: it exists", to);
	return ssrp_error_set(SSRP_E_IO, "cannot put the file at %s (Windows error %lu)", to,
			      (unsigned long)e);
}

int ssrp_fs_dirname(const char *path, char *dir, size_t cap)
{
	snprintf(dir, cap, "%s", path);
	char *slash = strrchr(dir, '/');
	char *bs = strrchr(dir, '\\');
	if (bs && (!slash || bs > slash))
		slash = bs;
	if (!slash || slash == dir || (slash == dir + 2 && dir[1] == ':'))
		return 0;
	*slash = '\0';
	return 1;
}
