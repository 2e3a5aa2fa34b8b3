/* ssrp: the file handling the commands share, for a program that reads
 * and writes what a person names the way ssrp does (ARCHITECTURE.md, "Trust
 * model"): inputs that are never waited on, outputs replaced atomically,
 * nothing we did not create clobbered.
 *
 * Errors as ssrp/error.h: a negative code and a sentence naming the path.
 * Threads: every call is safe from any thread; two calls on the same path
 * at once are the file system's business (an atomic replace is one rename). */
#ifndef SSRP_FILE_H
#define SSRP_FILE_H

#include <sys/types.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** 0 when nothing is at path, 1 when something is (or it cannot tell: the
 * caller's next step on it says what is wrong). */
SSRP_API int ssrp_fs_exists(const char *path);

/** Give the file at from the name to, never replacing what is at to (even
 * one that appeared a moment ago): SSRP_OK (from is gone), SSRP_E_REFUSED
 * with a sentence when to exists, SSRP_E_IO otherwise (from stays). */
SSRP_API int ssrp_fs_move_noreplace(const char *from, const char *to);

/** Replace path with data atomically and durably: a temporary file next to
 * it (mode mode, exclusive, unique per call), fsync, rename, fsync the
 * directory. Readers see the old or the new file, and after a crash the
 * file is one of the two. Only a regular file (or no file) is replaced: a
 * symbolic link, device, FIFO or directory at path is refused
 * (SSRP_E_INVALID) and left as it is. */
SSRP_API int ssrp_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

/** Move a file that cannot be used out of the way, as
 * PATH.corrupt-YYYYMMDDTHHMMSSZ (a counter is added if that exists); the
 * new name goes to moved (moved_cap bytes). */
SSRP_API int ssrp_fs_move_aside(const char *path, char *moved, size_t moved_cap);

/** Read a whole input: "-" is standard input; a path must name a regular
 * file (a FIFO, device or directory is refused at once, never waited on);
 * more than max bytes is refused. *out is NUL-terminated (not counted in
 * *len) and freed with ssrp_free_secret(*out, *len + 1). */
SSRP_API int ssrp_fs_read_input(const char *path, size_t max, unsigned char **out, size_t *len);

/** Write an output a person named: "-" is standard output; a character
 * device or a FIFO is written in place (a FIFO without a reader is refused,
 * not waited on); a regular file, or none yet, is replaced atomically
 * (ssrp_fs_write_atomic); a symbolic link is refused unless flags has
 * SSRP_FS_FOLLOW_SYMLINK (then its target is treated as above); anything
 * else (block device, directory, socket) is refused. */
#define SSRP_FS_FOLLOW_SYMLINK 1u
SSRP_API int ssrp_fs_write_output(const char *path, const void *data, size_t len, mode_t mode,
				  unsigned flags);

#ifdef __cplusplus
}
#endif

#endif
