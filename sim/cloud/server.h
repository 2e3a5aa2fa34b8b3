/* The simulated cloud's HTTPS server (libmicrohttpd + GnuTLS), listening on
 * 127.0.0.1 only, and the files it leaves for clients.
 *
 * cloud_server_start() loads the tenant (a JSON state file, or the built-in
 * demo tenant), makes the certificates (pki.h), starts the server and
 * writes, in the directory:
 *   cloud.env        (or cfg->env_out) shell assignments for clients, below
 *   config.json      the ssrp client configuration, below
 *   admin-token      the admin endpoints' bearer secret (0600)
 *   requests.jsonl   the request log (reqlog.h), unless cfg->log_path
 *   token-key.pem    the key that signs tokens (0600), kept across
 *                    restarts so tokens stay valid
 *   token-cert.pem   its self-signed certificate, published with the key in
 *                    the JWKS (/{tenant}/discovery/v2.0/keys)
 *   assoc-server.pem/.key  a server certificate for `ssrp assoc serve`
 *                    (ssrp-assoc.contoso.example, localhost, 127.0.0.1)
 *   device-ca.pem    the CA and MS-Organization-Access: what that service
 *                    checks device certificates against
 *   and, for the demo tenant, app-secret, admin-password, user-password,
 *   user2-password, service-password, webhook-url and service-refresh-token
 *   (a refresh token of the association service's account, as if it had
 *   signed in once) (0600): secrets are only ever files.
 *
 * cloud.env (sourceable by sh; values single-quoted):
 *   SSRP_SIM_PID, SSRP_SIM_PORT, SSRP_SIM_DIR, SSRP_SIM_CA,
 *   SSRP_SIM_CONNECT_TO   "login.microsoftonline.com:443:127.0.0.1:PORT ..."
 *                         for the three fixed hosts and every webhook host,
 *                         in curl --connect-to / CURLOPT_CONNECT_TO syntax
 *   SSRP_SIM_TENANT_ID, SSRP_SIM_TENANT_DOMAIN, SSRP_SIM_ADMIN_TOKEN_FILE,
 *   SSRP_SIM_LOG, SSRP_SIM_CONFIG, SSRP_SIM_DEVICE_CERT_DIR, SSRP_SIM_PORTAL_URL,
 *   SSRP_SIM_ASSOC_HOST
 *   demo tenant only: SSRP_SIM_APP_ID, SSRP_SIM_APP_SECRET_FILE,
 *   SSRP_SIM_PUBLIC_CLIENT_ID, SSRP_SIM_ADMIN_UPN, SSRP_SIM_ADMIN_PASSWORD_FILE,
 *   SSRP_SIM_USER_UPN, SSRP_SIM_USER_PASSWORD_FILE, SSRP_SIM_USER2_UPN,
 *   SSRP_SIM_USER2_PASSWORD_FILE, SSRP_SIM_DEVICE_ID, SSRP_SIM_DEVICE_NAME,
 *   SSRP_SIM_DEVICE_CERT, SSRP_SIM_DEVICE_KEY, SSRP_SIM_WEBHOOK_URL_FILE,
 *   SSRP_SIM_SERVICE_UPN, SSRP_SIM_SERVICE_PASSWORD_FILE,
 *   SSRP_SIM_SERVICE_REFRESH_TOKEN_FILE
 *
 * config.json (members that do not apply are left out):
 *   {"tenant_id":"<guid>","tenant_domain":"contoso.example",
 *    "hosts":{"login":"login.microsoftonline.com","graph":"graph.microsoft.com",
 *             "drs":"enterpriseregistration.windows.net"},
 *    "ca_file":"/dir/ca.pem",
 *    "connect_to":["login.microsoftonline.com:443:127.0.0.1:PORT",...],
 *    "app_id":"<guid>","app_secret_file":"/dir/app-secret",
 *    "public_client_id":"<guid>",
 *    "device":{"device_id":"<guid>","cert_file":"...pem","key_file":"...key"},
 *    "webhook_url_file":"/dir/webhook-url",
 *    "refresh_token_file":"/dir/service-refresh-token",
 *    "assoc":{"domains":{"CONTOSO":"contoso.example"},
 *             "netbios_dns":{"CONTOSO":"corp.contoso.example"},"licence":"check",
 *             "licence_sku":"<AAD_PREMIUM skuId>","audit":"/dir/assoc-audit.jsonl",
 *             "tls_cert_file":"/dir/assoc-server.pem","tls_key_file":"...",
 *             "device_ca_file":"/dir/device-ca.pem"}}
 *
 * Requests: the body is collected (at most cfg->max_body, else 413), the
 * request becomes a cloud_request (lower-case header names, Host without
 * port, percent-decoded path, raw query, a fresh request id) and goes to
 * cloud_dispatch(), unless a fault fires (faults.h). Graph answers carry
 * request-id and client-request-id. A TLS client certificate counts
 * (cloud_request.client_cert_cn) only when it verifies against the CA and
 * was issued by the MS-Organization-Access intermediate.
 *
 * Admin endpoints, on any host, only from 127.0.0.1 and only with
 * "Authorization: Bearer <contents of admin-token>" (else 403 / 401):
 *   GET  /admin/state         the whole state as JSON (state.h's format)
 *   POST /admin/faults        body: a fault script (faults.h), replacing the
 *                             current one ("" clears); 400 names a bad rule
 *   GET  /admin/jobs/{id}     {"id","webhook","status","created","output"}
 *   POST /admin/devicelogin   {"user_code","upn","password"}: approve a
 *                             device-code sign-in as that user
 *   POST /admin/tokens/expire every access token issued so far is answered
 *                             401 (expired) from now on; refresh tokens stay
 * They are logged like any request but never faulted. */
#ifndef SSRP_SIM_CLOUD_SERVER_H
#define SSRP_SIM_CLOUD_SERVER_H

#include <stddef.h>

#define CLOUD_SERVER_MAX_BODY_DEFAULT (1024u * 1024u)
#define CLOUD_SERVER_ENV_FILE "cloud.env"

typedef struct cloud_server cloud_server;

typedef struct cloud_server_config {
	const char *dir;         /* required; made (0700) if missing */
	const char *state_file;  /* a JSON tenant; NULL for the demo tenant */
	int port;                /* 0: any free port */
	const char *faults;      /* a fault script, or NULL */
	const char *job_command; /* webhook job handler, or NULL */
	const char *log_path;    /* NULL: DIR/requests.jsonl */
	const char *env_out;     /* NULL: DIR/cloud.env */
	long device_certs;       /* certificates for the first N devices; < 0: all */
	size_t max_body;         /* 0: CLOUD_SERVER_MAX_BODY_DEFAULT */
} cloud_server_config;

/* Start serving (threads of its own); SSRP_OK or an error with a message.
 * Call it before any other thread exists if the caller later forks. */
int cloud_server_start(cloud_server **out, const cloud_server_config *cfg);
int cloud_server_port(const cloud_server *srv);
const char *cloud_server_env_path(const cloud_server *srv);
/* Write the state as JSON to path (atomically, 0600). */
int cloud_server_dump_state(cloud_server *srv, const char *path);
/* Stop serving, stop jobs, remove the env file, free everything. */
void cloud_server_stop(cloud_server *srv);

/* "login", "graph", "drs", "webhook" for a Host this server answers, else NULL. */
const char *cloud_service_of(const char *host);

#endif
