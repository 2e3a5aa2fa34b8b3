/* Small file-system services for the command and the simulators (POSIX). */
#ifndef SSRP_HAL_FS_H
#define SSRP_HAL_FS_H

#include <stddef.h>
#include <sys/types.h>

/* mkdir -p with mode for each directory made; SSRP_E_IO naming the part. */
int ssrp_fs_mkdirs(const char *dir, mode_t mode);

/* Replace path with data atomically and durably: a temporary file next to
 * it (mode mode, exclusive, unique per call so threads may race), fsync,
 * rename, fsync the directory. Readers see the old or the new file, and
 * after a crash the file is one of the two. */
int ssrp_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* Read a secret file: refuses one readable or writable by group or others
 * ("chmod 600 PATH"), strips one trailing newline. *out is freed with
 * ssrp_free_secret(*out, *len). */
int ssrp_secret_file_read(const char *path, char **out, size_t *len);

#endif
