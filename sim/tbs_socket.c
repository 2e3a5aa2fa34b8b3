/* The simulator's "tbs-socket:HOST:PORT" TPM backend: the Windows tbs
 * backend's command core (tpm/backend_tbs.c) over raw TPM 2.0 commands on
 * TCP, as swtpm's `--server type=tcp` data port speaks them (no mssim
 * framing). One command out, then the 10-byte response header and exactly
 * the size it announces. POSIX; every wait is bounded by SOCKET_TIMEOUT_MS.
 * It lets the tbs core run against swtpm on Linux; production builds have
 * no socket transport. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hal/clock.h"
#include "hal/mem.h"
#include "sim/sim_backends.h"
#include "tpm/tbs_transport.h"
#include "tpm/tpm_backends.h"

/* How long the socket transport waits for a connection or a response. */
#define SOCKET_TIMEOUT_MS 30000

#ifdef MSG_NOSIGNAL
#define SEND_FLAGS MSG_NOSIGNAL /* a closed peer gives EPIPE, not SIGPIPE */
#else
#define SEND_FLAGS 0
#endif

typedef struct tbs_socket {
	int fd; /* -1 while not connected */
	char host[256];
	char port[6];
	char where[272]; /* the address as given, for messages */
} tbs_socket;

static int bad_address(const char *host_port)
{
	return ssrp_error_set(SSRP_E_SPEC,
			      "tbs-socket:%s: expected HOST:PORT, e.g. 127.0.0.1:2321 or "
			      "[::1]:2321",
			      host_port);
}

/* "host:port" or "[v6 address]:port" into s->host and s->port. */
static int parse_address(tbs_socket *s, const char *host_port)
{
	const char *host = host_port, *colon;
	size_t host_len;
	if (host_port[0] == '[') {
		const char *end = strchr(host_port, ']');
		if (!end || end[1] != ':')
			return bad_address(host_port);
		host = host_port + 1;
		host_len = (size_t)(end - host);
		colon = end + 1;
	} else {
		colon = strrchr(host_port, ':');
		if (!colon)
			return bad_address(host_port);
		host_len = (size_t)(colon - host_port);
		if (memchr(host, ':', host_len)) /* an IPv6 address needs brackets */
			return bad_address(host_port);
	}
	if (host_len == 0 || host_len >= sizeof s->host)
		return bad_address(host_port);
	const char *port = colon + 1;
	size_t port_len = strlen(port);
	unsigned long value = 0;
	int digits = port_len > 0 && port_len < sizeof s->port;
	for (size_t i = 0; digits && i < port_len; i++) {
		digits = port[i] >= '0' && port[i] <= '9';
		value = value * 10 + (unsigned long)(port[i] - '0');
	}
	if (!digits || value < 1 || value > 65535)
		return ssrp_error_set(SSRP_E_SPEC,
				      "tbs-socket:%s: port '%s' is not a number from 1 to 65535",
				      host_port, port);
	memcpy(s->host, host, host_len);
	s->host[host_len] = '\0';
	memcpy(s->port, port, port_len + 1);
	snprintf(s->where, sizeof s->where, "%s", host_port);
	return SSRP_OK;
}

/* Wait until fd is ready for events or the deadline passes: 0, or an errno. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		uint64_t now = ssrp_monotonic_ms();
		if (now >= deadline)
			return ETIMEDOUT;
		struct pollfd p = {.fd = fd, .events = events};
		int n = poll(&p, 1, (int)(deadline - now));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return errno;
	}
}

/* A non-blocking connect to one address: 0, or an errno. */
static int connect_one(int fd, const struct addrinfo *ai, uint64_t deadline)
{
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EINTR)
		return errno;
	int err = wait_fd(fd, POLLOUT, deadline);
	socklen_t len = sizeof err;
	if (!err && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	return err;
}

static int connect_socket(tbs_socket *s)
{
	struct addrinfo hints, *list = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	int gai = getaddrinfo(s->host, s->port, &hints, &list);
	if (gai)
		return ssrp_error_set(SSRP_E_TPM_ABSENT, "no TPM answered at %s: %s", s->where,
				      gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
	uint64_t deadline = ssrp_monotonic_ms() + SOCKET_TIMEOUT_MS;
	int err = ECONNREFUSED;
	for (const struct addrinfo *ai = list; ai && s->fd < 0; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 ||
		    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0)
			err = errno;
		else
			err = connect_one(fd, ai, deadline);
		if (err)
			close(fd);
		else
			s->fd = fd;
	}
	freeaddrinfo(list);
	if (s->fd < 0)
		return ssrp_error_set(SSRP_E_TPM_ABSENT, "no TPM answered at %s: %s", s->where,
				      strerror(err));
	return SSRP_OK;
}

static int timed_out(const tbs_socket *s)
{
	return ssrp_error_set(SSRP_E_IO, "the TPM at %s did not answer within %d s", s->where,
			      SOCKET_TIMEOUT_MS / 1000);
}

static int send_all(tbs_socket *s, const uint8_t *p, size_t n, uint64_t deadline)
{
	while (n) {
		ssize_t k = send(s->fd, p, n, SEND_FLAGS);
		if (k > 0) {
			p += k;
			n -= (size_t)k;
			continue;
		}
		if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return ssrp_error_set(SSRP_E_IO, "sending a command to the TPM at %s: %s",
					      s->where, strerror(errno));
		int err = wait_fd(s->fd, POLLOUT, deadline);
		if (err == ETIMEDOUT)
			return timed_out(s);
		if (err)
			return ssrp_error_set(SSRP_E_IO, "sending a command to the TPM at %s: %s",
					      s->where, strerror(err));
	}
	return SSRP_OK;
}

/* Exactly n bytes into p; got and total only shape the messages. */
static int recv_exact(tbs_socket *s, uint8_t *p, size_t n, size_t got, size_t total,
		      uint64_t deadline)
{
	while (n) {
		ssize_t k = recv(s->fd, p, n, 0);
		if (k > 0) {
			p += k;
			n -= (size_t)k;
			got += (size_t)k;
			continue;
		}
		if (k == 0)
			return ssrp_error_set(SSRP_E_IO,
					      "the TPM at %s closed the connection after %zu of %zu "
					      "response bytes",
					      s->where, got, total);
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return ssrp_error_set(SSRP_E_IO, "receiving from the TPM at %s: %s", s->where,
					      strerror(errno));
		int err = wait_fd(s->fd, POLLIN, deadline);
		if (err == ETIMEDOUT)
			return timed_out(s);
		if (err)
			return ssrp_error_set(SSRP_E_IO, "receiving from the TPM at %s: %s", s->where,
					      strerror(err));
	}
	return SSRP_OK;
}

static int exchange(tbs_socket *s, const uint8_t *cmd, size_t cmd_len, uint8_t *rsp,
		    size_t rsp_cap, size_t *rsp_len)
{
	uint64_t deadline = ssrp_monotonic_ms() + SOCKET_TIMEOUT_MS;
	if (rsp_cap < 10)
		return ssrp_error_set(SSRP_E_BUFSIZE, "a TPM response needs at least 10 bytes");
	int rc = send_all(s, cmd, cmd_len, deadline);
	if (!rc)
		rc = recv_exact(s, rsp, 10, 0, 10, deadline);
	if (rc)
		return rc;
	uint32_t size = ((uint32_t)rsp[2] << 24) | ((uint32_t)rsp[3] << 16) |
			((uint32_t)rsp[4] << 8) | rsp[5];
	if (size < 10)
		return ssrp_error_set(SSRP_E_TPM,
				      "the TPM at %s announced a %u-byte response, shorter than the "
				      "10-byte header",
				      s->where, size);
	if (size > rsp_cap)
		return ssrp_error_set(SSRP_E_TPM,
				      "the TPM at %s announced a %u-byte response; at most %zu fit",
				      s->where, size, rsp_cap);
	if ((rc = recv_exact(s, rsp + 10, size - 10, 10, size, deadline)))
		return rc;
	*rsp_len = size;
	return SSRP_OK;
}

static void disconnect(tbs_socket *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

static int socket_submit(void *t, const uint8_t *cmd, size_t cmd_len, uint8_t *rsp,
			 size_t rsp_cap, size_t *rsp_len)
{
	tbs_socket *s = t;
	*rsp_len = 0;
	/* After a failed exchange the stream position is unknown: reconnect. */
	int rc = s->fd < 0 ? connect_socket(s) : SSRP_OK;
	if (!rc)
		rc = exchange(s, cmd, cmd_len, rsp, rsp_cap, rsp_len);
	if (rc)
		disconnect(s);
	return rc;
}

static void socket_close(void *t)
{
	tbs_socket *s = t;
	if (!s)
		return;
	disconnect(s);
	ssrp_free(s);
}

static int open_socket(ssrp_tbs_transport *out, const char *host_port)
{
	memset(out, 0, sizeof *out);
	tbs_socket *s = ssrp_calloc(1, sizeof *s);
	if (!s)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory opening tbs-socket:%s", host_port);
	s->fd = -1;
	int rc = parse_address(s, host_port);
	if (!rc)
		rc = connect_socket(s);
	if (rc) {
		ssrp_free(s);
		return rc;
	}
	out->t = s;
	out->submit = socket_submit;
	out->close = socket_close;
	return SSRP_OK;
}

/* The tbs core calls this for its own "tbs" spec, which only Windows
 * builds offer; here the core is reached through "tbs-socket:" alone. */
int ssrp_tbs_transport_open_windows(ssrp_tbs_transport *out)
{
	memset(out, 0, sizeof *out);
	return ssrp_error_set(SSRP_E_NOTSUPPORTED,
			      "Windows TPM Base Services exist only on Windows; use "
			      "tbs-socket:HOST:PORT");
}

static int tbs_socket_open(void *ctx, const char *config)
{
	ssrp_tbs_transport transport;
	int rc = open_socket(&transport, config);
	return rc ? rc : ssrp_tbs_open_on_transport(ctx, &transport);
}

void ssrp_sim_tbs_socket_backend_fill(ssrp_tpm_backend *b)
{
	*b = ssrp_tpm_backend_tbs;
	b->info.name = "tbs-socket";
	b->info.description = "the tbs backend's command core over a raw TPM 2.0 socket "
			      "(libssrp-sim; swtpm --server type=tcp)";
	b->info.config_help = "HOST:PORT";
	b->open = tbs_socket_open;
}
