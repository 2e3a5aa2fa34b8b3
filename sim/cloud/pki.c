/* Test CA, server and device certificates for the simulated cloud (pki.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "hal/fs.h"
#include "hal/guid.h"
#include "sim/cloud/jwt.h"
#include "sim/cloud/pki.h"
#include "ssrp/sys/error.h"

#define DAY (24L * 3600L)
#define VALID_DAYS 3650L
/* Entra's device-certificate extensions (see microsoft-wire.md §3). */
#define OID_DEVICE_ID "1.2.840.113556.1.5.284.2"
#define OID_TENANT_ID "1.2.840.113556.1.5.284.5"

static const char *const fixed_hosts[] = {
	"login.microsoftonline.com",
	"graph.microsoft.com",
	"enterpriseregistration.windows.net",
	"myaccount.microsoft.com",
	"*.azure-automation.net",
	/* A wildcard covers one label only, so webhook hosts
	 * ("<guid>.webhook.eus.azure-automation.net") need one per region. */
	"*.webhook.eus.azure-automation.net",
	"*.webhook.eus2.azure-automation.net",
	"*.webhook.wus.azure-automation.net",
	"*.webhook.wus2.azure-automation.net",
	"*.webhook.cus.azure-automation.net",
	"*.webhook.scus.azure-automation.net",
	"*.webhook.ncus.azure-automation.net",
	"*.webhook.we.azure-automation.net",
	"*.webhook.ne.azure-automation.net",
	"*.webhook.uks.azure-automation.net",
	"localhost",
};

static int ossl_error(const char *what)
{
	char buf[256] = "";
	unsigned long e = ERR_get_error();
	if (e)
		ERR_error_string_n(e, buf, sizeof buf);
	ERR_clear_error();
	return ssrp_error_set(SSRP_E_GENERIC, "%s failed%s%s", what, buf[0] ? ": " : "", buf);
}

static int write_file(const char *path, const char *data, size_t len, mode_t mode)
{
	return ssrp_fs_write_atomic(path, data, len, mode);
}

/* The contents of a memory BIO as a malloc'd NUL-terminated string. */
static char *bio_string(BIO *b, size_t *len_out)
{
	char *data;
	long n = BIO_get_mem_data(b, &data);
	if (n < 0)
		return NULL;
	char *s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	if (len_out)
		*len_out = (size_t)n;
	return s;
}

static void free_secret(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

static char *key_pem(EVP_PKEY *key)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL;
	if (b && PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL))
		s = bio_string(b, NULL);
	BIO_free(b); /* BIO_s_mem frees its buffer; it held the key only briefly */
	return s;
}

static char *certs_pem(X509 *a, X509 *b)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *s = NULL;
	if (bio && PEM_write_bio_X509(bio, a) && (!b || PEM_write_bio_X509(bio, b)))
		s = bio_string(bio, NULL);
	BIO_free(bio);
	return s;
}

static int write_key(const char *path, EVP_PKEY *key)
{
	char *pem = key_pem(key);
	if (!pem)
		return ossl_error("PEM encoding a private key");
	int rc = write_file(path, pem, strlen(pem), 0600);
	free_secret(pem);
	return rc;
}

static int write_certs(const char *path, X509 *a, X509 *b)
{
	char *pem = certs_pem(a, b);
	if (!pem)
		return ossl_error("PEM encoding a certificate");
	int rc = write_file(path, pem, strlen(pem), 0644);
	free(pem);
	return rc;
}

static EVP_PKEY *new_key(void)
{
	EVP_PKEY *k = NULL;
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
	if (c && EVP_PKEY_keygen_init(c) > 0 &&
	    EVP_PKEY_CTX_set_ec_paramgen_curve_nid(c, NID_X9_62_prime256v1) > 0)
		EVP_PKEY_keygen(c, &k);
	EVP_PKEY_CTX_free(c);
	return k;
}

/* Entra's MS-Organization-Access device keys are RSA-2048 (and Windows'
 * Schannel, as Wine's, loads a PFX client key only in that form). Each
 * device has its own key, as on real devices; making one takes tens of
 * milliseconds, so a large tenant that needs no device certificates is
 * started with --device-certs. */
static EVP_PKEY *new_device_key(void)
{
	return EVP_RSA_gen(2048);
}

/* devices/<deviceId>.pfx: the key and the certificate in the PKCS#12 form
 * older Windows and Wine still load: PBE-SHA1-3DES for both, a SHA-1 MAC.
 * Without the intermediate: Schannel clients (libcurl's among them) take the
 * store's first certificate as the client's, and DRS holds the
 * intermediate anyway. The password is empty: the file protects the key as
 * much as the .key file beside it does (mode 0600). */
static int write_pfx(const char *path, EVP_PKEY *key, X509 *cert, const char *name)
{
	PKCS12 *p12 = PKCS12_create(CLOUD_PKI_PFX_PASSWORD, name, key, cert, NULL,
				    NID_pbe_WithSHA1And3_Key_TripleDES_CBC,
				    NID_pbe_WithSHA1And3_Key_TripleDES_CBC, PKCS12_DEFAULT_ITER, -1, 0);
	unsigned char *der = NULL;
	int len = 0;
	if (p12 &&
	    PKCS12_set_mac(p12, CLOUD_PKI_PFX_PASSWORD, -1, NULL, 0, PKCS12_DEFAULT_ITER, EVP_sha1()) == 1)
		len = i2d_PKCS12(p12, &der);
	PKCS12_free(p12);
	if (len <= 0) {
		OPENSSL_free(der);
		return ossl_error("making a device PFX");
	}
	int rc = write_file(path, (const char *)der, (size_t)len, 0600);
	OPENSSL_clear_free(der, (size_t)len);
	return rc;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -1;
	int ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

/* An Entra GUID extension: an OCTET STRING holding the 16 GUID bytes in
 * Microsoft's mixed-endian layout, itself DER-wrapped (04 10 ...). */
static int add_guid_ext(X509 *x, const char *oid, const char *guid_text)
{
	uint8_t guid[SSRP_GUID_LEN];
	/* A seeded tenant may use ids that are not GUIDs: no extension then. */
	if (ssrp_guid_parse(guid, guid_text) != SSRP_OK)
		return 0;
	unsigned char der[2 + SSRP_GUID_LEN] = {0x04, 0x10};
	memcpy(der + 2, guid, sizeof guid);
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;
	int ok = obj && os && ASN1_OCTET_STRING_set(os, der, (int)sizeof der) &&
		 (ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os)) != NULL &&
		 X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
	return ok ? 0 : -1;
}

/* An unsigned certificate for key with subject CN=cn, issued by issuer (or
 * self-issued); extensions and the signature come after. */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer)
{
	X509 *x = X509_new();
	if (!x)
		return NULL;
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	X509_NAME *name = X509_NAME_new();
	int ok = RAND_bytes(serial, sizeof serial) == 1;
	serial[0] &= 0x7f; /* positive */
	ok = ok && (bn = BN_bin2bn(serial, sizeof serial, NULL)) != NULL &&
	     BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL && X509_set_version(x, 2) &&
	     name &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
					-1, 0) &&
	     X509_set_subject_name(x, name) &&
	     X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) &&
	     X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
	     X509_time_adj_ex(X509_getm_notAfter(x), (int)VALID_DAYS, 0, NULL) &&
	     X509_set_pubkey(x, key);
	BN_free(bn);
	X509_NAME_free(name);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static int sign(X509 *x, EVP_PKEY *key)
{
	return X509_sign(x, key, EVP_sha256()) > 0 ? 0 : -1;
}

static int path_in(char *out, size_t cap, const char *dir, const char *name)
{
	if ((size_t)snprintf(out, cap, "%s/%s", dir, name) >= cap)
		return ssrp_error_set(SSRP_E_INVALID, "path too long: %s/%s", dir, name);
	return SSRP_OK;
}

/* Load cert and key files; 0 when both exist, parse and belong together. */
static int load_pair(const char *cert_path, const char *key_path, X509 **cert, EVP_PKEY **key)
{
	*cert = NULL;
	*key = NULL;
	FILE *f = fopen(cert_path, "r");
	if (f) {
		*cert = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	f = fopen(key_path, "r");
	if (f) {
		*key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	ERR_clear_error();
	if (*cert && *key && X509_check_private_key(*cert, *key) == 1)
		return 0;
	ERR_clear_error();
	X509_free(*cert);
	EVP_PKEY_free(*key);
	*cert = NULL;
	*key = NULL;
	return -1;
}

static int make_ca(cloud_pki *pki)
{
	char cert_path[1200], key_path[1200];
	int rc = path_in(cert_path, sizeof cert_path, pki->dir, "ca.pem");
	if (rc || (rc = path_in(key_path, sizeof key_path, pki->dir, "ca.key")))
		return rc;
	if (load_pair(cert_path, key_path, &pki->ca, &pki->ca_key) == 0)
		return SSRP_OK;
	pki->fresh_ca = 1;
	if (!(pki->ca_key = new_key()) ||
	    !(pki->ca = make_cert(CLOUD_PKI_CA_CN, pki->ca_key, NULL)) ||
	    add_ext(pki->ca, NULL, NID_basic_constraints, "critical,CA:TRUE") ||
	    add_ext(pki->ca, NULL, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    add_ext(pki->ca, NULL, NID_subject_key_identifier, "hash") || sign(pki->ca, pki->ca_key))
		return ossl_error("making the test CA");
	if ((rc = write_key(key_path, pki->ca_key)) || (rc = write_certs(cert_path, pki->ca, NULL)))
		return rc;
	return SSRP_OK;
}

static int make_issuer(cloud_pki *pki)
{
	char cert_path[1200], key_path[1200];
	int rc = path_in(cert_path, sizeof cert_path, pki->dir, "msorg-ca.pem");
	if (rc || (rc = path_in(key_path, sizeof key_path, pki->dir, "msorg-ca.key")))
		return rc;
	if (!pki->fresh_ca && load_pair(cert_path, key_path, &pki->issuer, &pki->issuer_key) == 0) {
		EVP_PKEY *ca_pub = X509_get0_pubkey(pki->ca);
		if (X509_verify(pki->issuer, ca_pub) == 1)
			return SSRP_OK;
		ERR_clear_error();
		X509_free(pki->issuer);
		EVP_PKEY_free(pki->issuer_key);
		pki->issuer = NULL;
		pki->issuer_key = NULL;
	}
	pki->fresh_ca = 1; /* a new intermediate voids the device certificates too */
	if (!(pki->issuer_key = new_key()) ||
	    !(pki->issuer = make_cert(CLOUD_PKI_DEVICE_ISSUER_CN, pki->issuer_key, pki->ca)) ||
	    add_ext(pki->issuer, pki->ca, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
	    add_ext(pki->issuer, pki->ca, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    add_ext(pki->issuer, pki->ca, NID_subject_key_identifier, "hash") ||
	    add_ext(pki->issuer, pki->ca, NID_authority_key_identifier, "keyid:always") ||
	    sign(pki->issuer, pki->ca_key))
		return ossl_error("making the MS-Organization-Access intermediate");
	if ((rc = write_key(key_path, pki->issuer_key)) ||
	    (rc = write_certs(cert_path, pki->issuer, NULL)))
		return rc;
	return SSRP_OK;
}

/* A host name fit for a dNSName SAN (and for the config syntax). */
static int host_ok(const char *h)
{
	size_t n = strlen(h);
	if (n == 0 || n > 253)
		return 0;
	for (const char *p = h; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '.' || (*p == '*' && p == h)))
			return 0;
	return 1;
}

/* A TLS server certificate signed by the CA for the subjectAltName san,
 * written to dir/<base>.pem (0644) and dir/<base>.key (0600); the PEM texts
 * are returned (the key's is a secret). */
static int issue_server(cloud_pki *pki, const char *cn, const char *san, const char *base, char **cert_pem,
			char **key_pem_out)
{
	EVP_PKEY *key = new_key();
	X509 *x = key ? make_cert(cn, key, pki->ca) : NULL;
	int bad = !x || add_ext(x, pki->ca, NID_basic_constraints, "critical,CA:FALSE") ||
		  add_ext(x, pki->ca, NID_key_usage, "critical,digitalSignature") ||
		  add_ext(x, pki->ca, NID_ext_key_usage, "serverAuth") ||
		  add_ext(x, pki->ca, NID_subject_alt_name, san) ||
		  add_ext(x, pki->ca, NID_authority_key_identifier, "keyid:always") ||
		  sign(x, pki->ca_key);
	int rc = SSRP_OK;
	if (bad)
		rc = ossl_error("making a server certificate");
	else if (!(*cert_pem = certs_pem(x, NULL)) || !(*key_pem_out = key_pem(key)))
		rc = ossl_error("PEM encoding a server certificate");
	char path[1200], file[256];
	snprintf(file, sizeof file, "%s.pem", base);
	if (rc == SSRP_OK && (rc = path_in(path, sizeof path, pki->dir, file)) == SSRP_OK)
		rc = write_file(path, *cert_pem, strlen(*cert_pem), 0644);
	snprintf(file, sizeof file, "%s.key", base);
	if (rc == SSRP_OK && (rc = path_in(path, sizeof path, pki->dir, file)) == SSRP_OK)
		rc = write_file(path, *key_pem_out, strlen(*key_pem_out), 0600);
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

static int make_server(cloud_pki *pki, const char *const *extra, size_t n_extra)
{
	size_t cap = 64;
	for (size_t i = 0; i < sizeof fixed_hosts / sizeof *fixed_hosts; i++)
		cap += strlen(fixed_hosts[i]) + 5;
	for (size_t i = 0; i < n_extra; i++)
		cap += strlen(extra[i]) + 5;
	char *san = malloc(cap);
	if (!san)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory for the server certificate");
	size_t len = 0;
	for (size_t i = 0; i < sizeof fixed_hosts / sizeof *fixed_hosts; i++)
		len += (size_t)snprintf(san + len, cap - len, "DNS:%s,", fixed_hosts[i]);
	for (size_t i = 0; i < n_extra; i++) {
		if (!host_ok(extra[i])) {
			free(san);
			return ssrp_error_set(SSRP_E_INVALID, "'%s' is not a host name", extra[i]);
		}
		len += (size_t)snprintf(san + len, cap - len, "DNS:%s,", extra[i]);
	}
	snprintf(san + len, cap - len, "IP:127.0.0.1");
	int rc = issue_server(pki, "ssrp simulated cloud server", san, "server", &pki->server_cert_pem,
			      &pki->server_key_pem);
	free(san);
	return rc;
}

int cloud_pki_service_cert(cloud_pki *pki, const char *name, const char *host)
{
	if (!host_ok(host) || strchr(host, '*'))
		return ssrp_error_set(SSRP_E_INVALID, "'%s' is not a host name", host);
	char san[400];
	snprintf(san, sizeof san, "DNS:%s,DNS:localhost,IP:127.0.0.1", host);
	char *cert = NULL, *key = NULL;
	int rc = issue_server(pki, host, san, name, &cert, &key);
	free(cert);
	free_secret(key);
	return rc;
}

int cloud_pki_setup(cloud_pki *pki, const char *dir, const char *const *extra_hosts, size_t n_extra)
{
	memset(pki, 0, sizeof *pki);
	if (strlen(dir) >= sizeof pki->dir - 64)
		return ssrp_error_set(SSRP_E_INVALID, "directory path too long: %s", dir);
	strcpy(pki->dir, dir);
	snprintf(pki->ca_file, sizeof pki->ca_file, "%s/ca.pem", dir);
	snprintf(pki->device_dir, sizeof pki->device_dir, "%s/devices", dir);
	int rc;
	if ((rc = make_ca(pki)) || (rc = make_issuer(pki)) ||
	    (rc = make_server(pki, extra_hosts, n_extra)))
		goto fail;
	if (mkdir(pki->device_dir, 0700) == -1 && errno != EEXIST) {
		rc = ssrp_error_set(SSRP_E_IO, "cannot create %s: %s", pki->device_dir,
				    strerror(errno));
		goto fail;
	}
	if (!(pki->trust_pem = certs_pem(pki->ca, pki->issuer))) {
		rc = ossl_error("PEM encoding the CA");
		goto fail;
	}
	char path[1200];
	if ((rc = path_in(path, sizeof path, pki->dir, "device-ca.pem")) ||
	    (rc = write_file(path, pki->trust_pem, strlen(pki->trust_pem), 0644)))
		goto fail;
	return SSRP_OK;
fail:
	cloud_pki_free(pki);
	return rc;
}

void cloud_pki_free(cloud_pki *pki)
{
	if (!pki)
		return;
	free(pki->server_cert_pem);
	free_secret(pki->server_key_pem);
	free(pki->trust_pem);
	X509_free(pki->ca);
	EVP_PKEY_free(pki->ca_key);
	X509_free(pki->issuer);
	EVP_PKEY_free(pki->issuer_key);
	memset(pki, 0, sizeof *pki);
}

int cloud_pki_device_paths(const cloud_pki *pki, const char *device_id, char *cert, size_t cert_cap,
			   char *key, size_t key_cap)
{
	for (const char *p = device_id; *p; p++)
		if (*p == '/' || *p == '.' || (unsigned char)*p < 0x20)
			return ssrp_error_set(SSRP_E_INVALID, "bad device id '%s'", device_id);
	if ((size_t)snprintf(cert, cert_cap, "%s/%s.pem", pki->device_dir, device_id) >= cert_cap ||
	    (size_t)snprintf(key, key_cap, "%s/%s.key", pki->device_dir, device_id) >= key_cap)
		return ssrp_error_set(SSRP_E_INVALID, "path too long for device %s", device_id);
	return SSRP_OK;
}

static int device_pfx_path(const cloud_pki *pki, const char *device_id, char *pfx, size_t cap)
{
	char cert[1200], key[1200];
	int rc = cloud_pki_device_paths(pki, device_id, cert, sizeof cert, key, sizeof key);
	if (rc == SSRP_OK &&
	    (size_t)snprintf(pfx, cap, "%s/%s.pfx", pki->device_dir, device_id) >= cap)
		rc = ssrp_error_set(SSRP_E_INVALID, "path too long for device %s", device_id);
	return rc;
}

/* A device's certificate and key from an earlier start, kept when they are
 * RSA and were issued by the current intermediate (an older simulator's EC
 * device certificates are issued anew). */
static int load_device(cloud_pki *pki, const char *cert_path, const char *key_path, X509 **cert,
		       EVP_PKEY **key)
{
	if (pki->fresh_ca || load_pair(cert_path, key_path, cert, key) != 0)
		return -1;
	if (EVP_PKEY_get_base_id(*key) == EVP_PKEY_RSA &&
	    X509_verify(*cert, X509_get0_pubkey(pki->issuer)) == 1)
		return 0;
	ERR_clear_error();
	X509_free(*cert);
	EVP_PKEY_free(*key);
	*cert = NULL;
	*key = NULL;
	return -1;
}

int cloud_pki_device_cert(cloud_pki *pki, const char *device_id, const char *tenant_id)
{
	char cert_path[1200], key_path[1200], pfx_path[1200];
	int rc = cloud_pki_device_paths(pki, device_id, cert_path, sizeof cert_path, key_path,
					sizeof key_path);
	if (rc || (rc = device_pfx_path(pki, device_id, pfx_path, sizeof pfx_path)))
		return rc;
	X509 *x = NULL;
	EVP_PKEY *key = NULL;
	if (load_device(pki, cert_path, key_path, &x, &key) == 0) {
		struct stat st;
		if (stat(pfx_path, &st) != 0)
			rc = write_pfx(pfx_path, key, x, device_id);
		X509_free(x);
		EVP_PKEY_free(key);
		return rc;
	}
	key = new_device_key();
	x = key ? make_cert(device_id, key, pki->issuer) : NULL;
	int bad = !x || add_ext(x, pki->issuer, NID_basic_constraints, "critical,CA:FALSE") ||
		  add_ext(x, pki->issuer, NID_key_usage, "critical,digitalSignature,keyEncipherment") ||
		  add_ext(x, pki->issuer, NID_ext_key_usage, "clientAuth") ||
		  add_ext(x, pki->issuer, NID_authority_key_identifier, "keyid:always") ||
		  add_guid_ext(x, OID_DEVICE_ID, device_id) ||
		  (tenant_id && add_guid_ext(x, OID_TENANT_ID, tenant_id)) ||
		  sign(x, pki->issuer_key);
	if (bad)
		rc = ossl_error("making a device certificate");
	else if ((rc = write_key(key_path, key)) == SSRP_OK &&
		 (rc = write_certs(cert_path, x, pki->issuer)) == SSRP_OK)
		rc = write_pfx(pfx_path, key, x, device_id);
	X509_free(x);
	EVP_PKEY_free(key);
	if (rc && bad)
		ssrp_error_prefix(rc, "device %s", device_id);
	return rc;
}

static EVP_PKEY *load_or_make_rsa(const char *path, int *made)
{
	EVP_PKEY *key = NULL;
	*made = 0;
	FILE *f = fopen(path, "r");
	if (f) {
		key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
		ERR_clear_error();
		if (key && EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
			EVP_PKEY_free(key);
			key = NULL;
		}
	}
	if (!key) {
		key = EVP_RSA_gen(2048);
		*made = 1;
	}
	return key;
}

int cloud_pki_token_signer(const char *dir, EVP_PKEY **key_out, char kid[64], char **x5c_b64)
{
	char key_path[1200], cert_path[1200];
	*key_out = NULL;
	*x5c_b64 = NULL;
	int rc = path_in(key_path, sizeof key_path, dir, "token-key.pem");
	if (rc || (rc = path_in(cert_path, sizeof cert_path, dir, "token-cert.pem")))
		return rc;
	int made;
	EVP_PKEY *key = load_or_make_rsa(key_path, &made);
	if (!key)
		return ossl_error("making the token signing key");
	if (made && (rc = write_key(key_path, key))) {
		EVP_PKEY_free(key);
		return rc;
	}
	X509 *cert = NULL;
	FILE *f = made ? NULL : fopen(cert_path, "r");
	if (f) {
		cert = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	ERR_clear_error();
	if (cert && X509_check_private_key(cert, key) != 1) {
		X509_free(cert);
		cert = NULL;
	}
	ERR_clear_error();
	if (!cert) {
		if (!(cert = make_cert("ssrp simulated token signing", key, NULL)) || sign(cert, key)) {
			X509_free(cert);
			EVP_PKEY_free(key);
			return ossl_error("making the token signing certificate");
		}
		if ((rc = write_certs(cert_path, cert, NULL))) {
			X509_free(cert);
			EVP_PKEY_free(key);
			return rc;
		}
	}
	unsigned char md[EVP_MAX_MD_SIZE], *der = NULL;
	unsigned int ml = 0;
	int dl = i2d_X509(cert, &der);
	char *b64 = dl > 0 ? malloc(((size_t)dl + 2) / 3 * 4 + 1) : NULL;
	int ok = b64 && X509_digest(cert, EVP_sha1(), md, &ml) == 1 &&
		 EVP_EncodeBlock((unsigned char *)b64, der, dl) > 0;
	OPENSSL_free(der);
	X509_free(cert);
	char *thumb = ok ? cloud_b64url_encode(md, ml) : NULL;
	ok = thumb != NULL;
	snprintf(kid, 64, "%s", ok ? thumb : "");
	free(thumb);
	if (!ok) {
		free(b64);
		EVP_PKEY_free(key);
		return ossl_error("encoding the token signing certificate");
	}
	*key_out = key;
	*x5c_b64 = b64;
	return SSRP_OK;
}
