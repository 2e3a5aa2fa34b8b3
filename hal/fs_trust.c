/* ssrp_fs_check_trusted for POSIX: who could have written a file that
 * decides what the program does. A file is only as trustworthy as the
 * directories above it: whoever may write a directory may rename the file
 * away and put their own in its place (unless the sticky bit stops them). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hal/fs.h"
#include "ssrp/sys/error.h"

static int owner_ok(const struct stat *st)
{
	return st->st_uid == geteuid() || st->st_uid == 0;
}

static int refuse_owner(const char *what, const char *kind, const char *path,
			const struct stat *st)
{
	return ssrp_error_set(SSRP_E_PERMISSION,
			      "%s %s %s belongs to uid %u, not to this user (uid %u) or root; "
			      "only its owner may decide what ssrp does: chown it or move it",
			      what, kind, path, (unsigned)st->st_uid, (unsigned)geteuid());
}

static int refuse_mode(const char *what, const char *kind, const char *path,
		       const struct stat *st)
{
	return ssrp_error_set(SSRP_E_PERMISSION,
			      "%s %s %s is writable by group or others (mode %04o), so anyone "
			      "could have changed it: chmod go-w %s",
			      what, kind, path, (unsigned)(st->st_mode & 07777), path);
}

/* Each directory from dir up to /: owned by us or root (the owner of a
 * directory may always replace what is in it), and not writable by group or
 * others unless sticky; with own_dir the first must not be writable by
 * anyone else at all. */
static int check_dirs(char *dir, const char *what, int own_dir)
{
	for (int first = 1;; first = 0) {
		struct stat st;
		if (stat(dir, &st) != 0)
			return ssrp_error_set(SSRP_E_IO, "%s: cannot inspect directory %s: %s", what,
					      dir, strerror(errno));
		if (!S_ISDIR(st.st_mode))
			return ssrp_error_set(SSRP_E_INVALID, "%s: %s is not a directory", what, dir);
		if (!owner_ok(&st))
			return refuse_owner(what, "directory", dir, &st);
		int sticky_ok = (st.st_mode & S_ISVTX) && !(first && own_dir);
		if ((st.st_mode & 022) && !sticky_ok)
			return refuse_mode(what, "directory", dir, &st);
		if (!strcmp(dir, "/"))
			return SSRP_OK;
		char *slash = strrchr(dir, '/');
		if (!slash)
			return SSRP_OK; /* realpath gives absolute paths; defensive */
		slash[slash == dir] = '\0';
	}
}

int ssrp_fs_check_trusted(const char *path, const char *what, unsigned flags)
{
	if (!path || !*path)
		return ssrp_error_set(SSRP_E_INVALID, "%s: no path given", what);
	struct stat st;
	int exists = lstat(path, &st) == 0;
	if (!exists && errno != ENOENT)
		return ssrp_error_set(SSRP_E_IO, "%s: cannot inspect %s: %s", what, path,
				      strerror(errno));
	if (exists) {
		if (S_ISLNK(st.st_mode) && (flags & SSRP_FS_TRUST_OWN_DIR))
			return ssrp_error_set(SSRP_E_PERMISSION,
					      "%s %s is a symbolic link; give the real path", what,
					      path);
		if (S_ISLNK(st.st_mode)) {
			/* Whoever may replace the link, or the file it leads to,
			 * decides: check both. */
			char target[PATH_MAX];
			if (!realpath(path, target))
				return ssrp_error_set(SSRP_E_IO, "%s: cannot resolve %s: %s", what,
						      path, strerror(errno));
			int rc = ssrp_fs_check_trusted(target, what, flags);
			if (rc)
				return rc;
			st.st_mode = S_IFREG; /* the link itself: only its directory */
			st.st_uid = geteuid();
		}
		if (!S_ISREG(st.st_mode))
			return ssrp_error_set(SSRP_E_INVALID, "%s %s is not a regular file", what,
					      path);
		if (!owner_ok(&st))
			return refuse_owner(what, "file", path, &st);
		if (st.st_mode & 022)
			return refuse_mode(what, "file", path, &st);
	}
	/* The directories that hold it, resolved: a symlinked directory is
	 * judged by where it leads. */
	char parent[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(parent, sizeof parent, ".");
	else if (slash == path)
		snprintf(parent, sizeof parent, "/");
	else if ((size_t)(slash - path) >= sizeof parent)
		return ssrp_error_set(SSRP_E_INVALID, "%s: path %s is too long", what, path);
	else
		snprintf(parent, sizeof parent, "%.*s", (int)(slash - path), path);
	char real[PATH_MAX];
	if (!realpath(parent, real))
		return ssrp_error_set(SSRP_E_IO, "%s: cannot resolve directory %s: %s", what, parent,
				      strerror(errno));
	return check_dirs(real, what, (flags & SSRP_FS_TRUST_OWN_DIR) != 0);
}
