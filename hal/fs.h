/* Small file-system services for the command and the simulators. POSIX:
 * fs.c, fs_io.c, fs_lock.c, fs_trust.c; Windows: the *_windows.c files of
 * the same names, where files inherit their directory's ACL, a directory
 * made with mode 0700 gets a private DACL (SYSTEM, Administrators, this
 * user) and ssrp_fs_check_trusted reads owners and DACLs (fs_trust_windows.c
 * says how "owner", "group or others" and "sticky" translate). The calls a
 * program outside the library may use are public, in ssrp/file.h. */
#ifndef SSRP_HAL_FS_H
#define SSRP_HAL_FS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ssrp/file.h"

/* mkdir -p with mode for each directory made; SSRP_E_IO naming the part. */
int ssrp_fs_mkdirs(const char *dir, mode_t mode);

/* The directory part of path into dir (either separator on Windows): 1, or
 * 0 when path has none (or only the root). */
int ssrp_fs_dirname(const char *path, char *dir, size_t cap);

/* Refuse a file that decides what the program does (configuration, the
 * agent's journal) when someone else could have written it: the file (when
 * it exists) must be a regular file owned by this user or root and not
 * writable by group or others, and so must every directory above it, except
 * that a directory with the sticky bit (/tmp) may be writable by others.
 * With SSRP_FS_TRUST_OWN_DIR the file's own directory must also be owned by
 * this user (or root) and writable by nobody else, sticky bit or not.
 * SSRP_E_PERMISSION naming `what`, the path, what is wrong and the fix. */
#define SSRP_FS_TRUST_OWN_DIR 1u
int ssrp_fs_check_trusted(const char *path, const char *what, unsigned flags);

/* An exclusive lock held for a whole run, on a lock file at path (created
 * 0600 when missing, never deleted). Waits up to wait_ms for another holder;
 * SSRP_E_BUSY if it still holds the lock. Released by ssrp_fs_lock_release
 * or when the process ends. */
typedef struct ssrp_fs_lock ssrp_fs_lock;
int ssrp_fs_lock_acquire(ssrp_fs_lock **out, const char *path, unsigned wait_ms);
/* For the lock's implementations: SSRP_E_BUSY (naming path and wait_ms)
 * once deadline (monotonic ms) has passed, else a short sleep and SSRP_OK. */
int ssrp_fs_lock_wait_turn(uint64_t deadline, const char *path, unsigned wait_ms);
void ssrp_fs_lock_release(ssrp_fs_lock *lock);

/* Read fd to its end: at most max bytes (SSRP_E_INVALID when larger),
 * NUL-terminated, in a buffer the caller frees with ssrp_free_secret(*out,
 * *len + 1); name names it in errors. */
int ssrp_fs_read_fd(int fd, const char *name, size_t max, unsigned char **out, size_t *len);

/* write(2) all of data to fd, resuming after EINTR and short writes;
 * SSRP_E_IO naming name. */
int ssrp_fs_write_all(int fd, const char *name, const void *data, size_t len);

/* Read a secret file: refuses one readable or writable by group or others
 * ("chmod 600 PATH"; Windows: by anyone but SYSTEM, Administrators and this
 * user, read from its DACL), strips one trailing newline. *out is freed with
 * ssrp_free_secret(*out, *len). */
int ssrp_secret_file_read(const char *path, char **out, size_t *len);

#endif
