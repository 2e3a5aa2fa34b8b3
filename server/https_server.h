/* Starting and stopping an HTTPS server on libmicrohttpd over GnuTLS, as
 * the simulated cloud and the association service (ssrp-assocd) both do:
 * TLS from PEM text with a client certificate asked for against a trusted
 * CA, a pool of threads, an idle timeout and a connection limit, every
 * libmicrohttpd message on stderr behind a prefix, and the port learned
 * once bound (port 0 takes a free one). */
#ifndef SSRP_SERVER_HTTPS_SERVER_H
#define SSRP_SERVER_HTTPS_SERVER_H

#include <sys/socket.h>

#include <microhttpd.h>

typedef struct ssrp_https_options {
	const struct sockaddr *addr; /* where to listen: IPv4 or IPv6 */
	/* The thread model, added to MHD_USE_TLS, MHD_ALLOW_SUSPEND_RESUME and
	 * MHD_USE_ERROR_LOG (and MHD_USE_IPv6 for an IPv6 address). */
	unsigned int thread_flags;
	unsigned int threads; /* the pool's size */
	unsigned int idle_timeout_s;
	unsigned int connection_limit; /* over the whole pool */
	/* The server's key and certificate, and the CA a client certificate is
	 * asked against (PEM text, kept by the caller while the server runs). */
	const char *key_pem, *cert_pem, *trust_pem;
	/* libmicrohttpd's messages: to logger (with logger_cls) when set, else
	 * to stderr behind log_prefix ("ssrp sim cloud: libmicrohttpd: "). */
	MHD_LogCallback logger;
	void *logger_cls;
	const char *log_prefix;
	MHD_AccessHandlerCallback on_request;
	void *(*on_uri)(void *cls, const char *uri, struct MHD_Connection *conn); /* may be NULL */
	MHD_RequestCompletedCallback on_completed; /* may be NULL */
	MHD_NotifyConnectionCallback on_connection; /* may be NULL */
	void *cls; /* every callback's closure */
} ssrp_https_options;

/* The running daemon in *out, its port in *port and (bound not NULL) the
 * address it listens on; SSRP_E_IO saying what when it cannot listen there
 * or learn the port (nothing left running). */
int ssrp_https_start(struct MHD_Daemon **out, int *port, struct sockaddr_storage *bound,
		     const ssrp_https_options *o);
/* Stops it (NULL: nothing). */
void ssrp_https_stop(struct MHD_Daemon *d);

#endif
