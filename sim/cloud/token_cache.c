/* The verified-token cache (see token_cache.h). */
#include <pthread.h>
#include <string.h>

#include "hal/crypto.h"
#include "hal/mem.h"
#include "sim/cloud/token_cache.h"
#include "ssrp/sys/error.h"

#define SLOTS 1024 /* a power of two */

typedef struct slot {
	uint8_t digest[SSRP_SHA256_LEN];
	int used;
	cloud_principal p;
} slot;

struct cloud_token_cache {
	pthread_mutex_t lock;
	slot slots[SLOTS];
};

int cloud_token_cache_new(cloud_token_cache **out)
{
	cloud_token_cache *c = ssrp_calloc(1, sizeof *c);
	if (!c)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory for the token cache");
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return SSRP_OK;
}

void cloud_token_cache_free(cloud_token_cache *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	ssrp_free_secret(c, sizeof *c);
}

static slot *slot_for(cloud_token_cache *c, const uint8_t digest[SSRP_SHA256_LEN])
{
	size_t i = ((size_t)digest[0] | (size_t)digest[1] << 8) & (SLOTS - 1);
	return &c->slots[i];
}

int cloud_token_cache_get(cloud_token_cache *c, const char *token, uint64_t now, uint64_t skew_s,
			  cloud_principal *out)
{
	uint8_t d[SSRP_SHA256_LEN];
	if (!c || ssrp_sha256(d, token, strlen(token)))
		return 0;
	int hit = 0;
	pthread_mutex_lock(&c->lock);
	slot *s = slot_for(c, d);
	if (s->used && !memcmp(s->digest, d, sizeof d) && now <= s->p.expires + skew_s) {
		*out = s->p;
		hit = 1;
	}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

void cloud_token_cache_put(cloud_token_cache *c, const char *token, const cloud_principal *p)
{
	uint8_t d[SSRP_SHA256_LEN];
	if (!c || ssrp_sha256(d, token, strlen(token)))
		return;
	pthread_mutex_lock(&c->lock);
	slot *s = slot_for(c, d);
	memcpy(s->digest, d, sizeof d);
	s->p = *p;
	s->used = 1;
	pthread_mutex_unlock(&c->lock);
}
