/* hal/identity.h's portable backend (hal/identity_config.c) with real
 * certificates made here with OpenSSL: an MS-Organization-Access CA, device
 * certificates with CN=<deviceId>, and the ways one can be wrong (another
 * CN, another issuer, a key that is not the certificate's, a missing or
 * unreadable file, a public key file), plus the join type and the primary
 * users. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "hal/identity.h"
#include "hal/identity_internal.h"
#include "ssrp/error.h"
#include "tests/integration/sim_helpers.h"

#define DEVICE_ID "5b0e6c1d-2a3f-4e5d-8c7b-9a0f1e2d3c4b"
#define DEVICE_ID_UPPER "{5B0E6C1D-2A3F-4E5D-8C7B-9A0F1E2D3C4B}"
#define OTHER_ID "11111111-2222-4333-8444-555555555555"
#define TENANT_ID "0A1B2C3D-4E5F-4A6B-8C7D-8E9F0A1B2C3D"

static char work[256];
static char good_cert[320], good_key[320], other_cn_cert[320], other_cn_key[320];
static char other_issuer_cert[320], other_issuer_key[320], stranger_key[320];
static char loose_key[320], garbage[320], missing[320], pub_only[320];

static EVP_PKEY *ec_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	assert_non_null(k);
	return k;
}

static void add_cn(X509_NAME *n, const char *cn)
{
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
						    (const unsigned char *)cn, -1, -1, 0),
			 1);
}

static void write_key(const char *path, EVP_PKEY *k, mode_t mode)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

/* A certificate for subject_cn signed by issuer_key under issuer_cn. */
static void make_cert(const char *cert_path, const char *key_path, const char *subject_cn,
		      const char *issuer_cn, EVP_PKEY *issuer_key, long serial)
{
	EVP_PKEY *k = ec_key();
	X509 *x = X509_new();
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	add_cn(X509_get_subject_name(x), subject_cn);
	add_cn(X509_get_issuer_name(x), issuer_cn);
	assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
	FILE *f = fopen(cert_path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, x), 1);
	fclose(f);
	if (key_path)
		write_key(key_path, k, 0600);
	X509_free(x);
	EVP_PKEY_free(k);
}

#define PATH(var, name) snprintf(var, sizeof var, "%s/%s", work, name)

static int setup(void **st)
{
	(void)st;
	if (sim_make_work(work, sizeof work, "ssrp-identity-test"))
		return -1;
	EVP_PKEY *ca = ec_key();
	EVP_PKEY *rogue = ec_key();
	PATH(good_cert, "device.pem");
	PATH(good_key, "device.key");
	make_cert(good_cert, good_key, DEVICE_ID, SSRP_IDENTITY_ISSUER_CN, ca, 1);
	PATH(other_cn_cert, "other-cn.pem");
	PATH(other_cn_key, "other-cn.key");
	make_cert(other_cn_cert, other_cn_key, OTHER_ID, SSRP_IDENTITY_ISSUER_CN, ca, 2);
	PATH(other_issuer_cert, "other-issuer.pem");
	PATH(other_issuer_key, "other-issuer.key");
	make_cert(other_issuer_cert, other_issuer_key, DEVICE_ID, "Contoso Root CA", rogue, 3);
	PATH(stranger_key, "stranger.key");
	EVP_PKEY *k = ec_key();
	write_key(stranger_key, k, 0600);
	EVP_PKEY_free(k);
	/* the device's own key, but readable by everyone */
	PATH(loose_key, "loose.key");
	char *text = NULL;
	{
		FILE *f = fopen(good_key, "r");
		assert_non_null(f);
		text = calloc(1, 8192);
		size_t n = fread(text, 1, 8191, f);
		fclose(f);
		f = fopen(loose_key, "w");
		fwrite(text, 1, n, f);
		fclose(f);
		chmod(loose_key, 0644);
		free(text);
	}
	PATH(garbage, "garbage.pem");
	FILE *f = fopen(garbage, "w");
	fputs("not a certificate\n", f);
	fclose(f);
	chmod(garbage, 0600);
	/* a key file holding only a public key */
	PATH(pub_only, "public.key");
	f = fopen(pub_only, "w");
	PEM_write_PUBKEY(f, ca);
	fclose(f);
	chmod(pub_only, 0600);
	PATH(missing, "no-such-file.pem");
	EVP_PKEY_free(ca);
	EVP_PKEY_free(rogue);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	return sim_remove_work(work);
}

static ssrp_identity_config config(const char *cert, const char *key)
{
	ssrp_identity_config c = {.version = SSRP_IDENTITY_CONFIG_VERSION, .tenant_id = TENANT_ID,
				  .device_id = DEVICE_ID_UPPER,
				  .cert_file = cert,
				  .key_file = key,
				  .display_name = "DESKTOP-1"};
	return c;
}

/* rc is code and the message holds every one of the NULL-terminated words. */
static void expect_error(int rc, int code, ...)
{
	const char *msg = ssrp_error_last();
	if (rc != code)
		fail_msg("got %d (%s), expected %d", rc, msg, code);
	va_list ap;
	va_start(ap, code);
	for (const char *w; (w = va_arg(ap, const char *));)
		if (!strstr(msg, w))
			fail_msg("message \"%s\" lacks \"%s\"", msg, w);
	va_end(ap);
}

static void test_registered(void **st)
{
	(void)st;
	ssrp_identity_config c = config(good_cert, good_key);
	ssrp_device_identity id = SSRP_DEVICE_IDENTITY_INIT;
	assert_int_equal(ssrp_identity_read(&c, &id), SSRP_OK);
	assert_int_equal(id.join, SSRP_JOIN_AZUREAD);
	assert_string_equal(id.device_id, DEVICE_ID); /* braces gone, lower case */
	assert_string_equal(id.tenant_id, "0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d");
	assert_string_equal(id.display_name, "DESKTOP-1");
	assert_string_equal(id.cert, good_cert);
	assert_string_equal(id.key, good_key);
	assert_string_equal(id.source, "config");
	assert_string_equal(ssrp_join_type_name(id.join), "azuread");
}

static void test_join_types(void **st)
{
	(void)st;
	const char *names[] = {"azuread", "hybrid", "registered"};
	ssrp_join_type types[] = {SSRP_JOIN_AZUREAD, SSRP_JOIN_HYBRID, SSRP_JOIN_REGISTERED};
	for (int i = 0; i < 3; i++) {
		ssrp_identity_config c = config(good_cert, good_key);
		c.join_type = names[i];
		ssrp_device_identity id = SSRP_DEVICE_IDENTITY_INIT;
		assert_int_equal(ssrp_identity_read(&c, &id), SSRP_OK);
		assert_int_equal(id.join, types[i]);
		assert_string_equal(ssrp_join_type_name(id.join), names[i]);
	}
	assert_string_equal(ssrp_join_type_name(SSRP_JOIN_NONE), "none");
	assert_string_equal(ssrp_join_type_name((ssrp_join_type)42), "none");
	ssrp_identity_config c = config(good_cert, good_key);
	c.join_type = "domain";
	ssrp_device_identity id = SSRP_DEVICE_IDENTITY_INIT;
	expect_error(ssrp_identity_read(&c, &id), SSRP_E_INVALID, "join_type", "domain", NULL);
	assert_int_equal(id.join, SSRP_JOIN_NONE);
}

/* A certificate in a Windows store ("LocalMachine\MY\<thumbprint>", no key
 * file) is Windows' alone: elsewhere refused by name, never opened as a
 * file; with a key file next to it, refused on every platform. */
static void test_store_path(void **st)
{
	(void)st;
	const char *path = "LocalMachine\\MY\\0123456789ABCDEF0123456789ABCDEF01234567";
	ssrp_identity_config c = config(path, NULL);
	ssrp_device_identity id = SSRP_DEVICE_IDENTITY_INIT;
	expect_error(ssrp_identity_read(&c, &id), SSRP_E_NOTSUPPORTED, "Windows certificate store",
		     path, "PEM files", NULL);
	assert_string_equal(id.cert, "");
	c = config(path, good_key);
	expect_error(ssrp_identity_read(&c, &id), SSRP_E_INVALID, path,
		     "leave device.key_file out", NULL);
	/* without a key a file is still refused as before */
	c = config(good_cert, NULL);
	expect_error(ssrp_identity_read(&c, &id), SSRP_E_INVALID, "device.key_file", NULL);
}

static void test_not_registered(void **st)
{
	(void)st;
	ssrp_device_identity id;
	memset(&id, 0x55, sizeof id); /* the library clears what it does not fill */
	id.version = SSRP_DEVICE_IDENTITY_VERSION;
	ssrp_identity_config c = {.version = SSRP_IDENTITY_CONFIG_VERSION, .tenant_id = TENANT_ID};
	expect_error(ssrp_identity_read(&c, &id), SSRP_E_NOTFOUND, "not registered", "device_id",
		     "cert_file", "key_file", NULL);
	assert_int_equal(id.join, SSRP_JOIN_NONE);
	assert_string_equal(id.device_id, "");
	/* no configuration at all says the same */
	expect_error(ssrp_identity_read(NULL, &id), SSRP_E_NOTFOUND, "not registered", NULL);
	assert_int_equal(ssrp_identity_read(&c, NULL), SSRP_E_INVALID);
}

static void test_bad_device_id(void **st)
{
	(void)st;
	ssrp_identity_config c = config(good_cert, good_key);
	ssrp_device_identity id = SSRP_DEVICE_IDENTITY_INIT;
	const char *bad[] = {"dev", "5b0e6c1d-2a3f-4e5d-8c7b-9a0f1e2d3c4", ("{" DEVICE_ID),
			     "5b0e6c1d_2a3f-4e5d-8c7b-9a0f1e2d3c4b", "5b0e6c1d-2a3f-4e5d-8c7b-9a0f1e2d3c4g",
			     ""};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		c.device_id = bad[i];
		expect_error(ssrp_identity_read(&c, &id), SSRP_E_INVALID, "device_id",
			     "not a GUID", NULL);
	}
	/* a device without its certificate */
	c = config(NULL, NULL);
	expect_error(ssrp_identity_read(&c, &id), SSRP_E_INVALID, DEVICE_ID, "cert_file",
		     "key_file", NULL);
}

static void test_wrong_cn(void **st)
{
	(void)st;
	ssrp_identity_config c = config(other_cn_cert, other_cn_key);
	ssrp_device_identity id = SSRP_DEVICE_IDENTITY_INIT;
	expect_error(ssrp_identity_read(&c, &id), SSRP_E_INVALID, other_cn_cert, "not this device",
		     "CN=" DEVICE_ID, NULL);
	/* the same certificate is fine for the device it names */
	c.device_id = OTHER_ID;
	assert_int_equal(ssrp_identity_read(&c, &id), SSRP_OK);
	assert_string_equal(id.device_id, OTHER_ID);
}

static void test_wrong_issuer(void **st)
{
	(void)st;
	ssrp_identity_config c = config(other_issuer_cert, other_issuer_key);
	ssrp_device_identity id = SSRP_DEVICE_IDENTITY_INIT;
	expect_error(ssrp_identity_read(&c, &id), SSRP_E_INVALID, other_issuer_cert,
		     "CN=MS-Organization-Access", NULL);
}

static void test_key_mismatch(void **st)
{
	(void)st;
	ssrp_identity_config c = config(good_cert, stranger_key);
	ssrp_device_identity id = SSRP_DEVICE_IDENTITY_INIT;
	expect_error(ssrp_identity_read(&c, &id), SSRP_E_BAD_KEY, stranger_key, good_cert,
		     "does not belong", NULL);
	assert_string_equal(id.cert, "");
	c.key_file = other_cn_key;
	expect_error(ssrp_identity_read(&c, &id), SSRP_E_BAD_KEY, other_cn_key, NULL);
	c.key_file = pub_only;
	expect_error(ssrp_identity_read(&c, &id), SSRP_E_FORMAT, pub_only, "private key", NULL);
}

static void test_files(void **st)
{
	(void)st;
	ssrp_device_identity id = SSRP_DEVICE_IDENTITY_INIT;
	ssrp_identity_config c = config(missing, good_key);
	expect_error(ssrp_identity_read(&c, &id), SSRP_E_IO, missing, "does not exist",
		     "certificate", NULL);
	c = config(good_cert, missing);
	expect_error(ssrp_identity_read(&c, &id), SSRP_E_IO, missing, "does not exist", "key",
		     NULL);
	c = config(garbage, good_key);
	expect_error(ssrp_identity_read(&c, &id), SSRP_E_FORMAT, garbage, "no PEM certificate",
		     NULL);
	/* the key is a secret: refused when others may read it */
	c = config(good_cert, loose_key);
	expect_error(ssrp_identity_read(&c, &id), SSRP_E_PERMISSION, loose_key, "chmod 600", NULL);
	/* a certificate file this account may not read (root reads anything) */
	if (geteuid() != 0) {
		char locked[320];
		PATH(locked, "locked.pem");
		FILE *f = fopen(locked, "w");
		fputs("x\n", f);
		fclose(f);
		chmod(locked, 0);
		c = config(locked, good_key);
		expect_error(ssrp_identity_read(&c, &id), SSRP_E_PERMISSION, locked,
			     "cannot be read", NULL);
	}
	/* a path too long for the identity's fields */
	char longpath[1100];
	memset(longpath, 'a', sizeof longpath - 1);
	longpath[sizeof longpath - 1] = '\0';
	c = config(longpath, good_key);
	expect_error(ssrp_identity_read(&c, &id), SSRP_E_INVALID, "device.cert_file", NULL);
}

static void test_primary_users(void **st)
{
	(void)st;
	char **users = (char **)1;
	size_t n = 99;
	/* none configured: an empty list, not an error */
	ssrp_identity_config c = config(good_cert, good_key);
	assert_int_equal(ssrp_primary_users_read(&c, &users, &n), SSRP_OK);
	assert_non_null(users);
	assert_null(users[0]);
	assert_int_equal(n, 0);
	ssrp_primary_users_free(users);
	assert_int_equal(ssrp_primary_users_read(NULL, &users, &n), SSRP_OK);
	assert_int_equal(n, 0);
	ssrp_primary_users_free(users);

	const char *const list[] = {"CONTOSO\\alice", "bob@contoso.example", NULL};
	c.primary_users = list;
	assert_int_equal(ssrp_primary_users_read(&c, &users, &n), SSRP_OK);
	assert_int_equal(n, 2);
	assert_string_equal(users[0], "CONTOSO\\alice");
	assert_string_equal(users[1], "bob@contoso.example");
	assert_null(users[2]);
	assert_ptr_not_equal(users[0], list[0]); /* copies */
	ssrp_primary_users_free(users);

	const char *const bad[] = {"CONTOSO\\alice", "", NULL};
	c.primary_users = bad;
	expect_error(ssrp_primary_users_read(&c, &users, &n), SSRP_E_INVALID, "primary user 2",
		     NULL);
	assert_null(users);
	assert_int_equal(ssrp_primary_users_read(&c, NULL, &n), SSRP_E_INVALID);
	ssrp_primary_users_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registered),   cmocka_unit_test(test_join_types),
		cmocka_unit_test(test_not_registered), cmocka_unit_test(test_bad_device_id),
		cmocka_unit_test(test_store_path),
		cmocka_unit_test(test_wrong_cn),     cmocka_unit_test(test_wrong_issuer),
		cmocka_unit_test(test_key_mismatch), cmocka_unit_test(test_files),
		cmocka_unit_test(test_primary_users),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
