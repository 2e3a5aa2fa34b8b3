/* Verified access tokens, remembered until they expire, so a client that
 * sends the same bearer token many times pays for one RS256 check. Keyed by
 * SHA-256 of the token text; a fixed table (a collision evicts), one mutex.
 * Only successful verifications are stored, and a hit is re-checked against
 * the clock, so the cache never accepts what verification would refuse. */
#ifndef SSRP_SIM_CLOUD_TOKEN_CACHE_H
#define SSRP_SIM_CLOUD_TOKEN_CACHE_H

#include "sim/cloud/cloud.h"

typedef struct cloud_token_cache cloud_token_cache;

int cloud_token_cache_new(cloud_token_cache **out);
void cloud_token_cache_free(cloud_token_cache *c);

/* 1 and *out filled when token was verified before and its exp (plus
 * skew_s) is not past now; 0 otherwise. */
int cloud_token_cache_get(cloud_token_cache *c, const char *token, uint64_t now, uint64_t skew_s,
			  cloud_principal *out);
void cloud_token_cache_put(cloud_token_cache *c, const char *token, const cloud_principal *p);

#endif
