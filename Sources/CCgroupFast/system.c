/*
 * libsystemd and libseccomp: ids for MachineInfo and the sandbox library's version.
 */
#include "cgf_system.h"

#include <malloc.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
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

void cgf_tune_malloc(void) {
    mallopt(M_ARENA_MAX, 2);
}

uint64_t cgf_heap_in_use(void) { return (uint64_t)mallinfo2().uordblks; }

int cgf_journal_send(const char *const *fields, int count) {
    struct iovec iov[64];
    if (count < 0 || count > 64) return -22; /* -EINVAL */
    for (int i = 0; i < count; i++) {
        iov[i].iov_base = (void *)(uintptr_t)fields[i];
        iov[i].iov_len = strlen(fields[i]);
    }
    return sd_journal_sendv(iov, count);
}

int cgf_stderr_is_journal(void) {
    const char *e = getenv("JOURNAL_STREAM");
    struct stat st;
    unsigned long long dev, ino;
    if (e == NULL || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st) != 0) return 0;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}
