/* The device's TLS client certificate on an HTTPS server's connection
 * (libmicrohttpd over GnuTLS), checked as Entra ID's services check an
 * MS-Organization-Access certificate: it verifies against the server's
 * trusted CA for TLS client use, was issued by "MS-Organization-Access",
 * and its subject CN is a device id. Shared by the association service
 * (ssrp-assocd) and the simulated cloud (libssrp-sim); not in libssrp, which
 * carries no server stack. */
#ifndef SSRP_SERVER_DEVICE_CERT_H
#define SSRP_SERVER_DEVICE_CERT_H

#include <stddef.h>

struct MHD_Connection;

#define SSRP_DEVICE_ISSUER_CN "MS-Organization-Access"

/* 1 with the subject CN in cn (NUL-terminated, as the certificate spells
 * it) when the connection's certificate passes; 0 with a sentence in reason
 * saying why not (no certificate, does not verify, wrong issuer, no CN or
 * not a device id). */
int ssrp_device_cert_check(struct MHD_Connection *conn, char *cn, size_t cn_cap, char *reason,
			   size_t reason_cap);

#endif
