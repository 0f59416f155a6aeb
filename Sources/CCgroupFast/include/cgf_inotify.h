/*
 * CCgroupFast — inotify for cgroup discovery: directory events read in
 * batches into a caller-owned struct, bursts coalesced, overflow flagged.
 * The caller keeps the watch-descriptor -> directory map (it adds watches for
 * new directories as their events arrive).
 */
#ifndef CGF_INOTIFY_H
#define CGF_INOTIFY_H

#include "cgf_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CGF_INOTIFY_MAX_EVENTS 1024
#define CGF_INOTIFY_NAME_MAX 256

/** What happened to a directory. */
typedef enum {
    CGF_DIR_CREATED = 1,   /* IN_CREATE or IN_MOVED_TO of a directory */
    CGF_DIR_REMOVED = 2,   /* IN_DELETE or IN_MOVED_FROM of a directory */
    CGF_WATCH_GONE = 3     /* IN_DELETE_SELF / IN_IGNORED: the watched directory itself is gone */
} cgf_dir_event_kind;

typedef struct {
    int32_t wd;                          /* the watch the event came from (parent directory) */
    int32_t kind;                        /* cgf_dir_event_kind */
    char name[CGF_INOTIFY_NAME_MAX];     /* the child directory's name ("" for CGF_WATCH_GONE) */
} cgf_dir_event;

/** One batch of coalesced events. */
typedef struct {
    uint32_t count;
    uint8_t overflow;        /* IN_Q_OVERFLOW: the kernel dropped events; rescan */
    uint32_t raw_events;     /* kernel events read, before coalescing */
    uint32_t cancelled;      /* created-then-removed pairs dropped by coalescing */
    cgf_dir_event events[CGF_INOTIFY_MAX_EVENTS];
} cgf_dir_batch;

/** Opens an inotify instance (non-blocking); returns the fd or a negative errno. */
int cgf_inotify_open(void);

/** Watches a directory for child directories appearing and disappearing; returns wd or a negative errno
    (-ENOSPC when fs.inotify.max_user_watches is exhausted). */
int cgf_inotify_watch(int ifd, const char *path);

/** Stops a watch. */
int cgf_inotify_unwatch(int ifd, int wd);

/**
 * Waits up to timeout_ms (-1: forever, 0: not at all) for events, then reads
 * queued events into out (as many as the batch can hold; the rest stay queued),
 * coalescing a directory created and removed within the batch. buf/cap is the read buffer (64 KiB is plenty).
 * Returns the number of events in out, or a negative errno.
 */
int cgf_inotify_read_batch(int ifd, int timeout_ms, cgf_dir_batch *out, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
