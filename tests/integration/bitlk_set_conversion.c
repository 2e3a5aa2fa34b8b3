/* Test fixture: put a BitLocker volume's metadata in a conversion state as
 * Windows writes it when it pauses (or is part-way through) encrypting or
 * decrypting: in every copy the block header's current and next state,
 * the encrypted size (the bytes from the start that are encrypted) and the
 * size of the region being converted; the dataset's nonce counter moves
 * on, and the CRC-32 and the validation datum (AES-CCM under the VMK over
 * the block's SHA-256) are written again, as Windows does on every update.
 * The VMK comes from the recovery password on standard input.
 *
 * usage: bitlk_set_conversion IMG STATE NEXT_STATE ENCRYPTED_SIZE CONVERT_SIZE
 *        < recovery-password */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bitlocker/bitlk_keys.h"
#include "bitlocker/fve_metadata.h"
#include "bitlocker/recovery_password.h"
#include "bitlocker/stretch.h"
#include "ssrp/sys/error.h"

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int fail(const char *what)
{
	fprintf(stderr, "bitlk_set_conversion: %s: %s\n", what, ssrp_error_last());
	return 1;
}

/* The VMK, from the first recovery-password protector the key opens. */
static int vmk_of(uint8_t vmk[32], const ssrp_fve_metadata *md, const uint8_t key[16])
{
	for (size_t i = 0; i < md->n_vmks; i++) {
		const ssrp_fve_vmk *k = &md->vmks[i];
		uint8_t stretched[SSRP_STRETCH_KEY_LEN];
		if (k->protection != SSRP_FVE_PROTECT_RECOVERY_PASSWORD || !k->has_stretch)
			continue;
		if (ssrp_stretch_recovery_key(stretched, key, k->salt) == SSRP_OK &&
		    ssrp_bitlk_unwrap_key(vmk, 32, &k->wrapped_vmk, stretched, SSRP_FVE_ALG_VMK) ==
			    SSRP_OK)
			return SSRP_OK;
	}
	return ssrp_error_set(SSRP_E_BAD_KEY, "the recovery password opens no protector");
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: %s IMG STATE NEXT_STATE ENCRYPTED_SIZE CONVERT_SIZE "
				"< recovery-password\n", argv[0]);
		return 2;
	}
	char text[128] = "";
	uint8_t key[16], vmk[32], sector[SSRP_FVE_SECTOR];
	static uint8_t region[SSRP_FVE_REGION];
	static ssrp_fve_metadata md;
	ssrp_fve_boot boot;
	if (!fgets(text, sizeof text, stdin))
		return fail("no recovery password on standard input");
	text[strcspn(text, "\r\n")] = '\0';
	if (ssrp_rp_parse(key, text, strlen(text)))
		return fail("recovery password");
	int fd = open(argv[1], O_RDWR);
	if (fd < 0 || pread(fd, sector, sizeof sector, 0) != (ssize_t)sizeof sector)
		return perror(argv[1]), 1;
	if (ssrp_fve_boot_parse(&boot, sector))
		return fail("boot sector");
	int have_vmk = 0;
	for (int i = 0; i < 3; i++) {
		if (pread(fd, region, sizeof region, (off_t)boot.copies[i]) != (ssize_t)sizeof region)
			return perror("reading a metadata copy"), 1;
		if (ssrp_fve_metadata_parse(&md, region, sizeof region))
			return fail("metadata");
		if (!have_vmk && vmk_of(vmk, &md, key))
			return fail("recovery password");
		have_vmk = 1;
		put_le(region + 0x0C, strtoull(argv[2], NULL, 0), 2);
		put_le(region + 0x0E, strtoull(argv[3], NULL, 0), 2);
		put_le(region + 0x10, strtoull(argv[4], NULL, 0), 8);
		put_le(region + 0x18, strtoull(argv[5], NULL, 0), 4);
		uint8_t nonce[12];
		ssrp_bitlk_next_nonce(nonce, &md);
		put_le(region + 0x40 + 32, md.next_nonce, 4);
		size_t used = 0;
		if (ssrp_fve_metadata_seal(region, sizeof region, &used, vmk, nonce))
			return fail("sealing");
		if (pwrite(fd, region, used, (off_t)boot.copies[i]) != (ssize_t)used)
			return perror("writing a metadata copy"), 1;
	}
	memset(vmk, 0, sizeof vmk);
	memset(key, 0, sizeof key);
	return close(fd) ? 1 : 0;
}
