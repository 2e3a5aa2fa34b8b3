/* The association service's audit trail: its calls are public
 * (ssrp/assoc.h, "the audit trail"); audit.c implements them. */
#ifndef SSRP_ESCROW_AUDIT_H
#define SSRP_ESCROW_AUDIT_H

#include "escrow/assoc.h"

#endif
