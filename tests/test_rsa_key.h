/* test_rsa_key(): a new RSA-2048 key for a test, or NULL.
 *
 * Under valgrind (SSRP_UNDER_VALGRIND, set by the valgrind_ tests) the key
 * comes from the openssl command, a child process memcheck does not follow:
 * the prime search is OpenSSL's own code, not ours, and takes 5 to 15 s a
 * key under memcheck. Everything the test then does with the key runs under
 * memcheck as before; the plain and ASan runs make it with EVP_RSA_gen. */
#ifndef SSRP_TESTS_TEST_RSA_KEY_H
#define SSRP_TESTS_TEST_RSA_KEY_H

#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

static inline EVP_PKEY *test_rsa_key(void)
{
	if (!getenv("SSRP_UNDER_VALGRIND"))
		return EVP_RSA_gen(2048);
	FILE *p = popen("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null",
			"r");
	if (!p)
		return NULL;
	EVP_PKEY *k = PEM_read_PrivateKey(p, NULL, NULL, NULL);
	if (pclose(p) != 0 || (k && EVP_PKEY_get_bits(k) != 2048)) {
		EVP_PKEY_free(k);
		k = NULL;
	}
	return k;
}

#endif
