/* Who may hold a connection to `ssrp assoc serve` (assoc_server_private.h):
 * at most per_address from one address; at most max_connections - reserve
 * that have not shown a device certificate, the oldest of them shed to make
 * room; none of those longer than handshake_timeout_s. A connection is shed
 * by shutting its socket down: libmicrohttpd sees the end of the stream and
 * closes it on its own thread. MHD reports a connection closed before it
 * closes the socket, and that report takes the same lock, so a socket shut
 * down here is never one that was reused by another connection. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <ssrp/clock.h>
#include "tools/assoc_server_private.h"

int conns_init(conn_table *t, const ssrp_assoc_serve_limits *sc)
{
	memset(t, 0, sizeof *t);
	if (pthread_mutex_init(&t->lock, NULL))
		return -1;
	t->per_address = sc->per_address;
	t->max = sc->max_connections;
	t->unproven_max = sc->max_connections - sc->reserve;
	t->handshake_ms = (uint64_t)sc->handshake_timeout_s * 1000u;
	return 0;
}

void conns_destroy(conn_table *t)
{
	pthread_mutex_destroy(&t->lock);
}

static void client_ip(struct MHD_Connection *conn, char *out, size_t cap)
{
	snprintf(out, cap, "?");
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci || !ci->client_addr)
		return;
	if (ci->client_addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, out,
			  (socklen_t)cap);
	else if (ci->client_addr->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, out,
			  (socklen_t)cap);
}

/* Called with the lock held. */
static void shed(conn_table *t, conn_rec *c)
{
	if (c->shed)
		return;
	c->shed = 1;
	t->n_shed++;
	if (!c->proven)
		t->n_unproven--;
	if (c->fd >= 0)
		shutdown(c->fd, SHUT_RDWR);
}

void conns_started(conn_table *t, struct MHD_Connection *conn, void **socket_context,
		   ssrp_audit *audit)
{
	conn_rec *c = calloc(1, sizeof *c);
	*socket_context = c;
	if (!c)
		return; /* answered 401 "out of memory" at its first request */
	const union MHD_ConnectionInfo *fi =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	c->fd = fi ? fi->connect_fd : -1;
	c->started_ms = ssrp_monotonic_ms();
	client_ip(conn, c->ip, sizeof c->ip);

	char why[160] = "", victim[INET6_ADDRSTRLEN] = "", ip[INET6_ADDRSTRLEN];
	memcpy(ip, c->ip, sizeof ip);
	pthread_mutex_lock(&t->lock);
	c->prev = t->tail;
	if (t->tail)
		t->tail->next = c;
	else
		t->head = c;
	t->tail = c;
	t->n++;
	t->n_unproven++;
	t->stats.accepted++;
	unsigned same = 0;
	for (const conn_rec *p = t->head; p; p = p->next)
		if (!p->shed && !strcmp(p->ip, c->ip))
			same++;
	if (same > t->per_address) {
		shed(t, c);
		t->stats.over_address_limit++;
		snprintf(why, sizeof why, "more than %u connections at once from this address",
			 t->per_address);
	} else if (t->n_unproven > t->unproven_max || t->n - t->n_shed > t->max) {
		/* Room for devices: the oldest connection that has not shown a
		 * certificate goes (the new one has had no chance yet). */
		for (conn_rec *p = t->head; p && p != c; p = p->next) {
			if (!p->shed && !p->proven) {
				shed(t, p);
				t->stats.shed_for_devices++;
				snprintf(victim, sizeof victim, "%s", p->ip);
				break;
			}
		}
		if (t->n_unproven > t->unproven_max || t->n - t->n_shed > t->max) {
			shed(t, c);
			t->stats.shed_for_devices++;
			snprintf(victim, sizeof victim, "%s", c->ip);
		}
	}
	pthread_mutex_unlock(&t->lock);
	if (audit && why[0])
		ssrp_audit_refusal(audit, ip, why);
	if (audit && victim[0])
		ssrp_audit_refusal(audit, victim,
				   "shed: connections without a device certificate were at their "
				   "limit");
}

void conns_closed(conn_table *t, void **socket_context)
{
	conn_rec *c = *socket_context;
	*socket_context = NULL;
	if (!c)
		return;
	pthread_mutex_lock(&t->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		t->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		t->tail = c->prev;
	t->n--;
	if (c->shed)
		t->n_shed--;
	else if (!c->proven)
		t->n_unproven--;
	pthread_mutex_unlock(&t->lock);
	free(c);
}

void conns_prove(conn_table *t, conn_rec *c)
{
	pthread_mutex_lock(&t->lock);
	if (!c->proven && !c->shed)
		t->n_unproven--;
	c->proven = 1;
	pthread_mutex_unlock(&t->lock);
}

#define EXPIRED_AUDIT_MAX 64

void conns_expire(conn_table *t, ssrp_audit *audit)
{
	uint64_t now = ssrp_monotonic_ms();
	char ips[EXPIRED_AUDIT_MAX][INET6_ADDRSTRLEN];
	unsigned n_ips = 0;
	pthread_mutex_lock(&t->lock);
	/* Oldest first: the walk ends at the first one still within time. */
	for (conn_rec *p = t->head; p && now - p->started_ms >= t->handshake_ms; p = p->next) {
		if (p->shed || p->proven)
			continue;
		shed(t, p);
		t->stats.timed_out++;
		if (n_ips < EXPIRED_AUDIT_MAX)
			snprintf(ips[n_ips++], INET6_ADDRSTRLEN, "%s", p->ip);
	}
	pthread_mutex_unlock(&t->lock);
	for (unsigned i = 0; audit && i < n_ips; i++)
		ssrp_audit_refusal(audit, ips[i],
				   "no TLS handshake and request headers within the handshake "
				   "timeout");
}

void conns_get_stats(conn_table *t, conn_stats *out)
{
	pthread_mutex_lock(&t->lock);
	*out = t->stats;
	pthread_mutex_unlock(&t->lock);
}
