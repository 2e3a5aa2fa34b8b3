/* hal/identity.h from the client configuration's "device" member: the
 * portable backend, and on every platform but Windows the only one. The
 * certificate and key are checked with OpenSSL here (the subject CN is the
 * device id, the issuer CN MS-Organization-Access, the key is the
 * certificate's); on Windows identity_windows.c checks them with crypt32 and
 * asks the system when the configuration names no device. */
#include "hal/identity.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hal/guid.h"
#include "hal/cert_store_path.h"
#include "hal/identity_internal.h"
#include "hal/mem.h"
#include "ssrp/sys/error.h"

#ifndef _WIN32
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hal/fs.h"
#endif

const char *ssrp_join_type_name(ssrp_join_type t)
{
	switch (t) {
	case SSRP_JOIN_AZUREAD: return "azuread";
	case SSRP_JOIN_HYBRID: return "hybrid";
	case SSRP_JOIN_REGISTERED: return "registered";
	case SSRP_JOIN_NONE: break;
	}
	return "none";
}

int ssrp_identity_users_add(char ***users, size_t *n, const char *user)
{
	char **grown = ssrp_realloc(*users, (*n + 2) * sizeof *grown);
	if (!grown)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory reading the primary users");
	*users = grown;
	grown[*n] = NULL;
	if (!(grown[*n] = ssrp_strdup(user)))
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory reading the primary users");
	grown[++*n] = NULL;
	return SSRP_OK;
}

void ssrp_primary_users_free(char **users)
{
	for (char **p = users; p && *p; p++)
		ssrp_free(*p);
	ssrp_free(users);
}

int ssrp_identity_users_from_config(const ssrp_identity_config *cfg, char ***users, size_t *n)
{
	*users = NULL;
	*n = 0;
	char **list = ssrp_calloc(1, sizeof *list);
	size_t count = 0;
	if (!list)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory reading the primary users");
	for (const char *const *u = cfg ? cfg->primary_users : NULL; u && *u; u++) {
		if (!**u || strlen(*u) > 256) {
			ssrp_primary_users_free(list);
			return ssrp_error_set(SSRP_E_INVALID,
					      "the configuration's primary user %zu is empty or longer "
					      "than 256 bytes",
					      count + 1);
		}
		int rc = ssrp_identity_users_add(&list, &count, *u);
		if (rc) {
			ssrp_primary_users_free(list);
			return rc;
		}
	}
	*users = list;
	*n = count;
	return SSRP_OK;
}

/* The file exists, is a regular file and this account may read it. */
static int check_readable(const char *path, const char *what)
{
#ifndef _WIN32
	/* O_NONBLOCK: a FIFO in its place is refused, not waited on. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0) {
		struct stat st;
		int regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
		close(fd);
		if (!regular)
			return ssrp_error_set(SSRP_E_INVALID,
					      "the device %s file %s is not a regular file", what, path);
		return SSRP_OK;
	}
#else
	FILE *f = fopen(path, "rb");
	if (f) {
		fclose(f);
		return SSRP_OK;
	}
#endif
	int e = errno;
	if (e == ENOENT)
		return ssrp_error_set(SSRP_E_IO, "the device %s file %s does not exist", what, path);
	if (e == EACCES || e == EPERM)
		return ssrp_error_set(SSRP_E_PERMISSION,
				      "the device %s file %s cannot be read by this account (%s)", what,
				      path, strerror(e));
	return ssrp_error_set(SSRP_E_IO, "cannot open the device %s file %s: %s", what, path,
			      strerror(e));
}

static int copy_field(char *dst, size_t cap, const char *src, const char *what)
{
	size_t len = strlen(src);
	if (len >= cap)
		return ssrp_error_set(SSRP_E_INVALID,
				      "the configuration's %s is longer than %zu bytes", what, cap - 1);
	memcpy(dst, src, len + 1);
	return SSRP_OK;
}

int ssrp_identity_from_config(const ssrp_identity_config *cfg, ssrp_device_identity *out)
{
	memset(out, 0, sizeof *out);
	if (!cfg || !cfg->device_id)
		return ssrp_error_set(SSRP_E_NOTFOUND,
				      "this device is not registered in Entra ID: the configuration "
				      "names no device (a \"device\" member with device_id, cert_file "
				      "and key_file registers it)");
	char id[SSRP_GUID_BARE_LEN + 1];
	if (ssrp_guid_lower(id, cfg->device_id))
		return ssrp_error_set(SSRP_E_INVALID,
				      "the configuration's device.device_id \"%.64s\" is not a GUID "
				      "(Entra ID device ids look like "
				      "\"0d3c6b2a-1f4e-4c8b-9a6d-2e5f7b8c9d0e\")",
				      cfg->device_id);
	/* A certificate in a Windows store keeps its key there: no key file. */
	int in_store = ssrp_cert_store_path_is(cfg->cert_file);
	int has_key = cfg->key_file && *cfg->key_file;
	if (!cfg->cert_file || !*cfg->cert_file || (!in_store && !has_key))
		return ssrp_error_set(SSRP_E_INVALID,
				      "the configuration names device %s but not its certificate: "
				      "device.cert_file and device.key_file (or on Windows "
				      "device.cert_file alone as LocalMachine\\MY\\<thumbprint>) are "
				      "needed to talk to the Device Registration Service",
				      id);
	if (in_store && has_key)
		return ssrp_error_set(SSRP_E_INVALID,
				      "device.cert_file names a certificate in a Windows certificate "
				      "store (%.120s), whose key stays in the store: leave "
				      "device.key_file out",
				      cfg->cert_file);
	ssrp_join_type join = SSRP_JOIN_AZUREAD;
	if (cfg->join_type) {
		if (!strcmp(cfg->join_type, "azuread"))
			join = SSRP_JOIN_AZUREAD;
		else if (!strcmp(cfg->join_type, "hybrid"))
			join = SSRP_JOIN_HYBRID;
		else if (!strcmp(cfg->join_type, "registered"))
			join = SSRP_JOIN_REGISTERED;
		else
			return ssrp_error_set(SSRP_E_INVALID,
					      "the configuration's device.join_type must be "
					      "\"azuread\", \"hybrid\" or \"registered\", not \"%.40s\"",
					      cfg->join_type);
	}
	int rc;
	if ((rc = copy_field(out->cert, sizeof out->cert, cfg->cert_file, "device.cert_file")) ||
	    (rc = copy_field(out->key, sizeof out->key, in_store ? "" : cfg->key_file,
			     "device.key_file")) ||
	    (rc = copy_field(out->display_name, sizeof out->display_name,
			     cfg->display_name ? cfg->display_name : "", "device.display_name")))
		goto fail;
	if (cfg->tenant_id) {
		char tid[SSRP_GUID_BARE_LEN + 1];
		if (!ssrp_guid_lower(tid, cfg->tenant_id))
			memcpy(out->tenant_id, tid, sizeof tid);
		else if ((rc = copy_field(out->tenant_id, sizeof out->tenant_id, cfg->tenant_id,
					  "tenant_id")))
			goto fail;
	}
	if (in_store)
		rc = ssrp_identity_check_store(id, cfg->cert_file);
	else if (!(rc = check_readable(cfg->cert_file, "certificate")) &&
		 !(rc = check_readable(cfg->key_file, "key")))
		rc = ssrp_identity_check_files(id, cfg->cert_file, cfg->key_file);
	if (rc)
		goto fail;
	memcpy(out->device_id, id, sizeof id);
	out->join = join;
	snprintf(out->source, sizeof out->source, "config");
	return SSRP_OK;
fail:
	memset(out, 0, sizeof *out);
	return rc;
}

#ifndef _WIN32

/* The common name in name as UTF-8 into out; 0, or -1 when it has none. */
static int common_name(const X509_NAME *name, char *out, size_t cap)
{
	int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if (i < 0)
		return -1;
	const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
	unsigned char *utf8 = NULL;
	int len = e ? ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e)) : -1;
	if (len < 0)
		return -1;
	int ok = (size_t)len < cap && memchr(utf8, 0, (size_t)len) == NULL;
	if (ok) {
		memcpy(out, utf8, (size_t)len);
		out[len] = '\0';
	}
	OPENSSL_free(utf8);
	return ok ? 0 : -1;
}

/* A pass phrase callback that refuses: an encrypted key is an error, never
 * a prompt on the terminal of an unattended agent. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

int ssrp_identity_check_store(const char *device_id, const char *cert_path)
{
	(void)device_id;
	return ssrp_error_set(SSRP_E_NOTSUPPORTED,
			      "device.cert_file names a certificate in a Windows certificate store "
			      "(%.120s), which only Windows has: here give the certificate and its "
			      "key as PEM files (device.cert_file, device.key_file)",
			      cert_path);
}

int ssrp_identity_check_files(const char *device_id, const char *cert_file, const char *key_file)
{
	BIO *bio = BIO_new_file(cert_file, "r");
	X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, no_passphrase, NULL) : NULL;
	BIO_free(bio);
	ERR_clear_error();
	if (!cert)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "the device certificate file %s holds no PEM certificate",
				      cert_file);
	int rc = SSRP_OK;
	char cn[256];
	char id[SSRP_GUID_BARE_LEN + 1];
	if (common_name(X509_get_subject_name(cert), cn, sizeof cn) ||
	    ssrp_guid_lower(id, cn) || strcmp(id, device_id)) {
		rc = ssrp_error_set(SSRP_E_INVALID,
				    "the device certificate in %s is not this device's: its subject "
				    "is not CN=%s (the configured device.device_id)",
				    cert_file, device_id);
		goto out;
	}
	if (common_name(X509_get_issuer_name(cert), cn, sizeof cn) ||
	    strcmp(cn, SSRP_IDENTITY_ISSUER_CN)) {
		rc = ssrp_error_set(SSRP_E_INVALID,
				    "the certificate in %s is no Entra ID device certificate: its "
				    "issuer is not CN=" SSRP_IDENTITY_ISSUER_CN,
				    cert_file);
		goto out;
	}
	/* The key is a secret: read it as one (private file, zeroed after). */
	char *pem = NULL;
	size_t pem_len = 0;
	if ((rc = ssrp_secret_file_read(key_file, &pem, &pem_len)))
		goto out;
	bio = BIO_new_mem_buf(pem, (int)pem_len);
	EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
	BIO_free(bio);
	ssrp_free_secret(pem, pem_len + 1);
	if (!key)
		rc = ssrp_error_set(SSRP_E_FORMAT,
				    "the device key file %s holds no unencrypted PEM private key",
				    key_file);
	else if (X509_check_private_key(cert, key) != 1)
		rc = ssrp_error_set(SSRP_E_BAD_KEY,
				    "the device key in %s does not belong to the certificate in %s",
				    key_file, cert_file);
	EVP_PKEY_free(key);
	ERR_clear_error();
out:
	X509_free(cert);
	return rc;
}

#endif
