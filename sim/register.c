/* ssrp_sim_register_backends (ssrp/sim.h): the simulator's tables are
 * built once, from the production tables they extend, then registered. */
#include <pthread.h>

#include "sim/sim_backends.h"
#include "ssrp/sim.h"

static ssrp_volume_backend sim_volume;
static ssrp_tpm_backend tbs_socket;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void fill(void)
{
	ssrp_sim_volume_backend_fill(&sim_volume);
	ssrp_sim_tbs_socket_backend_fill(&tbs_socket);
}

int ssrp_sim_register_backends(void)
{
	pthread_once(&once, fill);
	int rc = ssrp_volume_backend_register(&sim_volume);
	return rc ? rc : ssrp_tpm_backend_register(&tbs_socket);
}
