/* The tbs backend's sealing side: tpm2-tss's ESAPI over the backend's own
 * transport (tcti_transport.c), running the tss2 backend's seal, unseal and
 * SRK code (tss2_seal.c, tss2_srk.c). So a blob sealed through TBS on
 * Windows and one sealed through tss2 on Linux are made by one code path,
 * with the same salted, parameter-encrypted sessions. ESAPI is started at
 * the first operation that needs it. */
#ifndef SSRP_TBS_ESAPI_H
#define SSRP_TBS_ESAPI_H

#include "tpm/tbs_transport.h"
#include "tpm/tcti_transport.h"
#include "tpm/tss2_internal.h"

typedef struct ssrp_tbs_esapi {
	ssrp_transport_tcti tcti;
	ssrp_tss2 tss2; /* ESAPI on tcti, through tss2's counting TCTI */
	int started;
} ssrp_tbs_esapi;

/* *out: the tss2 state to hand to ssrp_tss2_seal() and the others, ESAPI
 * started on transport when it was not yet. */
int ssrp_tbs_esapi_get(ssrp_tbs_esapi *e, const ssrp_tbs_transport *transport, ssrp_tss2 **out);

/* Finalize ESAPI if it was started; the transport stays open. */
void ssrp_tbs_esapi_close(ssrp_tbs_esapi *e);

#endif
