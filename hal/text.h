/* ASCII text helpers shared by every layer: identifiers, header names and
 * domain names compare without case in ASCII only (no locale, and no
 * strcasecmp, which not every platform has). The calls are public, in
 * ssrp/text.h. */
#ifndef SSRP_HAL_TEXT_H
#define SSRP_HAL_TEXT_H

#include "ssrp/text.h"

#endif
