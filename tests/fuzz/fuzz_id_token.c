/* libFuzzer: the id_token claims parser (ssrp_oauth_id_token_parse). The
 * input is the token's text as the token endpoint would send it; a second
 * run wraps the input as the claims part of a JWT, so the checks behind the
 * base64url decoding are reached too. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/oauth_client.h"
#include "hal/sign.h"

#define TID "0b1e5c4a-1111-4222-8333-444455556666"

static void one(const char *text, size_t len)
{
	ssrp_oauth_user u;
	if (ssrp_oauth_id_token_parse(text, len, "login.microsoftonline.com", TID, "client",
				      1800000000, &u) == 0 &&
	    (!memchr(u.upn, '\0', sizeof u.upn) || !memchr(u.name, '\0', sizeof u.name)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 8192)
		return 0;
	one((const char *)data, size);
	size_t cap = size * 4 / 3 + 16;
	char *b64 = malloc(cap), *token = malloc(cap + 16);
	if (b64 && token && ssrp_base64url(data, size, b64, cap) >= 0) {
		size_t n = strlen(b64);
		memcpy(token, "e30.", 4);
		memcpy(token + 4, b64, n);
		memcpy(token + 4 + n, ".sig", 5);
		one(token, n + 8);
	}
	free(b64);
	free(token);
	return 0;
}
