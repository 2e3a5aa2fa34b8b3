/* A TCTI (tpm2-tss's transport interface) over an ssrp_tbs_transport, so
 * that ESAPI runs over the tbs backend's transport: Windows TPM Base
 * Services, or the simulator's TPM socket. transmit() submits the command
 * and keeps the whole response; receive() hands it over. */
#ifndef SSRP_TCTI_TRANSPORT_H
#define SSRP_TCTI_TRANSPORT_H

#include <tss2/tss2_tcti.h>

#include "tpm/tbs_transport.h"

typedef struct ssrp_transport_tcti {
	TSS2_TCTI_CONTEXT_COMMON_V2 common; /* first: ESAPI sees a TCTI */
	const ssrp_tbs_transport *transport; /* not owned */
	int have_response;
	size_t rsp_len;
	uint8_t rsp[SSRP_TBS_RESPONSE_MAX];
} ssrp_transport_tcti;

/* Wrap transport (not owned: it must outlive the TCTI's last use). */
void ssrp_transport_tcti_init(ssrp_transport_tcti *tcti, const ssrp_tbs_transport *transport);

#endif
