/*
 * CCgroupFast — host identity through libsystemd, and libseccomp's presence.
 */
#ifndef CGF_SYSTEM_H
#define CGF_SYSTEM_H

#include "cgf_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The machine id (32 hex digits + NUL) from sd_id128_get_machine; a negative errno on failure. */
int cgf_machine_id(char out[33]);

/** The boot id (32 hex digits + NUL) from sd_id128_get_boot; a negative errno on failure. */
int cgf_boot_id(char out[33]);

/** The linked libseccomp version as major*10000 + minor*100 + micro. */
unsigned cgf_seccomp_version(void);

#ifdef __cplusplus
}
#endif
#endif
