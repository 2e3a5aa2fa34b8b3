/* server/https_server.h. */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "server/https_server.h"
#include "ssrp/sys/error.h"

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	fputs((const char *)cls, stderr);
	vfprintf(stderr, fmt, ap);
}

static int bound_port(struct MHD_Daemon *d, int *port, struct sockaddr_storage *bound)
{
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD);
	socklen_t bl = sizeof *bound;
	if (!di || getsockname(di->listen_fd, (struct sockaddr *)bound, &bl) != 0)
		return ssrp_error_set(SSRP_E_IO, "cannot learn the server's port: %s",
				      strerror(errno));
	*port = bound->ss_family == AF_INET6
			? ntohs(((const struct sockaddr_in6 *)bound)->sin6_port)
			: ntohs(((const struct sockaddr_in *)bound)->sin_port);
	return SSRP_OK;
}

int ssrp_https_start(struct MHD_Daemon **out, int *port, struct sockaddr_storage *bound,
		     const ssrp_https_options *o)
{
	*out = NULL;
	unsigned int flags = o->thread_flags | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TLS |
			     MHD_USE_ERROR_LOG;
	if (o->addr->sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	struct MHD_Daemon *d = MHD_start_daemon(
		flags, 0, NULL, NULL, o->on_request, o->cls,
		/* the logger first, or MHD logs the options before it on its own */
		MHD_OPTION_EXTERNAL_LOGGER, o->logger ? o->logger : mhd_log,
		o->logger ? o->logger_cls : (void *)o->log_prefix,
		MHD_OPTION_THREAD_POOL_SIZE, o->threads, MHD_OPTION_SOCK_ADDR, o->addr,
		MHD_OPTION_HTTPS_MEM_KEY, o->key_pem, MHD_OPTION_HTTPS_MEM_CERT, o->cert_pem,
		MHD_OPTION_HTTPS_MEM_TRUST, o->trust_pem, MHD_OPTION_URI_LOG_CALLBACK, o->on_uri,
		o->cls, MHD_OPTION_NOTIFY_COMPLETED, o->on_completed, o->cls,
		MHD_OPTION_NOTIFY_CONNECTION, o->on_connection, o->cls,
		MHD_OPTION_CONNECTION_TIMEOUT, o->idle_timeout_s, MHD_OPTION_CONNECTION_LIMIT,
		o->connection_limit, MHD_OPTION_END);
	if (!d)
		return ssrp_error_set(SSRP_E_IO, "cannot start the HTTPS server");
	struct sockaddr_storage here;
	int rc = bound_port(d, port, bound ? bound : &here);
	if (rc) {
		MHD_stop_daemon(d);
		return rc;
	}
	*out = d;
	return SSRP_OK;
}

void ssrp_https_stop(struct MHD_Daemon *d)
{
	if (d)
		MHD_stop_daemon(d);
}
