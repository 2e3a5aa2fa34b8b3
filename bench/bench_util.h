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

/* The simulated cloud a benchmark runs (`ssrp-sim cloud start --dir DIR`)
 * and what its env file says. */
typedef struct bench_cloud {
	char dir[1024];
	int started;
	int port;
	long pid;
	char ca[1100], log[1100], config[1100], admin_token_file[1100];
} bench_cloud;

/* Start it in dir with the extra arguments (NULL-terminated: --state,
 * --faults, ...), its output in DIR.start.out and DIR.start.err; 0, or -1
 * with a message that begins with who. */
int bench_cloud_start(bench_cloud *c, const char *ssrp_sim, const char *dir, char *const extra[],
		      const char *who);

/* Stop it, if it was started. */
void bench_cloud_stop(bench_cloud *c, const char *ssrp_sim);

/* A response body libcurl appends to (CURLOPT_WRITEFUNCTION
 * bench_body_write, CURLOPT_WRITEDATA a bench_body starting {0});
 * NUL-terminated; free(p). */
typedef struct bench_body {
	char *p;
	size_t len, cap;
} bench_body;
size_t bench_body_write(char *p, size_t size, size_t n, void *cls);

#endif
