/* The simulator's backends, filled in from the production tables they
 * extend and registered by ssrp_sim_register_backends() (sim/register.c). */
#ifndef SSRP_SIM_SIM_BACKENDS_H
#define SSRP_SIM_SIM_BACKENDS_H

#include "ssrp/sys/tpm.h"
#include "ssrp/sys/volume.h"

void ssrp_sim_volume_backend_fill(ssrp_volume_backend *b); /* sim/volume_crash.c */
void ssrp_sim_tbs_socket_backend_fill(ssrp_tpm_backend *b); /* sim/tbs_socket.c */

#endif
