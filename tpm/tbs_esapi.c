/* ESAPI over the tbs backend's transport (see tbs_esapi.h). */
#include <stdio.h>
#include <string.h>

#include "tpm/tbs_esapi.h"

int ssrp_tbs_esapi_get(ssrp_tbs_esapi *e, const ssrp_tbs_transport *transport, ssrp_tss2 **out)
{
	*out = NULL;
	if (!e->started) {
		memset(&e->tss2, 0, sizeof e->tss2);
		snprintf(e->tss2.tcti_conf, sizeof e->tss2.tcti_conf, "tbs");
		ssrp_transport_tcti_init(&e->tcti, transport);
		ssrp_counting_tcti_init(&e->tss2.counting, (TSS2_TCTI_CONTEXT *)&e->tcti);
		TSS2_RC rc = Esys_Initialize(&e->tss2.esys, (TSS2_TCTI_CONTEXT *)&e->tss2.counting,
					     NULL);
		if (rc != TSS2_RC_SUCCESS)
			return ssrp_tss2_error(rc, "starting tpm2-tss's ESAPI on the TBS transport");
		e->started = 1;
	}
	*out = &e->tss2;
	return SSRP_OK;
}

void ssrp_tbs_esapi_close(ssrp_tbs_esapi *e)
{
	if (e->started) {
		Esys_Finalize(&e->tss2.esys);
		Tss2_Tcti_Finalize((TSS2_TCTI_CONTEXT *)&e->tcti);
		e->started = 0;
	}
}
