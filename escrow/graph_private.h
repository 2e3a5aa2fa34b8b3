/* What graph_client.c and graph_batch.c share: the client's state. Nothing
 * else includes this. */
#ifndef SSRP_ESCROW_GRAPH_PRIVATE_H
#define SSRP_ESCROW_GRAPH_PRIVATE_H

#include "escrow/graph_client.h"
#include "escrow/oauth_client.h"
#include "hal/http.h"

struct ssrp_graph {
	ssrp_http *http;    /* one connection for Graph and the token endpoint */
	ssrp_oauth *oauth;  /* the access token */
	char graph_host[256];
	ssrp_graph_options opt; /* defaults filled in */
	ssrp_graph_error err;
	ssrp_graph_stats stats; /* Graph's part; the token endpoint's is the OAuth client's */
};

#endif
