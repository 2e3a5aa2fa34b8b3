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

/* $SSRP_BIN, the ssrp command; NULL, with a message on stderr, when unset. */
const char *sim_bin(void);
/* Make a fresh $TMPDIR/<name>.XXXXXX (TMPDIR defaults to /tmp) into work; 0 or -1. */
int sim_make_work(char *work, size_t cap, const char *name);
/* Remove work and all below it, unless SSRP_KEEP_TEST_DIR is set (kept for a
 * look); 0, or -1 with a message on stderr when it could not be removed. */
int sim_remove_work(const char *work);
/* Run `bin sim cloud start --dir DIR [args...]` (args NULL-terminated, may be
 * NULL). -1 when the simulator did not start; 0 when it did, with DIR/cloud.env's
 * text (malloc'd) in *env, or NULL there when it cannot be read. */
int sim_cloud_start(const char *bin, const char *dir, const char *const *args, char **env);
/* The admin bearer token: the file that SSRP_SIM_ADMIN_TOKEN_FILE in an env
 * file's text names, as it stands, into out; 0, or -1 when absent or unreadable. */
int sim_admin_token(const char *env_text, char *out, size_t cap);
/* POST body to https://graph.microsoft.com<path> with the admin token, through
 * the client configuration at config_path; fails the test unless the answer is 200. */
void sim_admin_post(const char *config_path, const char *token, const char *path,
		    const char *body);

#endif
