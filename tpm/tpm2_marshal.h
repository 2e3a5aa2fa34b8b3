/* TPM 2.0 commands and responses marshalled by hand, for the tbs backend:
 * GetCapability, GetRandom and PCR_Read, all without sessions.
 *
 * Portable: no allocation, no OS calls. Builders write a whole command into
 * the caller's buffer and give its size. Parsers take the bytes received,
 * check the header (tag, size field against the bytes, response code) and
 * every count and length, and refuse anything malformed or truncated with
 * SSRP_E_TPM and a message naming the command and what was wrong. A
 * response code other than success goes through ssrp_tpm_rc_error(), so
 * RETRY, YIELDED and TESTING come back as SSRP_E_TPM_BUSY. */
#ifndef SSRP_TPM2_MARSHAL_H
#define SSRP_TPM2_MARSHAL_H

#include <stddef.h>
#include <stdint.h>

#include "ssrp/sys/tpm.h"

/* TPM 2.0 Part 2 constants used here. */
#define SSRP_TPM2_HEADER_SIZE 10
#define SSRP_TPM2_ST_NO_SESSIONS 0x8001
#define SSRP_TPM2_ST_RSP_COMMAND 0x00C4 /* TPM 1.2 style: some errors come back so */
#define SSRP_TPM2_CC_GET_CAPABILITY 0x0000017Au
#define SSRP_TPM2_CC_GET_RANDOM 0x0000017Bu
#define SSRP_TPM2_CC_PCR_READ 0x0000017Eu
#define SSRP_TPM2_CAP_PCRS 0x00000005u
#define SSRP_TPM2_CAP_TPM_PROPERTIES 0x00000006u

/* The property ranges the tbs backend reads (tpm_info.c interprets them). */
#define SSRP_TPM2_PT_FAMILY_INDICATOR 0x100u /* first of TPM_PT_FIXED */
#define SSRP_TPM2_PT_FIRMWARE_VERSION_2 0x10Cu
#define SSRP_TPM2_PT_PERMANENT 0x200u /* first of TPM_PT_VAR */
#define SSRP_TPM2_PT_LOCKOUT_RECOVERY 0x211u

/* Limits a well-formed answer stays within. */
#define SSRP_TPM2_MAX_DIGESTS 8     /* TPML_DIGEST holds at most 8 */
#define SSRP_TPM2_MAX_SELECT 8      /* pcrSelect bytes accepted (64 PCRs) */
#define SSRP_TPM2_MAX_SELECTIONS 16 /* banks in one TPML_PCR_SELECTION */
#define SSRP_TPM2_MAX_PROPERTIES 64 /* properties asked for in one command */

/* ---- big-endian writer and reader over caller buffers ------------------ */

/* A write past cap sets overflow and writes nothing more. */
typedef struct ssrp_tpm2_writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int overflow;
} ssrp_tpm2_writer;

void ssrp_tpm2_writer_init(ssrp_tpm2_writer *w, uint8_t *buf, size_t cap);
void ssrp_tpm2_put_u8(ssrp_tpm2_writer *w, uint8_t v);
void ssrp_tpm2_put_u16(ssrp_tpm2_writer *w, uint16_t v);
void ssrp_tpm2_put_u32(ssrp_tpm2_writer *w, uint32_t v);
void ssrp_tpm2_put_bytes(ssrp_tpm2_writer *w, const void *p, size_t n);

/* Reads never go past len; what names the command in messages. */
typedef struct ssrp_tpm2_reader {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	const char *what; /* "GetRandom" */
} ssrp_tpm2_reader;

/* Each getter fails with SSRP_E_TPM "<what> response: truncated: ..."
 * naming field when fewer bytes than it needs are left. */
int ssrp_tpm2_get_u8(ssrp_tpm2_reader *r, uint8_t *v, const char *field);
int ssrp_tpm2_get_u16(ssrp_tpm2_reader *r, uint16_t *v, const char *field);
int ssrp_tpm2_get_u32(ssrp_tpm2_reader *r, uint32_t *v, const char *field);
int ssrp_tpm2_get_bytes(ssrp_tpm2_reader *r, void *out, size_t n, const char *field);

/* Check the 10-byte header of a no-session response of len bytes and put r
 * at its parameters. */
int ssrp_tpm2_response_begin(ssrp_tpm2_reader *r, const uint8_t *rsp, size_t len,
			     const char *what);
/* Refuse bytes left over after the last parameter. */
int ssrp_tpm2_response_end(const ssrp_tpm2_reader *r);

/* ---- commands: each writes into buf[0..cap) and sets *out_len --------- */

/* SSRP_E_BUFSIZE when cap is too small. */
int ssrp_tpm2_build_get_capability(uint8_t *buf, size_t cap, size_t *out_len,
				   uint32_t capability, uint32_t property, uint32_t count);
int ssrp_tpm2_build_get_random(uint8_t *buf, size_t cap, size_t *out_len, uint16_t bytes);
/* One bank: alg and the PCRs in mask (bit n = PCR n, 24 PCRs, 3 bytes). */
int ssrp_tpm2_build_pcr_read(uint8_t *buf, size_t cap, size_t *out_len, uint16_t alg,
			     uint32_t mask);

/* ---- responses --------------------------------------------------------- */

/* GetRandom: copy the bytes into out (at most asked) and set *out_got
 * (1..asked: a TPM may give fewer than asked, never none). */
int ssrp_tpm2_parse_get_random(const uint8_t *rsp, size_t len, uint8_t *out, size_t asked,
			       size_t *out_got);

typedef struct ssrp_tpm2_property {
	uint32_t property;
	uint32_t value;
} ssrp_tpm2_property;

/* GetCapability(TPM_CAP_TPM_PROPERTIES, first, asked): the properties into
 * out[0..asked), *out_n of them, ascending from first; *out_more is moreData. */
int ssrp_tpm2_parse_properties(const uint8_t *rsp, size_t len, uint32_t first, uint32_t asked,
			       ssrp_tpm2_property *out, size_t *out_n, int *out_more);

typedef struct ssrp_tpm2_pcr_selection {
	uint16_t alg;
	uint8_t size; /* bytes used in select */
	uint8_t select[SSRP_TPM2_MAX_SELECT]; /* byte i bit j = PCR 8*i+j */
} ssrp_tpm2_pcr_selection;

/* GetCapability(TPM_CAP_PCRS): the allocated banks into
 * out[0..SSRP_TPM2_MAX_SELECTIONS), *out_n of them; *out_more is moreData. */
int ssrp_tpm2_parse_pcrs(const uint8_t *rsp, size_t len, ssrp_tpm2_pcr_selection *out,
			 size_t *out_n, int *out_more);

/* PCR_Read of the sha256 bank for the PCRs in asked: the digests of the PCRs
 * the TPM returned go to out->digest[pcr] and their mask to *out_read (a
 * subset of asked, maybe empty: the caller asks again for the rest);
 * *out_update_counter is pcrUpdateCounter. out->mask is left alone. */
int ssrp_tpm2_parse_pcr_read(const uint8_t *rsp, size_t len, uint32_t asked,
			     ssrp_pcr_values *out, uint32_t *out_read,
			     uint32_t *out_update_counter);

#endif
