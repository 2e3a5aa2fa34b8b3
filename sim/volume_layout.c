/* The simulated volume's layout (see volume_layout.h). */
#include <stdio.h>
#include <string.h>

#include "bitlocker/fve_metadata.h"
#include "sim/volume_layout.h"
#include "ssrp/sys/error.h"

int ssrp_sim_layout_for(ssrp_sim_layout *out, uint64_t size)
{
	if (size < SSRP_SIM_VOLUME_MIN || size % SSRP_FVE_REGION)
		return ssrp_error_set(SSRP_E_INVALID,
				      "a simulated volume is a multiple of 64 KiB and at least 1 MiB; "
				      "%llu bytes is not",
				      (unsigned long long)size);
	if (size / SSRP_FVE_SECTOR > UINT32_MAX)
		return ssrp_error_set(SSRP_E_INVALID,
				      "a simulated volume holds under 2 TiB (the header counts "
				      "sectors in 32 bits)");
	uint64_t n = size / SSRP_FVE_REGION;
	out->size = size;
	for (int i = 0; i < 3; i++)
		out->copies[i] = SSRP_FVE_REGION * (n * (uint64_t)(i + 1) / 4);
	out->relocated_at = out->copies[0] + SSRP_FVE_REGION;
	return SSRP_OK;
}

int ssrp_sim_layout_check(const ssrp_sim_layout *l)
{
	ssrp_sim_layout want;
	int rc = ssrp_sim_layout_for(&want, l->size);
	if (rc)
		return ssrp_error_prefix(SSRP_E_FORMAT, "volume layout");
	if (memcmp(want.copies, l->copies, sizeof want.copies) ||
	    want.relocated_at != l->relocated_at)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "volume layout: metadata at 0x%llx/0x%llx/0x%llx with relocated "
				      "sectors at 0x%llx is not the simulator's layout for %llu bytes",
				      (unsigned long long)l->copies[0],
				      (unsigned long long)l->copies[1],
				      (unsigned long long)l->copies[2],
				      (unsigned long long)l->relocated_at, (unsigned long long)l->size);
	return SSRP_OK;
}

static int in_region(uint64_t offset, uint64_t start, uint64_t len)
{
	return offset >= start && offset - start < len;
}

uint64_t ssrp_sim_layout_physical(const ssrp_sim_layout *l, uint64_t s)
{
	uint64_t offset = s * SSRP_FVE_SECTOR;
	if (offset >= l->size)
		return UINT64_MAX;
	for (int i = 0; i < 3; i++)
		if (in_region(offset, l->copies[i], SSRP_FVE_REGION))
			return UINT64_MAX;
	if (in_region(offset, l->relocated_at, SSRP_FVE_RELOCATED_SIZE))
		return UINT64_MAX;
	if (s < SSRP_FVE_RELOCATED_SECTORS)
		return l->relocated_at / SSRP_FVE_SECTOR + s;
	return s;
}

size_t ssrp_sim_layout_regions(const ssrp_sim_layout *l,
			       ssrp_volume_region out[SSRP_SIM_LAYOUT_REGIONS])
{
	for (int i = 0; i < 3; i++) {
		out[i].offset = l->copies[i];
		out[i].length = SSRP_FVE_REGION;
		snprintf(out[i].what, sizeof out[i].what, "metadata copy %d", i + 1);
	}
	out[3].offset = l->relocated_at;
	out[3].length = SSRP_FVE_RELOCATED_SIZE;
	snprintf(out[3].what, sizeof out[3].what, "relocated boot sectors");
	return SSRP_SIM_LAYOUT_REGIONS;
}
