/* The few POSIX names the portable sources use that mingw-w64's C runtime
 * lacks; force-included in a Windows build (cmake/windows.cmake), so no
 * portable file needs a platform #ifdef. */
#ifndef SSRP_HAL_COMPAT_WINDOWS_H
#define SSRP_HAL_COMPAT_WINDOWS_H

#include <fcntl.h>
#include <io.h>
#include <stdlib.h>

/* Windows does not follow symbolic links in _open unless they are
 * reparse points the caller could create only with a privilege; the flag
 * has no equivalent. */
#ifndef O_NOFOLLOW
#define O_NOFOLLOW 0
#endif
#ifndef O_CLOEXEC
#define O_CLOEXEC _O_NOINHERIT
#endif

/* No symbolic links that an unprivileged caller could plant (as O_NOFOLLOW
 * above), and no block devices as files: lstat is stat, S_ISBLK never. */
#include <sys/stat.h>
#define lstat stat
#ifndef S_ISBLK
#define S_ISBLK(m) 0
#endif

static inline int ssrp_compat_setenv(const char *name, const char *value, int overwrite)
{
	if (!overwrite && getenv(name))
		return 0;
	return _putenv_s(name, value) == 0 ? 0 : -1;
}
#define setenv ssrp_compat_setenv

static inline int ssrp_compat_fsync(int fd)
{
	return _commit(fd);
}
#define fsync ssrp_compat_fsync

#endif
