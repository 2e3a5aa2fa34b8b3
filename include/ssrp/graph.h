/* ssrp: a Microsoft Graph client as the public calls hand it out
 * (ssrp_recover_connect in ssrp/recover.h): an opaque handle, its sign-in,
 * and a credential shared by the clients of several threads (ssrp/assoc.h).
 * Requests retry by the library's rules (429 with Retry-After, 5xx,
 * transport failures) under one deadline per call; errors read like a
 * sentence and keep Graph's code, message and request-id.
 *
 * Threads: one ssrp_graph belongs to one thread at a time (libcurl's rule);
 * clients in different threads run at once. A token share is used by many
 * threads at once: that is its job. */
#ifndef SSRP_GRAPH_H
#define SSRP_GRAPH_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A Graph client (opaque). */
typedef struct ssrp_graph ssrp_graph;

/* A device-code sign-in: tell the person where to go and what to type.
 * message is the sign-in service's own sentence (control characters
 * blanked). Called on the thread that signs in. */
typedef void (*ssrp_graph_prompt_fn)(const char *verification_uri, const char *user_code,
				     const char *message, void *ctx);

/** Make sure the client holds a valid access token, signing in (or
 * renewing) now if needed. A device-code sign-in lasts as long as the
 * person takes: call this before the requests, so it does not use up their
 * deadline. */
SSRP_API int ssrp_graph_token(ssrp_graph *g);

/** Forget the client's tokens and free it; NULL is fine. */
SSRP_API void ssrp_graph_free(ssrp_graph *g);

/* Clients of the same credential in several threads (one client per
 * thread) share it: their token requests go one at a time, so a throttled
 * token endpoint never sees one client's request inside another's
 * Retry-After, and a rotated refresh token has one keeper. Each client
 * keeps its own access token. The share must outlive the clients using it. */
typedef struct ssrp_graph_token_share ssrp_graph_token_share;
SSRP_API int ssrp_graph_token_share_new(ssrp_graph_token_share **out);
SSRP_API void ssrp_graph_token_share_free(ssrp_graph_token_share *sh);

#ifdef __cplusplus
}
#endif

#endif
