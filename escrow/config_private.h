/* Between config.c and the files that parse one member each. */
#ifndef SSRP_ESCROW_CONFIG_PRIVATE_H
#define SSRP_ESCROW_CONFIG_PRIVATE_H

#include <cjson/cJSON.h>

#include "escrow/config.h"

/* "agent" (config_agent.c): defaults, parse, free. */
void ssrp_config_agent_defaults(ssrp_agent_config *a);
int ssrp_config_parse_agent(ssrp_agent_config *a, const cJSON *obj, const char *origin);
void ssrp_config_free_agent(ssrp_agent_config *a);

/* "assoc.serve" (config_serve.c): defaults, parse. */
void ssrp_config_serve_defaults(ssrp_assoc_serve_limits *s);
int ssrp_config_parse_serve(ssrp_assoc_serve_limits *s, const cJSON *obj, const char *origin);

/* A NULL-terminated list of non-empty strings of at most max_len bytes
 * (at most max_items); where names the member in messages. */
int ssrp_config_string_list(char ***out, const cJSON *arr, size_t max_items, size_t max_len,
			    const char *where, const char *origin);
void ssrp_config_free_list(char **list);

#endif
