/* The simulated cloud's certificates (OpenSSL), all under one directory:
 *
 *   ca.pem, ca.key          "ssrp simulated cloud CA" (EC P-256, self-signed):
 *                           what clients trust (SSRP_SIM_CA)
 *   msorg-ca.pem, .key      the intermediate "CN=MS-Organization-Access",
 *                           signed by the CA, issuing device certificates
 *   server.pem, server.key  the TLS server certificate, signed by the CA, for
 *                           login.microsoftonline.com, graph.microsoft.com,
 *                           enterpriseregistration.windows.net,
 *                           *.azure-automation.net, *.webhook.<region>.azure-
 *                           automation.net for the usual regions, every extra
 *                           host given (the tenant's webhook hosts), localhost
 *                           and IP 127.0.0.1
 *   device-ca.pem           the CA then the intermediate: what a service that
 *                           authenticates devices trusts
 *   devices/<deviceId>.pem  a device certificate: subject CN=<deviceId>, issuer
 *                           CN=MS-Organization-Access, clientAuth, with the
 *                           DeviceId (1.2.840.113556.1.5.284.2) and TenantId
 *                           (.284.5) extensions as Entra writes them; the file
 *                           holds the certificate followed by the intermediate;
 *                           its key is RSA-2048, as Entra's are
 *   devices/<deviceId>.key  its private key
 *   devices/<deviceId>.pfx  the key and the certificate as PKCS#12
 *                           (PBE-SHA1-3DES, SHA-1 MAC, empty password: what
 *                           Windows' and Wine's Schannel load), 0600
 *   token-key.pem           the RSA key that signs tokens (0600)
 *   token-cert.pem          its self-signed certificate "ssrp simulated token
 *                           signing": what the JWKS publishes (x5c)
 * Keys are PKCS#8 PEM, mode 0600; certificates 0644. The CA and the
 * intermediate are kept across restarts on the same directory (so clients'
 * trust and device certificates stay valid); the server certificate is made
 * anew at every start. */
#ifndef SSRP_SIM_CLOUD_PKI_H
#define SSRP_SIM_CLOUD_PKI_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define CLOUD_PKI_CA_CN "ssrp simulated cloud CA"
#define CLOUD_PKI_DEVICE_ISSUER_CN "MS-Organization-Access"
#define CLOUD_PKI_PFX_PASSWORD ""

typedef struct cloud_pki {
	char dir[1024];
	char ca_file[1100];     /* dir/ca.pem */
	char device_dir[1100];  /* dir/devices */
	char *server_cert_pem;  /* malloc'd, for the TLS server */
	char *server_key_pem;   /* malloc'd; zeroed when freed */
	char *trust_pem;        /* CA then intermediate: what client certificates chain to */
	X509 *ca;
	EVP_PKEY *ca_key;
	X509 *issuer;           /* MS-Organization-Access */
	EVP_PKEY *issuer_key;
	int fresh_ca;           /* the CA was made by this setup (old device certs are void) */
} cloud_pki;

/* Load or make the CA and the intermediate in dir, and make the server
 * certificate for the fixed host names plus extra_hosts[0..n_extra). */
int cloud_pki_setup(cloud_pki *pki, const char *dir, const char *const *extra_hosts, size_t n_extra);
void cloud_pki_free(cloud_pki *pki);

/* Write devices/<device_id>.pem, .key and .pfx unless they exist already
 * from the same intermediate (a missing .pfx is made from the other two);
 * tenant_id goes into the TenantId extension (may be NULL). */
int cloud_pki_device_cert(cloud_pki *pki, const char *device_id, const char *tenant_id);

/* A TLS server certificate for another service on this machine (the
 * association service): dir/<name>.pem and .key for host, localhost and
 * 127.0.0.1, signed by the CA. */
int cloud_pki_service_cert(cloud_pki *pki, const char *name, const char *host);

/* Load or make dir/token-key.pem and dir/token-cert.pem (both kept across
 * restarts, so issued tokens stay valid; a key without a matching
 * certificate gets a new certificate). *key is the RSA key, kid its
 * certificate's x5t (base64url SHA-1 thumbprint, as Entra names its keys),
 * *x5c_b64 the certificate's DER in standard base64 (malloc'd). */
int cloud_pki_token_signer(const char *dir, EVP_PKEY **key, char kid[64], char **x5c_b64);

/* Paths of a device's certificate and key files. */
int cloud_pki_device_paths(const cloud_pki *pki, const char *device_id, char *cert, size_t cert_cap,
			   char *key, size_t key_cap);

#endif
