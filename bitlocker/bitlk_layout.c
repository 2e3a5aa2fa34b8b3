/* A BitLocker volume's layout (see bitlk_layout.h). */
#include <stdio.h>
#include <string.h>

#include "bitlocker/fve_metadata.h"
#include "bitlocker/bitlk_layout.h"
#include "ssrp/sys/error.h"

int ssrp_bitlk_layout_for(ssrp_bitlk_layout *out, uint64_t size)
{
	if (size < SSRP_BITLK_VOLUME_MIN || size % SSRP_FVE_REGION)
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
	out->relocated_size = SSRP_FVE_RELOCATED_SIZE;
	out->sector = SSRP_FVE_SECTOR;
	out->encrypted_size = size;
	out->converting_size = 0;
	return SSRP_OK;
}

int ssrp_bitlk_layout_check(const ssrp_bitlk_layout *l, uint64_t dev_size)
{
	const char *bad = NULL;
	if (!l->size || l->size % l->sector || l->size > dev_size)
		bad = "the volume size";
	for (int i = 0; i < 3 && !bad; i++)
		if (l->copies[i] % l->sector || l->copies[i] > dev_size ||
		    dev_size - l->copies[i] < SSRP_FVE_REGION)
			bad = "a metadata copy's offset";
	if (!bad && (l->relocated_at % l->sector || l->relocated_size % l->sector ||
		     l->relocated_size > l->size || l->relocated_at > dev_size ||
		     dev_size - l->relocated_at < l->relocated_size))
		bad = "the relocated sectors";
	if (!bad && (l->encrypted_size > l->size || l->encrypted_size % l->sector ||
		     l->converting_size % l->sector || l->converting_size > l->size - l->encrypted_size))
		bad = "the encrypted part (conversion progress)";
	if (bad)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "volume layout: %s does not fit (size %llu, metadata at "
				      "0x%llx/0x%llx/0x%llx, %llu relocated bytes at 0x%llx, %u-byte "
				      "sectors, device %llu bytes)",
				      bad, (unsigned long long)l->size, (unsigned long long)l->copies[0],
				      (unsigned long long)l->copies[1], (unsigned long long)l->copies[2],
				      (unsigned long long)l->relocated_size,
				      (unsigned long long)l->relocated_at, l->sector,
				      (unsigned long long)dev_size);
	return SSRP_OK;
}

static int in_region(uint64_t offset, uint64_t start, uint64_t len)
{
	return offset >= start && offset - start < len;
}

uint64_t ssrp_bitlk_layout_physical(const ssrp_bitlk_layout *l, uint64_t s)
{
	uint64_t offset = s * l->sector;
	if (offset >= l->size)
		return UINT64_MAX;
	for (int i = 0; i < 3; i++)
		if (in_region(offset, l->copies[i], SSRP_FVE_REGION))
			return UINT64_MAX;
	if (in_region(offset, l->relocated_at, l->relocated_size) ||
	    in_region(offset, l->encrypted_size, l->converting_size))
		return UINT64_MAX;
	if (offset < l->relocated_size)
		return l->relocated_at / l->sector + s;
	return s;
}

int ssrp_bitlk_layout_plain(const ssrp_bitlk_layout *l, uint64_t s)
{
	uint64_t offset = s * l->sector;
	return offset >= l->relocated_size && offset >= l->encrypted_size;
}

size_t ssrp_bitlk_layout_regions(const ssrp_bitlk_layout *l,
			       ssrp_volume_region out[SSRP_BITLK_LAYOUT_REGIONS])
{
	for (int i = 0; i < 3; i++) {
		out[i].offset = l->copies[i];
		out[i].length = SSRP_FVE_REGION;
		snprintf(out[i].what, sizeof out[i].what, "metadata copy %d", i + 1);
	}
	out[3].offset = l->relocated_at;
	out[3].length = l->relocated_size;
	snprintf(out[3].what, sizeof out[3].what, "relocated boot sectors");
	if (!l->converting_size)
		return SSRP_BITLK_LAYOUT_REGIONS - 1;
	out[4].offset = l->encrypted_size;
	out[4].length = l->converting_size;
	snprintf(out[4].what, sizeof out[4].what, "region being converted");
	return SSRP_BITLK_LAYOUT_REGIONS;
}
