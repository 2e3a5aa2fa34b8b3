/* A scripted local HTTPS server (libmicrohttpd) for unit tests that need a
 * peer the simulated cloud cannot play: it listens on a free loopback port
 * with a self-signed test certificate and hands each whole request to the
 * test's handler.
 *
 *	static enum MHD_Result handler(void *ctx, struct MHD_Connection *c,
 *				       const char *url, const char *method, const char *body)
 *	{ return fake_https_reply(c, 200, "{}", "req-1", NULL); }
 *	...
 *	fake_https srv;
 *	if (fake_https_start(&srv, dir, handler, NULL, 0)) ...   (srv.port, srv.ca_path)
 *	...
 *	fake_https_stop(&srv);
 *
 * The certificate is valid for localhost, graph.microsoft.com,
 * login.microsoftonline.com and enterpriseregistration.windows.net; clients
 * trust it through ca_path and reach the cloud names with connect-to. */
#ifndef SSRP_TESTS_FAKE_HTTPS_H
#define SSRP_TESTS_FAKE_HTTPS_H

#include <microhttpd.h>

/* Called once per request, after the whole body has arrived (body is "" when
 * there is none). Answer with fake_https_reply, or MHD_NO to drop the
 * connection without an answer. Runs on the server's threads. */
typedef enum MHD_Result (*fake_https_handler)(void *ctx, struct MHD_Connection *c,
					      const char *url, const char *method,
					      const char *body);

/* fake_https_start flags */
#define FAKE_HTTPS_THREAD_PER_CONNECTION 1u /* one thread per connection (slow handlers) */

typedef struct fake_https {
	struct MHD_Daemon *daemon;
	int port;          /* the loopback port it listens on */
	char ca_path[256]; /* dir/ca.pem: the certificate, for the client's ca_file */
	char *cert_pem, *key_pem;
	fake_https_handler handler;
	void *ctx;
} fake_https;

/* Make the certificate, write it to dir/ca.pem and start listening on
 * 127.0.0.1 at a free port. 0, or -1 when the server could not start. */
int fake_https_start(fake_https *s, const char *dir, fake_https_handler handler, void *ctx,
		     unsigned flags);
/* Stop the server, free the certificate and remove dir/ca.pem (not dir). */
void fake_https_stop(fake_https *s);

/* Queue a JSON answer with the given status and request-id header, and a
 * Retry-After header when retry_after is not NULL. */
enum MHD_Result fake_https_reply(struct MHD_Connection *c, unsigned status, const char *body,
				 const char *request_id, const char *retry_after);

#endif
