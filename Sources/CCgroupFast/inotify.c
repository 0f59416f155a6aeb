/*
 * Directory-only inotify, read in coalesced batches (inotify(7)).
 */
#include "cgf_inotify.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#define DIR_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_ONLYDIR)

int cgf_inotify_open(void) {
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int cgf_inotify_watch(int ifd, const char *path) {
    int wd = inotify_add_watch(ifd, path, DIR_MASK);
    return wd < 0 ? -errno : wd;
}

int cgf_inotify_unwatch(int ifd, int wd) { return inotify_rm_watch(ifd, wd) < 0 ? -errno : 0; }

/* Adds an event, cancelling a pending creation of the same directory (order is kept: a removal
   of an older directory of that name followed by a new creation must stay in that order). */
static void add_event(cgf_dir_batch *out, int32_t wd, int32_t kind, const char *name, size_t len) {
    if (kind == CGF_WATCH_GONE) { /* IN_DELETE_SELF and IN_IGNORED of one watch: report it once */
        for (uint32_t i = 0; i < out->count; i++)
            if (out->events[i].wd == wd && out->events[i].kind == CGF_WATCH_GONE) return;
    }
    if (kind == CGF_DIR_REMOVED) {
        for (uint32_t i = out->count; i-- > 0;) {
            cgf_dir_event *e = &out->events[i];
            if (e->wd == wd && e->kind == CGF_DIR_CREATED && strncmp(e->name, name, CGF_INOTIFY_NAME_MAX) == 0) {
                /* created and removed within one batch: neither is reported */
                memmove(&out->events[i], &out->events[i + 1], (out->count - i - 1) * sizeof(cgf_dir_event));
                out->count--;
                out->cancelled++;
                return;
            }
        }
    }
    if (out->count >= CGF_INOTIFY_MAX_EVENTS) { /* cannot happen with the bounded reads; be safe */
        out->overflow = 1;
        return;
    }
    cgf_dir_event *e = &out->events[out->count++];
    e->wd = wd;
    e->kind = kind;
    if (len >= CGF_INOTIFY_NAME_MAX) len = CGF_INOTIFY_NAME_MAX - 1;
    memcpy(e->name, name, len);
    e->name[len] = '\0';
}

int cgf_inotify_read_batch(int ifd, int timeout_ms, cgf_dir_batch *out, char *buf, size_t cap) {
    out->count = 0;
    out->overflow = 0;
    out->raw_events = 0;
    out->cancelled = 0;
    struct pollfd pfd = {.fd = ifd, .events = POLLIN};
    int ready = poll(&pfd, 1, timeout_ms);
    if (ready < 0) return errno == EINTR ? 0 : -errno;
    if (ready == 0) return 0;
    for (;;) {
        /* Read no more than the batch can take: every event is at least one header long, so a read
           of (free slots x header) bytes cannot overfill it. What is left stays queued for the next
           call; only the kernel's own IN_Q_OVERFLOW means events were lost. */
        size_t room = (size_t)(CGF_INOTIFY_MAX_EVENTS - out->count) * sizeof(struct inotify_event);
        size_t want = room < cap ? room : cap;
        if (want < sizeof(struct inotify_event) + CGF_INOTIFY_NAME_MAX) break;
        ssize_t n = read(ifd, buf, want);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) break;
            return -errno;
        }
        if (n == 0) break;
        size_t off = 0;
        while (off + sizeof(struct inotify_event) <= (size_t)n) {
            const struct inotify_event *ev = (const struct inotify_event *)(const void *)(buf + off);
            size_t size = sizeof(struct inotify_event) + ev->len;
            if (off + size > (size_t)n) break; /* never trust a length past the read */
            out->raw_events++;
            const char *name = ev->len ? ev->name : "";
            size_t len = ev->len ? strnlen(ev->name, ev->len) : 0;
            if (ev->mask & IN_Q_OVERFLOW) {
                out->overflow = 1;
            } else if (ev->mask & (IN_DELETE_SELF | IN_IGNORED)) {
                add_event(out, ev->wd, CGF_WATCH_GONE, "", 0);
            } else if (ev->mask & IN_ISDIR) {
                if (ev->mask & (IN_CREATE | IN_MOVED_TO)) add_event(out, ev->wd, CGF_DIR_CREATED, name, len);
                else if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) add_event(out, ev->wd, CGF_DIR_REMOVED, name, len);
            }
            off += size;
        }
    }
    return (int)out->count;
}
