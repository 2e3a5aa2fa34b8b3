/* The device's association client (the public calls: ssrp/assoc_client.h),
 * and what the library's own tests and fuzzers reach beyond them: the
 * parsers of the answers. Platform-neutral: the network through hal/http,
 * files through hal/fs. The public structs are defined in the public header
 * only (tests/install/abi.sh says why). */
#ifndef SSRP_ESCROW_ASSOC_CLIENT_H
#define SSRP_ESCROW_ASSOC_CLIENT_H

#include <stddef.h>

#include "ssrp/assoc_client.h"

/* The parsers behind the two calls (untrusted input; fuzzed). They fill
 * out's decisions / job_id / error_code, leaving status and attempts alone.
 * parse_service: a 200 body {"deviceId","decisions":[{...}]}; parse_webhook:
 * a 202 body {"JobIds":[...]}; parse_error: {"error":{"code","message"}}
 * (the service) or {"Message":"..."} (Automation) into out->error_code and
 * msg (at most cap bytes; "" when neither). SSRP_E_FORMAT naming what is
 * wrong. */
int ssrp_assoc_client_parse_service(const char *body, size_t len, ssrp_assoc_client_result *out);
int ssrp_assoc_client_parse_webhook(const char *body, size_t len, ssrp_assoc_client_result *out);
int ssrp_assoc_client_parse_error(const char *body, size_t len, ssrp_assoc_client_result *out,
				  char *msg, size_t cap);

#endif
