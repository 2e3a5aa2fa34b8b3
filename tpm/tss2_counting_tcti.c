/* The counting TCTI (see tss2_counting_tcti.h). */
#include <string.h>

#include "tpm/tss2_counting_tcti.h"

#define COUNTING_MAGIC 0x7373727063746369ull /* "ssrpccti" */

static ssrp_counting_tcti *self(TSS2_TCTI_CONTEXT *ctx)
{
	return (ssrp_counting_tcti *)ctx;
}

static TSS2_RC transmit(TSS2_TCTI_CONTEXT *ctx, size_t size, const uint8_t *command)
{
	ssrp_counting_tcti *t = self(ctx);
	t->commands++;
	return Tss2_Tcti_Transmit(t->inner, size, command);
}

static int is_resend_request(const uint8_t *rsp, size_t size)
{
	if (size < 10)
		return 0;
	uint32_t rc = ((uint32_t)rsp[6] << 24) | ((uint32_t)rsp[7] << 16) | ((uint32_t)rsp[8] << 8) |
		      rsp[9];
	return rc == 0x922 || rc == 0x908 || rc == 0x90A;
}

static TSS2_RC receive(TSS2_TCTI_CONTEXT *ctx, size_t *size, uint8_t *response, int32_t timeout)
{
	ssrp_counting_tcti *t = self(ctx);
	TSS2_RC rc = Tss2_Tcti_Receive(t->inner, size, response, timeout);
	if (rc == TSS2_RC_SUCCESS && response && is_resend_request(response, *size))
		t->retries++;
	return rc;
}

static void finalize(TSS2_TCTI_CONTEXT *ctx)
{
	(void)ctx; /* the inner TCTI belongs to whoever wrapped it */
}

static TSS2_RC cancel(TSS2_TCTI_CONTEXT *ctx)
{
	return Tss2_Tcti_Cancel(self(ctx)->inner);
}

static TSS2_RC get_poll_handles(TSS2_TCTI_CONTEXT *ctx, TSS2_TCTI_POLL_HANDLE *handles,
				size_t *num_handles)
{
	return Tss2_Tcti_GetPollHandles(self(ctx)->inner, handles, num_handles);
}

static TSS2_RC set_locality(TSS2_TCTI_CONTEXT *ctx, uint8_t locality)
{
	return Tss2_Tcti_SetLocality(self(ctx)->inner, locality);
}

static TSS2_RC make_sticky(TSS2_TCTI_CONTEXT *ctx, TPM2_HANDLE *handle, uint8_t sticky)
{
	return Tss2_Tcti_MakeSticky(self(ctx)->inner, handle, sticky);
}

void ssrp_counting_tcti_init(ssrp_counting_tcti *t, TSS2_TCTI_CONTEXT *inner)
{
	memset(t, 0, sizeof *t);
	t->common.v1.magic = COUNTING_MAGIC;
	t->common.v1.version = 2;
	t->common.v1.transmit = transmit;
	t->common.v1.receive = receive;
	t->common.v1.finalize = finalize;
	t->common.v1.cancel = cancel;
	t->common.v1.getPollHandles = get_poll_handles;
	t->common.v1.setLocality = set_locality;
	t->common.makeSticky = make_sticky;
	t->inner = inner;
}
