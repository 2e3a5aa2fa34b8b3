/* ssrp_fs_read_fd (hal/fs.h): the one read-everything loop, for POSIX
 * and Windows file descriptors alike. */
#include <errno.h>
#include <string.h>
#ifdef _WIN32
#include <io.h>
#else
#include <unistd.h>
#endif

#include "hal/fs.h"
#include "hal/mem.h"
#include "ssrp/sys/error.h"

/* At most n bytes; the C library's read, whose count is an unsigned int on
 * Windows. */
static long read_some(int fd, unsigned char *p, size_t n)
{
#ifdef _WIN32
	return _read(fd, p, (unsigned)(n > 0x40000000u ? 0x40000000u : n));
#else
	return (long)read(fd, p, n);
#endif
}

int ssrp_fs_read_fd(int fd, const char *name, size_t max, unsigned char **out, size_t *len)
{
	size_t cap = 4096 < max + 1 ? 4096 : max + 1, got = 0;
	unsigned char *buf = ssrp_malloc(cap + 1);
	if (!buf)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory reading %s", name);
	for (;;) {
		if (got == cap) {
			size_t ncap = cap * 2 < max + 1 ? cap * 2 : max + 1;
			if (ncap == cap) /* read max + 1 bytes: too large */
				break;
			unsigned char *n = ssrp_malloc(ncap + 1);
			if (!n) {
				ssrp_free_secret(buf, cap + 1);
				return ssrp_error_set(SSRP_E_NOMEM, "out of memory reading %s", name);
			}
			memcpy(n, buf, got);
			ssrp_free_secret(buf, cap + 1);
			buf = n;
			cap = ncap;
		}
		long r = read_some(fd, buf + got, cap - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			ssrp_free_secret(buf, cap + 1);
			return ssrp_error_set(SSRP_E_IO, "cannot read %s: %s", name, strerror(e));
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got > max) {
		ssrp_free_secret(buf, cap + 1);
		return ssrp_error_set(SSRP_E_INVALID, "%s is larger than %zu bytes", name, max);
	}
	/* Hand back an exact-size copy so the caller frees *len + 1 bytes. */
	unsigned char *exact = ssrp_malloc(got + 1);
	if (!exact) {
		ssrp_free_secret(buf, cap + 1);
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory reading %s", name);
	}
	memcpy(exact, buf, got);
	exact[got] = '\0';
	ssrp_free_secret(buf, cap + 1);
	*out = exact;
	*len = got;
	return SSRP_OK;
}
