#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>

#include "server/device_cert.h"

/* GUIDs in any spelling: letters, digits, dashes, braces. */
static int plain_device_id(const char *cn)
{
	if (!*cn)
		return 0;
	for (const char *p = cn; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '{' && *p != '}')
			return 0;
	return 1;
}

static int refuse_unverified(unsigned int status, char *reason, size_t cap)
{
	gnutls_datum_t txt = {NULL, 0};
	if (status &&
	    gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &txt, 0) >= 0 &&
	    txt.data)
		snprintf(reason, cap, "the client certificate does not verify against the device CA: %s",
			 (const char *)txt.data);
	else
		snprintf(reason, cap, "the client certificate does not verify against the device CA");
	gnutls_free(txt.data);
	return 0;
}

/* The leaf's issuer and subject CNs. */
static int check_names(const gnutls_datum_t *leaf, char *cn, size_t cn_cap, char *reason,
		       size_t cap)
{
	gnutls_x509_crt_t crt;
	if (gnutls_x509_crt_init(&crt) < 0) {
		snprintf(reason, cap, "out of memory");
		return 0;
	}
	char issuer[256] = "";
	size_t il = sizeof issuer, cl = cn_cap;
	int ok = 0;
	cn[0] = '\0';
	if (gnutls_x509_crt_import(crt, leaf, GNUTLS_X509_FMT_DER) < 0)
		snprintf(reason, cap, "the client certificate cannot be read");
	else if (gnutls_x509_crt_get_issuer_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, issuer,
						       &il) < 0 ||
		 strcmp(issuer, SSRP_DEVICE_ISSUER_CN) != 0)
		snprintf(reason, cap,
			 "the client certificate was not issued by " SSRP_DEVICE_ISSUER_CN
			 " (issuer CN '%.100s')",
			 issuer);
	else if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &cl) < 0 ||
		 !cn[0])
		snprintf(reason, cap, "the client certificate has no subject CN (the device id)");
	else if (!plain_device_id(cn))
		snprintf(reason, cap, "the client certificate's subject CN is not a device id");
	else
		ok = 1;
	if (!ok)
		cn[0] = '\0';
	gnutls_x509_crt_deinit(crt);
	return ok;
}

int ssrp_device_cert_check(struct MHD_Connection *conn, char *cn, size_t cn_cap, char *reason,
			   size_t reason_cap)
{
	cn[0] = '\0';
	reason[0] = '\0';
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!ci || !ci->tls_session) {
		snprintf(reason, reason_cap, "no TLS session");
		return 0;
	}
	gnutls_session_t session = (gnutls_session_t)ci->tls_session;
	unsigned int n = 0, status = 0;
	const gnutls_datum_t *peers = gnutls_certificate_type_get(session) == GNUTLS_CRT_X509
					      ? gnutls_certificate_get_peers(session, &n)
					      : NULL;
	if (!peers || n == 0) {
		snprintf(reason, reason_cap, "no client certificate was presented");
		return 0;
	}
	gnutls_typed_vdata_st purpose = {
		.type = GNUTLS_DT_KEY_PURPOSE_OID,
		.data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT,
	};
	if (gnutls_certificate_verify_peers(session, &purpose, 1, &status) < 0 || status != 0)
		return refuse_unverified(status, reason, reason_cap);
	return check_names(&peers[0], cn, cn_cap, reason, reason_cap);
}
