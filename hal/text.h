/* ASCII text helpers shared by every layer: identifiers, header names and
 * domain names compare without case in ASCII only (no locale, and no
 * strcasecmp, which not every platform has). The calls are public, in
 * ssrp/text.h. */
#ifndef SSRP_HAL_TEXT_H
#define SSRP_HAL_TEXT_H

#include "ssrp/text.h"

/* c with an ASCII capital letter made small; any other value as it is
 * (internal: the one case fold behind the calls above). */
int ssrp_ascii_lower(int c);

#endif
