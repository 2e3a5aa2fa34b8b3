/* libFuzzer target: the boot sector (BitLocker's "-FVE-FS-" sector or a To
 * Go volume's FAT "MSWIN4.1" sector) and .BEK startup key files, both in
 * bitlocker/fve_metadata.c. Each must refuse what it does not accept with
 * SSRP_E_FORMAT and a message and never crash; what the boot parser
 * accepts has a 512- or 4096-byte sector and sector-aligned metadata
 * offsets. The first byte picks the parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bitlocker/fve_metadata.h"
#include "ssrp/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void refused_properly(int rc)
{
	if (rc != SSRP_OK && (rc != SSRP_E_FORMAT || !ssrp_error_last()[0]))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (data[0] & 1) {
		uint8_t guid[16], key[32];
		refused_properly(ssrp_fve_bek_parse(guid, key, data + 1, size - 1));
		return 0;
	}
	uint8_t sector[SSRP_FVE_SECTOR] = {0};
	memcpy(sector, data + 1, size - 1 < sizeof sector ? size - 1 : sizeof sector);
	ssrp_fve_boot boot;
	int rc = ssrp_fve_boot_parse(&boot, sector);
	refused_properly(rc);
	if (rc == SSRP_OK) {
		if (boot.sector_size != 512 && boot.sector_size != 4096)
			abort();
		for (int i = 0; i < 3; i++)
			if (!boot.copies[i] || boot.copies[i] % SSRP_FVE_SECTOR)
				abort();
	}
	return 0;
}
