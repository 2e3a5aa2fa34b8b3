/* Inputs and outputs a user names on the command line, for Windows: only
 * regular files are read or replaced (a directory, device or reparse point
 * such as a symbolic link is refused), standard input and output in binary
 * mode. */
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <windows.h>

#include "hal/fs.h"
#include "hal/mem.h"
#include "hal/win32_text.h"
#include "ssrp/sys/error.h"


/* GetFileAttributesW of path: INVALID_FILE_ATTRIBUTES with *missing set
 * when nothing is there. */
static DWORD attributes(const char *path, int *missing, int *bad_name)
{
	*missing = *bad_name = 0;
	wchar_t *w = ssrp_win32_widen(path);
	if (!w) {
		*bad_name = 1;
		return INVALID_FILE_ATTRIBUTES;
	}
	DWORD a = GetFileAttributesW(w);
	DWORD e = GetLastError();
	ssrp_free(w);
	if (a == INVALID_FILE_ATTRIBUTES)
		*missing = e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND;
	return a;
}

static const char *kind_of(DWORD a)
{
	return a & FILE_ATTRIBUTE_REPARSE_POINT ? "a symbolic link or junction"
	       : a & FILE_ATTRIBUTE_DIRECTORY	? "a directory"
						: "a device";
}

#define NOT_REGULAR (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT | FILE_ATTRIBUTE_DEVICE)

int ssrp_fs_read_input(const char *path, size_t max, unsigned char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	if (!strcmp(path, "-")) {
		_setmode(_fileno(stdin), _O_BINARY);
		return ssrp_fs_read_fd(_fileno(stdin), "standard input", max, out, len);
	}
	int missing, bad_name;
	DWORD a = attributes(path, &missing, &bad_name);
	if (bad_name)
		return ssrp_error_set(SSRP_E_INVALID, "path %s is not UTF-8", path);
	if (missing)
		return ssrp_error_set(SSRP_E_NOTFOUND, "cannot open %s: no such file", path);
	if (a != INVALID_FILE_ATTRIBUTES && (a & NOT_REGULAR))
		return ssrp_error_set(SSRP_E_INVALID,
				      "%s is %s; give a regular file, or - for standard input", path,
				      kind_of(a));
	wchar_t *w = ssrp_win32_widen(path);
	int fd = w ? _wopen(w, _O_RDONLY | _O_BINARY | _O_NOINHERIT) : -1;
	ssrp_free(w);
	if (fd < 0)
		return ssrp_error_set(SSRP_E_IO, "cannot open %s: %s", path, strerror(errno));
	struct _stat64 st;
	if (_fstat64(fd, &st) != 0 || !(st.st_mode & _S_IFREG)) {
		_close(fd);
		return ssrp_error_set(SSRP_E_INVALID,
				      "%s is not a regular file; give one, or - for standard input",
				      path);
	}
	if ((unsigned long long)st.st_size > max) {
		_close(fd);
		return ssrp_error_set(SSRP_E_INVALID, "%s is larger than %zu bytes", path, max);
	}
	int rc = ssrp_fs_read_fd(fd, path, max, out, len);
	_close(fd);
	return rc;
}

int ssrp_fs_write_all(int fd, const char *name, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t done = 0;
	while (done < len) {
		size_t want = len - done > 0x40000000u ? 0x40000000u : len - done;
		int w = _write(fd, p + done, (unsigned)want);
		if (w <= 0)
			return ssrp_error_set(SSRP_E_IO, "cannot write %s: %s", name,
					      w < 0 ? strerror(errno) : "no progress");
		done += (size_t)w;
	}
	return SSRP_OK;
}

int ssrp_fs_write_output(const char *path, const void *data, size_t len, mode_t mode,
			 unsigned flags)
{
	(void)flags; /* following a link is not offered: see below */
	if (!strcmp(path, "-")) {
		fflush(stdout);
		_setmode(_fileno(stdout), _O_BINARY);
		return ssrp_fs_write_all(_fileno(stdout), "standard output", data, len);
	}
	int missing, bad_name;
	DWORD a = attributes(path, &missing, &bad_name);
	if (bad_name)
		return ssrp_error_set(SSRP_E_INVALID, "path %s is not UTF-8", path);
	if (a == INVALID_FILE_ATTRIBUTES && !missing)
		return ssrp_error_set(SSRP_E_IO, "cannot inspect %s", path);
	if (a != INVALID_FILE_ATTRIBUTES && (a & NOT_REGULAR))
		return ssrp_error_set(SSRP_E_REFUSED,
				      "%s is %s; on Windows ssrp writes only regular files or - "
				      "(standard output)",
				      path, kind_of(a));
	return ssrp_fs_write_atomic(path, data, len, mode);
}

int ssrp_fs_move_aside(const char *path, char *moved, size_t moved_cap)
{
	time_t now = time(NULL);
	struct tm tm;
	char stamp[32];
	if (gmtime_s(&tm, &now) != 0 || !strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm))
		snprintf(stamp, sizeof stamp, "%lld", (long long)now);
	wchar_t *from = ssrp_win32_widen(path);
	if (!from)
		return ssrp_error_set(SSRP_E_INVALID, "path %s is not UTF-8", path);
	for (unsigned n = 0; n < 1000; n++) {
		int w = n ? snprintf(moved, moved_cap, "%s.corrupt-%s.%u", path, stamp, n)
			  : snprintf(moved, moved_cap, "%s.corrupt-%s", path, stamp);
		if (w < 0 || (size_t)w >= moved_cap) {
			ssrp_free(from);
			return ssrp_error_set(SSRP_E_INVALID, "path %s is too long", path);
		}
		/* Without MOVEFILE_REPLACE_EXISTING: an earlier copy moved
		 * aside in the same second is never replaced. */
		wchar_t *to = ssrp_win32_widen(moved);
		BOOL ok = to && MoveFileExW(from, to, MOVEFILE_WRITE_THROUGH);
		DWORD e = GetLastError();
		ssrp_free(to);
		if (ok) {
			ssrp_free(from);
			return SSRP_OK;
		}
		if (e == ERROR_ALREADY_EXISTS || e == ERROR_FILE_EXISTS)
			continue;
		ssrp_free(from);
		char msg[256];
		return ssrp_error_set(SSRP_E_IO, "cannot move %s aside to %s: %s", path, moved,
				      ssrp_win32_strerror(e, msg, sizeof msg));
	}
	ssrp_free(from);
	return ssrp_error_set(SSRP_E_IO, "cannot move %s aside: too many copies already", path);
}
