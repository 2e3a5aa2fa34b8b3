/* The TCTI over a tbs transport (see tcti_transport.h). */
#include <string.h>

#include "hal/mem.h"
#include "tpm/tcti_transport.h"

#define TRANSPORT_TCTI_MAGIC 0x7373727074627374ull /* "ssrptbst" */

static ssrp_transport_tcti *self(TSS2_TCTI_CONTEXT *ctx)
{
	return (ssrp_transport_tcti *)ctx;
}

static TSS2_RC transmit(TSS2_TCTI_CONTEXT *ctx, size_t size, const uint8_t *command)
{
	ssrp_transport_tcti *t = self(ctx);
	if (!command || size < 10)
		return TSS2_TCTI_RC_BAD_VALUE;
	if (t->have_response)
		return TSS2_TCTI_RC_BAD_SEQUENCE;
	size_t len = 0;
	if (t->transport->submit(t->transport->t, command, size, t->rsp, sizeof t->rsp, &len) !=
		    0 ||
	    len < 10 || len > sizeof t->rsp) {
		ssrp_memzero(t->rsp, sizeof t->rsp);
		return TSS2_TCTI_RC_IO_ERROR;
	}
	t->rsp_len = len;
	t->have_response = 1;
	return TSS2_RC_SUCCESS;
}

/* The response arrived whole in transmit(): no timeout to wait out. A NULL
 * response asks for its size. The copy kept here is wiped once handed
 * over: it may be an unsealed secret. */
static TSS2_RC receive(TSS2_TCTI_CONTEXT *ctx, size_t *size, uint8_t *response, int32_t timeout)
{
	ssrp_transport_tcti *t = self(ctx);
	(void)timeout;
	if (!size)
		return TSS2_TCTI_RC_BAD_VALUE;
	if (!t->have_response)
		return TSS2_TCTI_RC_BAD_SEQUENCE;
	if (!response) {
		*size = t->rsp_len;
		return TSS2_RC_SUCCESS;
	}
	if (*size < t->rsp_len) {
		*size = t->rsp_len;
		return TSS2_TCTI_RC_INSUFFICIENT_BUFFER;
	}
	memcpy(response, t->rsp, t->rsp_len);
	*size = t->rsp_len;
	ssrp_memzero(t->rsp, t->rsp_len);
	t->have_response = 0;
	return TSS2_RC_SUCCESS;
}

static void finalize(TSS2_TCTI_CONTEXT *ctx)
{
	ssrp_transport_tcti *t = self(ctx);
	ssrp_memzero(t->rsp, sizeof t->rsp);
	t->have_response = 0;
}

static TSS2_RC cancel(TSS2_TCTI_CONTEXT *ctx)
{
	(void)ctx;
	return TSS2_TCTI_RC_NOT_IMPLEMENTED;
}

static TSS2_RC get_poll_handles(TSS2_TCTI_CONTEXT *ctx, TSS2_TCTI_POLL_HANDLE *handles,
				size_t *num_handles)
{
	(void)ctx;
	(void)handles;
	(void)num_handles;
	return TSS2_TCTI_RC_NOT_IMPLEMENTED;
}

/* Commands go at locality 0, as the transports send them. */
static TSS2_RC set_locality(TSS2_TCTI_CONTEXT *ctx, uint8_t locality)
{
	(void)ctx;
	return locality == 0 ? TSS2_RC_SUCCESS : TSS2_TCTI_RC_NOT_IMPLEMENTED;
}

static TSS2_RC make_sticky(TSS2_TCTI_CONTEXT *ctx, TPM2_HANDLE *handle, uint8_t sticky)
{
	(void)ctx;
	(void)handle;
	(void)sticky;
	return TSS2_TCTI_RC_NOT_IMPLEMENTED;
}

void ssrp_transport_tcti_init(ssrp_transport_tcti *t, const ssrp_tbs_transport *transport)
{
	memset(t, 0, sizeof *t);
	t->common.v1.magic = TRANSPORT_TCTI_MAGIC;
	t->common.v1.version = 2;
	t->common.v1.transmit = transmit;
	t->common.v1.receive = receive;
	t->common.v1.finalize = finalize;
	t->common.v1.cancel = cancel;
	t->common.v1.getPollHandles = get_poll_handles;
	t->common.v1.setLocality = set_locality;
	t->common.makeSticky = make_sticky;
	t->transport = transport;
}
