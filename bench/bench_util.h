/* Process and text helpers the C benchmarks share (POSIX). */
#ifndef SSRP_BENCH_UTIL_H
#define SSRP_BENCH_UTIL_H

#include <stddef.h>
#include <sys/types.h>

/* Start argv (looked up in PATH when it has no '/') with standard input
 * from /dev/null and standard output and error into the files named (NULL:
 * /dev/null); the child's pid, or -1 with a message on stderr. */
pid_t bench_spawn(char *const argv[], const char *out_path, const char *err_path);

/* bench_spawn and wait: the exit status, or -1 when it could not run or
 * died of a signal. */
int bench_run(char *const argv[], const char *out_path, const char *err_path);

/* A whole file, NUL-terminated, malloc'd (free()); *len (may be NULL) gets
 * its size. NULL when it cannot be read. */
char *bench_read_file(const char *path, size_t *len);

/* The value of NAME='value' at the start of a line of a sh-style env file
 * (the simulators write them, values single-quoted); 0, or -1 when absent
 * or longer than cap - 1. */
int bench_env_value(const char *text, const char *name, char *out, size_t cap);

#endif
