/*
 * CCgroupFast — common types: status codes, bounds, key/value lists.
 *
 * Every function in this module returns a status code (CGF_OK or a negative
 * CGF_E* value); nothing prints, nothing allocates on the sampling path.
 */
#ifndef CGF_COMMON_H
#define CGF_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status codes -------------------------------------------------------- */
enum {
    CGF_OK = 0,
    CGF_ABSENT = 1,       /* the file does not exist (controller not mounted, old kernel) */
    CGF_EPARSE = -1,      /* malformed content: garbage, truncated line, missing value */
    CGF_ERANGE = -2,      /* a number does not fit in 64 bits */
    CGF_ETOOBIG = -3,     /* the file is larger than the caller's buffer */
    CGF_EIO = -4,         /* read(2)/open(2) failed for another reason */
    CGF_EGONE = -5,       /* the cgroup (or process) disappeared while being read */
    CGF_EINVAL = -6,      /* bad argument: a name with "..", a missing buffer */
    CGF_ENOENT = -7,      /* the cgroup does not exist in any hierarchy */
    CGF_EPARTIAL = -8,    /* some files of a sample failed; see the per-file status */
    CGF_EOVERFLOW = -9    /* more entries than the fixed-size table holds (extra ones dropped) */
};

/* ---- bounds of the fixed-size tables -------------------------------------- */
#define CGF_MAX_CPUS 1024          /* per-cpu usage entries */
#define CGF_KEY_MAX 48             /* longest key kept in a key/value list, NUL included */
#define CGF_MAX_KV 256             /* keys kept from one flat keyed file (vmstat has ~180) */
#define CGF_MAX_DEVICES 64         /* block devices in one blkio / io.stat file */
#define CGF_MAX_HUGEPAGE_SIZES 8   /* hugetlb page sizes */
#define CGF_HUGEPAGE_NAME_MAX 16   /* "2MB", "1GB", "64KB" ... */
#define CGF_CPUSET_MAX 512         /* cpuset.cpus / cpuset.mems text */
#define CGF_PATH_MAX 4096

/** One "key value" pair from a flat keyed file. */
typedef struct {
    char key[CGF_KEY_MAX];
    uint64_t value;
} cgf_kv;

/** All pairs of a flat keyed file, in file order. */
typedef struct {
    uint32_t count;
    uint32_t dropped;   /* pairs beyond CGF_MAX_KV or with a key longer than CGF_KEY_MAX */
    cgf_kv items[CGF_MAX_KV];
} cgf_kv_list;

/** Looks a key up; returns 1 and sets *value when found, else 0. */
int cgf_kv_get(const cgf_kv_list *list, const char *key, uint64_t *value);

/** A human-readable name for a status code ("parse error", ...). */
const char *cgf_status_string(int status);

#ifdef __cplusplus
}
#endif
#endif
