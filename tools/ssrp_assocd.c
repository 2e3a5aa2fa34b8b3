/* ssrp-assocd: the association service's HTTPS endpoint, where a device,
 * by its certificate, sends its primary users and asks about itself only.
 * A server-side command of its own, so the device agent (ssrp) carries no
 * HTTPS server, libmicrohttpd or GnuTLS. Options: `ssrp-assocd --help`. */
#include <stdlib.h>

#include <ssrp/common.h>
#include "tools/cmd_assoc_serve.h"

int main(int argc, char **argv)
{
	(void)ssrp_harden_process();
	return ssrp_cmd_assoc_serve(argc, argv);
}
