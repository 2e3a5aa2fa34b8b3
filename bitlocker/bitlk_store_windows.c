/* A BitLocker volume's file on Windows (see bitlk_store.h): positional
 * ReadFile/WriteFile, a byte-range lock, a shared file mapping.
 *
 * The lock is one byte far past any volume's end, as flock's is on the
 * whole file: Windows' locks are mandatory, so a lock on the data itself
 * would stop a reader that never asked for one. Raw devices (\\.\X:) open
 * and read, but Windows maps no device: the bitlk backend here is for
 * volume images; a mounted volume is BitLocker's, through WMI. */
#include <windows.h>
#include <winioctl.h>
#include <io.h>
#include <fcntl.h>
#include <string.h>

#include "bitlocker/bitlk_store.h"
#include "hal/mem.h"
#include "hal/win32_text.h"
#include "ssrp/sys/error.h"

#define LOCK_OFFSET (UINT64_C(1) << 62)
#define IO_CHUNK (UINT32_C(1) << 30)

static HANDLE handle_of(const ssrp_bitlk_store *s)
{
	return (HANDLE)_get_osfhandle(s->fd);
}

static OVERLAPPED at(uint64_t offset)
{
	OVERLAPPED o;
	memset(&o, 0, sizeof o);
	o.Offset = (DWORD)offset;
	o.OffsetHigh = (DWORD)(offset >> 32);
	return o;
}

static int win_error(int code, const ssrp_bitlk_store *s, const char *what, uint64_t offset)
{
	char msg[256];
	ssrp_win32_strerror(GetLastError(), msg, sizeof msg);
	return ssrp_error_set(code, "%s %s at %llu: %s", what, s->path,
			      (unsigned long long)offset, msg);
}

int ssrp_bitlk_store_pread(ssrp_bitlk_store *s, void *buf, size_t len, uint64_t offset)
{
	uint8_t *p = buf;
	while (len) {
		DWORD want = len > IO_CHUNK ? IO_CHUNK : (DWORD)len, n = 0;
		OVERLAPPED o = at(offset);
		if (!ReadFile(handle_of(s), p, want, &n, &o) && GetLastError() != ERROR_HANDLE_EOF)
			return win_error(SSRP_E_IO, s, "reading", offset);
		if (n == 0)
			return ssrp_error_set(SSRP_E_IO, "reading %s at %llu: unexpected end of file",
					      s->path, (unsigned long long)offset);
		p += n;
		len -= n;
		offset += n;
	}
	return SSRP_OK;
}

int ssrp_bitlk_store_pwrite(ssrp_bitlk_store *s, const void *buf, size_t len, uint64_t offset)
{
	const uint8_t *p = buf;
	while (len) {
		DWORD want = len > IO_CHUNK ? IO_CHUNK : (DWORD)len, n = 0;
		OVERLAPPED o = at(offset);
		if (!WriteFile(handle_of(s), p, want, &n, &o) || n == 0)
			return win_error(SSRP_E_IO, s, "writing", offset);
		p += n;
		len -= n;
		offset += n;
	}
	return SSRP_OK;
}

int ssrp_bitlk_store_sync(ssrp_bitlk_store *s)
{
	if (!FlushFileBuffers(handle_of(s)))
		return win_error(SSRP_E_IO, s, "flushing", 0);
	return SSRP_OK;
}

int ssrp_bitlk_store_map(ssrp_bitlk_store *s)
{
	if (s->map)
		return SSRP_OK;
	/* A mapping longer than the file would grow it. */
	if (s->layout.size == 0 || s->layout.size > s->dev_size || s->layout.size > SIZE_MAX)
		return ssrp_error_set(SSRP_E_FORMAT, "cannot map %s: the volume (%llu bytes) does not "
				      "fit its file (%llu bytes)", s->path,
				      (unsigned long long)s->layout.size,
				      (unsigned long long)s->dev_size);
	s->map_len = (size_t)s->layout.size;
	HANDLE m = CreateFileMappingW(handle_of(s), NULL, s->writable ? PAGE_READWRITE : PAGE_READONLY,
				      (DWORD)(s->layout.size >> 32), (DWORD)s->layout.size, NULL);
	if (!m)
		return win_error(SSRP_E_IO, s, "cannot map", 0);
	/* The view keeps the mapping alive. */
	void *v = MapViewOfFile(m, s->writable ? FILE_MAP_WRITE : FILE_MAP_READ, 0, 0, s->map_len);
	DWORD e = GetLastError();
	CloseHandle(m);
	if (!v) {
		SetLastError(e);
		return win_error(SSRP_E_IO, s, "cannot map", 0);
	}
	s->map = v;
	return SSRP_OK;
}

static int size_of(HANDLE h, uint64_t *size)
{
	LARGE_INTEGER li;
	if (GetFileSizeEx(h, &li)) {
		*size = (uint64_t)li.QuadPart;
		return 1;
	}
	GET_LENGTH_INFORMATION gl;
	DWORD n = 0;
	if (DeviceIoControl(h, IOCTL_DISK_GET_LENGTH_INFO, NULL, 0, &gl, sizeof gl, &n, NULL)) {
		*size = (uint64_t)gl.Length.QuadPart;
		return 1;
	}
	return 0;
}

int ssrp_bitlk_store_open_file(ssrp_bitlk_store *s)
{
	wchar_t *w = ssrp_win32_widen(s->path);
	if (!w)
		return ssrp_error_set(SSRP_E_INVALID, "volume path %s is not UTF-8", s->path);
	HANDLE h = CreateFileW(w, GENERIC_READ | (s->writable ? GENERIC_WRITE : 0),
			       FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING,
			       FILE_ATTRIBUTE_NORMAL, NULL);
	ssrp_free(w);
	if (h == INVALID_HANDLE_VALUE) {
		DWORD e = GetLastError();
		char msg[256];
		ssrp_win32_strerror(e, msg, sizeof msg);
		return ssrp_error_set(e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND
					      ? SSRP_E_NOTFOUND
					      : SSRP_E_IO,
				      "cannot open volume %s%s: %s", s->path,
				      s->writable ? " for writing" : "", msg);
	}
	s->fd = _open_osfhandle((intptr_t)h, (s->writable ? _O_RDWR : _O_RDONLY) | _O_BINARY);
	if (s->fd < 0) {
		CloseHandle(h);
		return ssrp_error_set(SSRP_E_IO, "cannot open volume %s: out of descriptors", s->path);
	}
	OVERLAPPED o = at(LOCK_OFFSET);
	if (!LockFileEx(h, (s->writable ? LOCKFILE_EXCLUSIVE_LOCK : 0) | LOCKFILE_FAIL_IMMEDIATELY, 0,
			1, 0, &o)) {
		char msg[256];
		ssrp_win32_strerror(GetLastError(), msg, sizeof msg);
		ssrp_bitlk_store_close_file(s);
		return ssrp_error_set(SSRP_E_IO, "volume %s is in use by another process (%s)", s->path,
				      msg);
	}
	if (!size_of(h, &s->dev_size)) {
		char msg[256];
		ssrp_win32_strerror(GetLastError(), msg, sizeof msg);
		ssrp_bitlk_store_close_file(s);
		return ssrp_error_set(SSRP_E_IO, "%s: cannot size %s: %s", s->path, s->path, msg);
	}
	return SSRP_OK;
}

int ssrp_bitlk_store_sync_data(ssrp_bitlk_store *s)
{
	if (!s->data_dirty)
		return SSRP_OK;
	if (!FlushViewOfFile(s->map, s->map_len) || !FlushFileBuffers(handle_of(s)))
		return win_error(SSRP_E_IO, s, "flushing", 0);
	s->data_dirty = 0;
	return SSRP_OK;
}

void ssrp_bitlk_store_close_file(ssrp_bitlk_store *s)
{
	if (s->map) {
		ssrp_bitlk_store_sync_data(s);
		UnmapViewOfFile(s->map);
		s->map = NULL;
	}
	if (s->fd >= 0)
		_close(s->fd); /* closes the handle, which releases the lock */
	s->fd = -1;
}
