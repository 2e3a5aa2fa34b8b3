/* Turning GetCapability answers into ssrp_tpm_info, for every backend. */
#include <string.h>

#include "ssrp/sys/tpm.h"

/* TPM 2.0 Part 2, 6.13 (TPM_PT) and 8.6 (TPMA_PERMANENT). */
enum {
	PT_FAMILY_INDICATOR = 0x100,
	PT_LEVEL = 0x101,
	PT_REVISION = 0x102,
	PT_MANUFACTURER = 0x105,
	PT_VENDOR_STRING_1 = 0x106,
	PT_VENDOR_STRING_4 = 0x109,
	PT_FIRMWARE_VERSION_1 = 0x10B,
	PT_FIRMWARE_VERSION_2 = 0x10C,
	PT_PERMANENT = 0x200,
	PT_LOCKOUT_COUNTER = 0x20E,
	PT_MAX_AUTH_FAIL = 0x20F,
	PT_LOCKOUT_INTERVAL = 0x210,
	PT_LOCKOUT_RECOVERY = 0x211,
	PERMANENT_IN_LOCKOUT = 1u << 9,
};

/* Four ASCII bytes of a big-endian property; unprintable bytes cut. */
static void put_chars(char *dst, uint32_t v)
{
	for (int i = 0; i < 4; i++) {
		char c = (char)(v >> (24 - 8 * i));
		dst[i] = (c >= 0x20 && c < 0x7f) ? c : '\0';
	}
}

static void trim(char *s, size_t size)
{
	s[size - 1] = '\0';
	size_t n = strlen(s);
	while (n && s[n - 1] == ' ')
		s[--n] = '\0';
}

void ssrp_tpm_info_apply_property(ssrp_tpm_info *info, uint32_t property, uint32_t value)
{
	switch (property) {
	case PT_FAMILY_INDICATOR:
		memset(info->family, 0, sizeof info->family);
		put_chars(info->family, value);
		trim(info->family, sizeof info->family);
		break;
	case PT_LEVEL: info->spec_level = value; break;
	case PT_REVISION: info->spec_revision = value; break;
	case PT_MANUFACTURER:
		info->manufacturer_id = value;
		memset(info->manufacturer, 0, sizeof info->manufacturer);
		put_chars(info->manufacturer, value);
		trim(info->manufacturer, sizeof info->manufacturer);
		break;
	case PT_FIRMWARE_VERSION_1: info->firmware_1 = value; break;
	case PT_FIRMWARE_VERSION_2: info->firmware_2 = value; break;
	case PT_PERMANENT: info->in_lockout = (value & PERMANENT_IN_LOCKOUT) != 0; break;
	case PT_LOCKOUT_COUNTER: info->lockout_counter = value; break;
	case PT_MAX_AUTH_FAIL: info->max_auth_fail = value; break;
	case PT_LOCKOUT_INTERVAL: info->lockout_interval = value; break;
	case PT_LOCKOUT_RECOVERY: info->lockout_recovery = value; break;
	default:
		if (property >= PT_VENDOR_STRING_1 && property <= PT_VENDOR_STRING_4)
			put_chars(info->vendor + 4 * (property - PT_VENDOR_STRING_1), value);
		break;
	}
}

void ssrp_tpm_info_add_bank(ssrp_tpm_info *info, uint16_t alg, const uint8_t *select,
			    size_t select_len)
{
	uint32_t mask = 0;
	for (size_t i = 0; i < select_len && i < 3; i++)
		mask |= (uint32_t)select[i] << (8 * i);
	if (!mask || info->n_banks >= SSRP_TPM_MAX_BANKS)
		return;
	info->banks[info->n_banks].alg = alg;
	info->banks[info->n_banks].pcr_mask = mask;
	info->n_banks++;
}
