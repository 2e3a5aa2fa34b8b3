/* Helpers around the association engine that the command, the service and
 * the fuzzers share: the batch input file, the deviceId check and the JSON
 * form of a decision. Their calls are public (ssrp/assoc.h); assoc_input.c
 * and audit.c implement them. */
#ifndef SSRP_ESCROW_ASSOC_UTIL_H
#define SSRP_ESCROW_ASSOC_UTIL_H

#include "escrow/assoc.h"

#endif
