/* Helpers shared by the tests that drive `ssrp sim cloud` from C. */
#ifndef SSRP_TESTS_SIM_HELPERS_H
#define SSRP_TESTS_SIM_HELPERS_H

#include <stddef.h>
#include <sys/types.h>

/* Write text to path and set its mode; fails the test on error. */
void sim_write_text(const char *path, const char *text, mode_t mode);
/* The whole file as a malloc'd string, or NULL. */
char *sim_read_text(const char *path);
/* Run bin with args (NULL-terminated, without argv[0]); its exit status. */
int sim_run(const char *bin, const char *const *args);
/* The value of NAME='...' in an env file's text; 0, or -1 when absent or too long. */
int sim_env_value(const char *env_text, const char *name, char *out, size_t cap);

#endif
