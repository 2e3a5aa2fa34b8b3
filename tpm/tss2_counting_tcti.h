/* A TCTI that forwards to another and counts what crosses it: TPM commands
 * sent, and responses asking to resend (RETRY, YIELDED, TESTING), which
 * ESAPI resubmits by itself. */
#ifndef SSRP_TSS2_COUNTING_TCTI_H
#define SSRP_TSS2_COUNTING_TCTI_H

#include <tss2/tss2_tcti.h>

typedef struct ssrp_counting_tcti {
	TSS2_TCTI_CONTEXT_COMMON_V2 common; /* first: ESAPI sees a TCTI */
	TSS2_TCTI_CONTEXT *inner;
	uint64_t commands;
	uint64_t retries;
} ssrp_counting_tcti;

/* Wrap inner (not owned: finalize it yourself after the wrapper's last use). */
void ssrp_counting_tcti_init(ssrp_counting_tcti *tcti, TSS2_TCTI_CONTEXT *inner);

#endif
