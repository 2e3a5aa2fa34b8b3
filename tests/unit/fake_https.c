#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tests/unit/fake_https.h"

static char *pem_of(int is_key, void *obj)
{
	BIO *b = BIO_new(BIO_s_mem());
	if (is_key)
		PEM_write_bio_PrivateKey(b, obj, NULL, NULL, 0, NULL, NULL);
	else
		PEM_write_bio_X509(b, obj);
	char *data;
	long n = BIO_get_mem_data(b, &data);
	char *s = malloc((size_t)n + 1);
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	BIO_free(b);
	return s;
}

/* A self-signed P-256 certificate for the names the tests reach. */
static void make_cert(fake_https *s)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"fake https", -1,
				   -1, 0);
	X509_set_issuer_name(x, n);
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(
		NULL, &ctx, NID_subject_alt_name,
		"DNS:localhost,DNS:graph.microsoft.com,DNS:login.microsoftonline.com,"
		"DNS:enterpriseregistration.windows.net");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	s->cert_pem = pem_of(0, x);
	s->key_pem = pem_of(1, k);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* A request's body as it arrives. */
typedef struct conn {
	char *body;
	size_t len;
} conn;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	(void)version;
	fake_https *s = cls;
	conn *st = *con_cls;
	if (!st) {
		*con_cls = calloc(1, sizeof(conn));
		return *con_cls ? MHD_YES : MHD_NO;
	}
	if (*upload_size) {
		char *grown = realloc(st->body, st->len + *upload_size + 1);
		if (!grown)
			return MHD_NO;
		st->body = grown;
		memcpy(st->body + st->len, upload, *upload_size);
		st->len += *upload_size;
		st->body[st->len] = '\0';
		*upload_size = 0;
		return MHD_YES;
	}
	return s->handler(s->ctx, c, url, method, st->body ? st->body : "");
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	conn *st = *con_cls;
	if (st) {
		free(st->body);
		free(st);
	}
	*con_cls = NULL;
}

int fake_https_start(fake_https *s, const char *dir, fake_https_handler handler, void *ctx,
		     unsigned flags)
{
	memset(s, 0, sizeof *s);
	s->handler = handler;
	s->ctx = ctx;
	make_cert(s);
	snprintf(s->ca_path, sizeof s->ca_path, "%s/ca.pem", dir);
	FILE *f = fopen(s->ca_path, "w");
	if (!f)
		return -1;
	fputs(s->cert_pem, f);
	fclose(f);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	unsigned mode = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS;
	if (flags & FAKE_HTTPS_THREAD_PER_CONNECTION)
		mode |= MHD_USE_THREAD_PER_CONNECTION;
	s->daemon = MHD_start_daemon(mode, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
				     (struct sockaddr *)&sa, MHD_OPTION_HTTPS_MEM_KEY, s->key_pem,
				     MHD_OPTION_HTTPS_MEM_CERT, s->cert_pem,
				     MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
	if (!s->daemon)
		return -1;
	s->port = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT)->port;
	return 0;
}

void fake_https_stop(fake_https *s)
{
	if (s->daemon)
		MHD_stop_daemon(s->daemon);
	s->daemon = NULL;
	free(s->cert_pem);
	free(s->key_pem);
	s->cert_pem = s->key_pem = NULL;
	if (s->ca_path[0])
		unlink(s->ca_path);
}

enum MHD_Result fake_https_reply(struct MHD_Connection *c, unsigned status, const char *body,
				 const char *request_id, const char *retry_after)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
								 MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, "request-id", request_id);
	if (retry_after)
		MHD_add_response_header(r, "Retry-After", retry_after);
	enum MHD_Result ok = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ok;
}
