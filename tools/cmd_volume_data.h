/* Helpers of `ssrp volume` for whole-volume data: a read-only spec, and the
 * decrypted volume streamed to a file or standard output. */
#ifndef SSRP_TOOLS_CMD_VOLUME_DATA_H
#define SSRP_TOOLS_CMD_VOLUME_DATA_H

#include <stddef.h>

#include <ssrp/volume.h>

/* spec with the "ro" option for a sim: volume (bitlk: is read-only unless
 * asked); other specs unchanged. Returns out, or spec when it does not fit. */
const char *cli_volume_spec_read_only(char *out, size_t cap, const char *spec);

/* Every byte of the unlocked volume's decrypted view, in order, to path
 * ("-": standard output): reserved regions (metadata, relocated sectors) as
 * zeros, as Windows and the other readers show them. A file is written
 * under a temporary name beside path (mode 0600) and appears at path only
 * once complete; an existing path is refused (SSRP_E_REFUSED) unless force,
 * which replaces a file or writes into a device. */
int cli_volume_stream_decrypted(ssrp_volume *vol, const char *path, int force);

#endif
