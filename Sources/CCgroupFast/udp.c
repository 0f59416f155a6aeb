/*
 * CCgroupFast — many datagrams in few syscalls: sendmmsg(2) for the statsd storage driver, which
 * sends one datagram per figure (cAdvisor's format) and so a few thousand per second.
 */
#include "cgf_push.h"

#include <errno.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/types.h>

#ifndef UIO_MAXIOV
#define UIO_MAXIOV 1024
#endif
#define CGF_MMSG_BATCH 256

size_t cgf_send_datagrams(int fd, const uint8_t *buf, const size_t *ends, size_t n, int *err) {
    struct mmsghdr msgs[CGF_MMSG_BATCH];
    struct iovec iov[CGF_MMSG_BATCH];
    size_t sent = 0;
    *err = 0;
    while (sent < n) {
        size_t count = n - sent < CGF_MMSG_BATCH ? n - sent : CGF_MMSG_BATCH;
        for (size_t i = 0; i < count; i++) {
            size_t start = sent + i == 0 ? 0 : ends[sent + i - 1];
            iov[i].iov_base = (void *)(buf + start);
            iov[i].iov_len = ends[sent + i] - start;
            msgs[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
            msgs[i].msg_len = 0;
        }
        int r = sendmmsg(fd, msgs, (unsigned)count, MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EINTR) continue;
            *err = errno;
            return sent;
        }
        for (int i = 0; i < r; i++) {
            if (msgs[i].msg_len != iov[i].iov_len) { /* a datagram goes whole or not at all */
                *err = EMSGSIZE;
                return sent + (size_t)i;
            }
        }
        sent += (size_t)r;
        if ((size_t)r < count) {
            /* Datagram `sent` failed and sendmmsg does not say why (the kernel reports an error only
             * when nothing was sent). Sent alone it names a lasting error (EMSGSIZE, ENOBUFS, ...);
             * when it goes through, the failure was a passing one, typically an ICMP refusal from
             * the peer that the failed datagram consumed: still a failure for the caller. */
            const uint8_t *start = buf + (sent == 0 ? 0 : ends[sent - 1]);
            ssize_t w;
            do w = send(fd, start, ends[sent] - (size_t)(start - buf), MSG_NOSIGNAL);
            while (w < 0 && errno == EINTR);
            if (w < 0) {
                *err = errno;
                return sent;
            }
            *err = CGF_SEND_STOPPED;
            return sent + 1;
        }
    }
    return sent;
}
