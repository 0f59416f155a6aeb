/*
 * libsystemd and libseccomp: ids for MachineInfo and the sandbox library's version.
 */
#include "cgf_system.h"

#include <malloc.h>
#include <seccomp.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-id128.h>

int cgf_machine_id(char out[33]) {
    sd_id128_t id;
    int rc = sd_id128_get_machine(&id);
    if (rc < 0) return rc;
    sd_id128_to_string(id, out);
    return 0;
}

int cgf_boot_id(char out[33]) {
    sd_id128_t id;
    int rc = sd_id128_get_boot(&id);
    if (rc < 0) return rc;
    sd_id128_to_string(id, out);
    return 0;
}

unsigned cgf_seccomp_version(void) {
    const struct scmp_version *v = seccomp_version();
    if (v == NULL) return 0;
    return v->major * 10000 + v->minor * 100 + v->micro;
}

int cgf_notify(const char *state) { return sd_notify(0, state); }

uint64_t cgf_watchdog_usec(void) {
    uint64_t usec = 0;
    return sd_watchdog_enabled(0, &usec) > 0 ? usec : 0;
}

void cgf_release_free_memory(void) { malloc_trim(0); }
