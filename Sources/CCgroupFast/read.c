/*
 * Bounded whole-file reads: pread from a kept descriptor, or openat+read+close.
 */
#include "cgf_cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/* Maps errno of a failed open/read to a status: a vanished cgroup or process is CGF_EGONE. */
static int status_from_errno(int err) {
    switch (err) {
    case ENODEV:   /* kernfs node removed under an open fd */
    case ENOENT:
    case ESRCH:    /* /proc/<pid> of an exited process */
    case ESTALE:
        return CGF_EGONE;
    default:
        return CGF_EIO;
    }
}

int cgf_read_fd(int fd, char *buf, size_t cap, size_t *len) {
    size_t total = 0;
    if (buf == NULL || cap == 0 || fd < 0) return CGF_EINVAL;
    for (;;) {
        if (total == cap) return CGF_ETOOBIG; /* a full buffer cannot prove it reached EOF */
        ssize_t n = pread(fd, buf + total, cap - total, (off_t)total);
        if (n < 0) {
            if (errno == EINTR) continue;
            return status_from_errno(errno);
        }
        if (n == 0) break;
        total += (size_t)n;
    }
    *len = total;
    return CGF_OK;
}

int cgf_read_at(int dirfd, const char *path, char *buf, size_t cap, size_t *len) {
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return status_from_errno(errno);
    int rc = cgf_read_fd(fd, buf, cap, len);
    close(fd);
    return rc;
}
