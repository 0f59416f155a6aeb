/*
 * In-place parsers for the kernel's file formats. Every loop is bounded by
 * `end`; nothing here allocates or writes outside the caller's structs.
 */
#include "cgf_parse.h"

#include <string.h>

static int is_space(char c) { return c == ' ' || c == '\t'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

static const char *skip_spaces(const char *p, const char *end) {
    while (p < end && is_space(*p)) p++;
    return p;
}

int cgf_kv_get(const cgf_kv_list *list, const char *key, uint64_t *value) {
    for (uint32_t i = 0; i < list->count; i++) {
        if (strcmp(list->items[i].key, key) == 0) {
            *value = list->items[i].value;
            return 1;
        }
    }
    return 0;
}

const char *cgf_status_string(int status) {
    switch (status) {
    case CGF_OK: return "ok";
    case CGF_ABSENT: return "absent";
    case CGF_EPARSE: return "malformed content";
    case CGF_ERANGE: return "number out of range";
    case CGF_ETOOBIG: return "file larger than the read buffer";
    case CGF_EIO: return "read error";
    case CGF_EGONE: return "cgroup or process disappeared";
    case CGF_EINVAL: return "invalid argument";
    case CGF_ENOENT: return "no such cgroup";
    case CGF_EPARTIAL: return "some files failed";
    case CGF_EOVERFLOW: return "more entries than the table holds";
    default: return "unknown error";
    }
}

int cgf_parse_u64(const char **pp, const char *end, uint64_t *out) {
    const char *p = *pp;
    uint64_t v = 0;
    if (p >= end || !is_digit(*p)) return CGF_EPARSE;
    while (p < end && is_digit(*p)) {
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) return CGF_ERANGE;
        v = v * 10 + d;
        p++;
    }
    *out = v;
    *pp = p;
    return CGF_OK;
}

int cgf_parse_i64(const char **pp, const char *end, int64_t *out) {
    const char *p = *pp;
    int negative = 0;
    uint64_t magnitude;
    if (p < end && *p == '-') { negative = 1; p++; }
    int rc = cgf_parse_u64(&p, end, &magnitude);
    if (rc != CGF_OK) return rc;
    if (negative) {
        if (magnitude > (uint64_t)INT64_MAX + 1) return CGF_ERANGE;
        *out = magnitude == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)magnitude;
    } else {
        if (magnitude > (uint64_t)INT64_MAX) return CGF_ERANGE;
        *out = (int64_t)magnitude;
    }
    *pp = p;
    return CGF_OK;
}

int cgf_parse_fixed(const char **pp, const char *end, unsigned digits, uint64_t *out) {
    const char *p = *pp;
    uint64_t whole, scale = 1, frac = 0;
    int rc = cgf_parse_u64(&p, end, &whole);
    if (rc != CGF_OK) return rc;
    for (unsigned i = 0; i < digits; i++) {
        if (scale > UINT64_MAX / 10) return CGF_ERANGE;
        scale *= 10;
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || !is_digit(*p)) return CGF_EPARSE;
        uint64_t unit = scale;
        while (p < end && is_digit(*p)) {
            unit /= 10; /* digits beyond the precision are read and dropped */
            frac += (uint64_t)(*p - '0') * unit;
            p++;
        }
    }
    if (whole > (UINT64_MAX - frac) / scale) return CGF_ERANGE;
    *out = whole * scale + frac;
    *pp = p;
    return CGF_OK;
}

/* Trims trailing whitespace and newlines; returns the new end. */
static const char *trim_end(const char *buf, const char *end) {
    while (end > buf && (end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t')) end--;
    return end;
}

int cgf_parse_single_u64(const char *buf, size_t len, int allow_max, uint64_t *out) {
    const char *p = skip_spaces(buf, buf + len);
    const char *end = trim_end(p, buf + len);
    if (p == end) return CGF_EPARSE;
    if (allow_max && end - p == 3 && memcmp(p, "max", 3) == 0) {
        *out = CGF_UNLIMITED;
        return CGF_OK;
    }
    uint64_t v;
    int rc = cgf_parse_u64(&p, end, &v);
    if (rc != CGF_OK) return rc;
    if (p != end) return CGF_EPARSE;
    *out = v;
    return CGF_OK;
}

int cgf_parse_single_i64(const char *buf, size_t len, int64_t *out) {
    const char *p = skip_spaces(buf, buf + len);
    const char *end = trim_end(p, buf + len);
    int64_t v;
    int rc = cgf_parse_i64(&p, end, &v);
    if (rc != CGF_OK) return rc;
    if (p != end) return CGF_EPARSE;
    *out = v;
    return CGF_OK;
}

/* Appends key (k, klen) = value; counts it as dropped when the table or key buffer is too small. */
static void kv_append(cgf_kv_list *out, const char *k, size_t klen, uint64_t value) {
    if (klen >= CGF_KEY_MAX || out->count >= CGF_MAX_KV) {
        out->dropped++;
        return;
    }
    cgf_kv *item = &out->items[out->count++];
    memcpy(item->key, k, klen);
    item->key[klen] = '\0';
    item->value = value;
}

int cgf_flat_keyed_next(const char **pp, const char *end, const char **key, size_t *klen, uint64_t *value) {
    const char *p = *pp;
    if (p >= end) return CGF_ABSENT;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (nl == NULL) return CGF_EPARSE; /* truncated last line */
    const char *k = p;
    while (p < nl && !is_space(*p)) p++;
    if (p == k) return CGF_EPARSE;
    *key = k;
    *klen = (size_t)(p - k);
    p = skip_spaces(p, nl);
    int rc = cgf_parse_u64(&p, nl, value);
    if (rc != CGF_OK) return rc;
    if (skip_spaces(p, nl) != nl) return CGF_EPARSE;
    *pp = nl + 1;
    return CGF_OK;
}

int cgf_parse_flat_keyed(const char *buf, size_t len, cgf_kv_list *out) {
    const char *p = buf, *end = buf + len, *key;
    size_t klen;
    uint64_t v;
    int rc;
    out->count = 0;
    out->dropped = 0;
    while ((rc = cgf_flat_keyed_next(&p, end, &key, &klen, &v)) == CGF_OK) kv_append(out, key, klen, v);
    return rc == CGF_ABSENT ? CGF_OK : rc;
}

int cgf_parse_meminfo(const char *buf, size_t len, cgf_kv_list *out) {
    const char *p = buf, *end = buf + len;
    out->count = 0;
    out->dropped = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) return CGF_EPARSE;
        const char *colon = memchr(p, ':', (size_t)(nl - p));
        if (colon == NULL || colon == p) return CGF_EPARSE;
        const char *key = p;
        size_t klen = (size_t)(colon - key);
        p = skip_spaces(colon + 1, nl);
        uint64_t v;
        int rc = cgf_parse_u64(&p, nl, &v);
        if (rc != CGF_OK) return rc;
        p = skip_spaces(p, nl);
        if (nl - p == 2 && p[0] == 'k' && p[1] == 'B') {
            if (v > UINT64_MAX / 1024) return CGF_ERANGE;
            v *= 1024;
        } else if (p != nl) {
            return CGF_EPARSE;
        }
        kv_append(out, key, klen, v);
        p = nl + 1;
    }
    return CGF_OK;
}

int cgf_parse_u64_list(const char *buf, size_t len, uint64_t *out, uint32_t cap, uint32_t *count) {
    const char *p = buf, *end = trim_end(buf, buf + len);
    uint32_t n = 0;
    int overflow = 0;
    *count = 0;
    p = skip_spaces(p, end);
    while (p < end) {
        uint64_t v;
        int rc = cgf_parse_u64(&p, end, &v);
        if (rc != CGF_OK) return rc;
        if (p < end && !is_space(*p)) return CGF_EPARSE;
        if (n < cap) out[n++] = v; else overflow = 1;
        p = skip_spaces(p, end);
    }
    *count = n;
    return overflow ? CGF_EOVERFLOW : CGF_OK;
}

/* Parses "key=value" where value is fixed-point for the avg fields and an integer for total. */
static int parse_psi_line(const char *p, const char *end, cgf_psi_line *line) {
    int seen = 0;
    while (p < end) {
        p = skip_spaces(p, end);
        if (p >= end) break;
        const char *key = p;
        while (p < end && *p != '=' && !is_space(*p)) p++;
        if (p >= end || *p != '=') return CGF_EPARSE;
        size_t klen = (size_t)(p - key);
        p++;
        int rc;
        if (klen == 5 && memcmp(key, "avg10", 5) == 0) {
            rc = cgf_parse_fixed(&p, end, 2, &line->avg10_x100); seen |= 1;
        } else if (klen == 5 && memcmp(key, "avg60", 5) == 0) {
            rc = cgf_parse_fixed(&p, end, 2, &line->avg60_x100); seen |= 2;
        } else if (klen == 6 && memcmp(key, "avg300", 6) == 0) {
            rc = cgf_parse_fixed(&p, end, 2, &line->avg300_x100); seen |= 4;
        } else if (klen == 5 && memcmp(key, "total", 5) == 0) {
            rc = cgf_parse_u64(&p, end, &line->total_us); seen |= 8;
        } else {
            uint64_t ignored;  /* a future key: accept a number and move on */
            rc = cgf_parse_fixed(&p, end, 2, &ignored);
        }
        if (rc != CGF_OK) return rc;
        if (p < end && !is_space(*p)) return CGF_EPARSE;
    }
    return seen == 15 ? CGF_OK : CGF_EPARSE;
}

int cgf_parse_pressure(const char *buf, size_t len, cgf_psi *out) {
    const char *p = buf, *end = buf + len;
    memset(out, 0, sizeof(*out));
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) return CGF_EPARSE;
        int rc;
        if (nl - p >= 5 && memcmp(p, "some ", 5) == 0) {
            rc = parse_psi_line(p + 5, nl, &out->some);
            out->has_some = rc == CGF_OK;
        } else if (nl - p >= 5 && memcmp(p, "full ", 5) == 0) {
            rc = parse_psi_line(p + 5, nl, &out->full);
            out->has_full = rc == CGF_OK;
        } else {
            return CGF_EPARSE;
        }
        if (rc != CGF_OK) return rc;
        p = nl + 1;
    }
    return out->has_some ? CGF_OK : CGF_EPARSE;
}

int cgf_parse_line_text(const char *buf, size_t len, char *out, size_t cap) {
    const char *end = trim_end(buf, buf + len);
    const char *nl = memchr(buf, '\n', (size_t)(end - buf));
    if (nl != NULL) return CGF_EPARSE; /* more than one line */
    size_t n = (size_t)(end - buf);
    if (cap == 0 || n >= cap) return CGF_ETOOBIG;
    memcpy(out, buf, n);
    out[n] = '\0';
    return CGF_OK;
}
