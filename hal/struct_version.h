/* The one check of a caller's struct version (the public structs that carry
 * one: agent options and report, TPM info and stats, volume status). */
#ifndef SSRP_HAL_STRUCT_VERSION_H
#define SSRP_HAL_STRUCT_VERSION_H

/* SSRP_OK when version is 1..current; else SSRP_E_INVALID with a sentence
 * naming the struct (what) and the macro that sets it up (init). */
int ssrp_struct_version_check(const char *what, unsigned int version, unsigned int current,
			      const char *init);

#endif
