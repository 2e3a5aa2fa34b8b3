/* libcurl's one process-wide initialisation, with memory functions that
 * wipe every block before freeing it: libcurl copies request bodies and
 * headers (bearer tokens, client secrets, a recovery password on its way to
 * the Device Registration Service) into its own buffers. */
#ifndef SSRP_HAL_CURL_GLOBAL_H
#define SSRP_HAL_CURL_GLOBAL_H

#include <stdint.h>

/* Once per process, thread-safe (ssrp_init and the first HTTP client call
 * it). SSRP_OK, or SSRP_E_GENERIC when libcurl cannot start. libcurl keeps
 * the memory functions only when this is the process's first
 * curl_global_init; a host that initialised libcurl itself keeps its own. */
int ssrp_curl_global_init(void);

/* Bytes wiped by the memory functions so far (for tests). */
uint64_t ssrp_curl_wiped_bytes(void);

#endif
