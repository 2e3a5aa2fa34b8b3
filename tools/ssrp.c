/* ssrp: the production command — the device agent, the TPM and volume
 * tools, self-service recovery and the association client. It links
 * libssrp alone: no simulator, no HTTPS server (ssrp-assocd), no test hook. */
#include <stdlib.h>

#include <ssrp/common.h>
#include "tools/cli_main.h"

int main(int argc, char **argv)
{
	(void)ssrp_harden_process();
	/* tpm2-tss prints its own errors to stderr; ssrp reports them in
	 * its words, so silence the library unless the user asked for it. */
	setenv("TSS2_LOG", "all+NONE", 0);
	return ssrp_cli_dispatch(argc, argv);
}
