/* Hashing for HTTP authentication: MD5, SHA-1, APR1, and htpasswd password checks. */
#include "cgf_auth.h"

#include <crypt.h>
#include <string.h>

/* ---- MD5 (RFC 1321) ---- */

typedef struct {
    uint32_t state[4];
    uint64_t length;
    uint8_t buffer[64];
    size_t used;
} md5_ctx;

static const uint32_t md5_k[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};
static const uint8_t md5_r[64] = {
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
    4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
};

static uint32_t rotl(uint32_t x, unsigned n) { return (x << n) | (x >> (32 - n)); }

static void md5_block(md5_ctx *c, const uint8_t *p) {
    uint32_t m[16];
    for (int i = 0; i < 16; i++)
        m[i] = (uint32_t)p[i * 4] | (uint32_t)p[i * 4 + 1] << 8 | (uint32_t)p[i * 4 + 2] << 16 | (uint32_t)p[i * 4 + 3] << 24;
    uint32_t a = c->state[0], b = c->state[1], cc = c->state[2], d = c->state[3];
    for (int i = 0; i < 64; i++) {
        uint32_t f;
        int g;
        if (i < 16) { f = (b & cc) | (~b & d); g = i; }
        else if (i < 32) { f = (d & b) | (~d & cc); g = (5 * i + 1) % 16; }
        else if (i < 48) { f = b ^ cc ^ d; g = (3 * i + 5) % 16; }
        else { f = cc ^ (b | ~d); g = (7 * i) % 16; }
        uint32_t t = d;
        d = cc;
        cc = b;
        b = b + rotl(a + f + md5_k[i] + m[g], md5_r[i]);
        a = t;
    }
    c->state[0] += a;
    c->state[1] += b;
    c->state[2] += cc;
    c->state[3] += d;
}

static void md5_init(md5_ctx *c) {
    c->state[0] = 0x67452301;
    c->state[1] = 0xefcdab89;
    c->state[2] = 0x98badcfe;
    c->state[3] = 0x10325476;
    c->length = 0;
    c->used = 0;
}

static void md5_update(md5_ctx *c, const void *data, size_t len) {
    const uint8_t *p = data;
    c->length += len;
    while (len > 0) {
        size_t n = 64 - c->used < len ? 64 - c->used : len;
        memcpy(c->buffer + c->used, p, n);
        c->used += n;
        p += n;
        len -= n;
        if (c->used == 64) {
            md5_block(c, c->buffer);
            c->used = 0;
        }
    }
}

static void md5_final(md5_ctx *c, uint8_t out[16]) {
    uint64_t bits = c->length * 8;
    uint8_t pad = 0x80, zero = 0;
    md5_update(c, &pad, 1);
    while (c->used != 56) md5_update(c, &zero, 1);
    uint8_t len[8];
    for (int i = 0; i < 8; i++) len[i] = (uint8_t)(bits >> (8 * i));
    md5_update(c, len, 8);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) out[i * 4 + j] = (uint8_t)(c->state[i] >> (8 * j));
}

void cgf_md5(const void *data, size_t len, uint8_t out[16]) {
    md5_ctx c;
    md5_init(&c);
    md5_update(&c, data, len);
    md5_final(&c, out);
}

/* ---- SHA-1 (FIPS 180-4) ---- */

void cgf_sha1(const void *data, size_t len, uint8_t out[20]) {
    uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    const uint8_t *p = data;
    uint64_t bits = (uint64_t)len * 8;
    size_t total = ((len + 8) / 64 + 1) * 64;
    for (size_t off = 0; off < total; off += 64) {
        uint8_t block[64];
        for (size_t i = 0; i < 64; i++) {
            size_t k = off + i;
            if (k < len) block[i] = p[k];
            else if (k == len) block[i] = 0x80;
            else if (k >= total - 8) block[i] = (uint8_t)(bits >> (8 * (total - 1 - k)));
            else block[i] = 0;
        }
        uint32_t w[80];
        for (int i = 0; i < 16; i++)
            w[i] = (uint32_t)block[i * 4] << 24 | (uint32_t)block[i * 4 + 1] << 16 | (uint32_t)block[i * 4 + 2] << 8 | block[i * 4 + 3];
        for (int i = 16; i < 80; i++) w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
        for (int i = 0; i < 80; i++) {
            uint32_t f, k;
            if (i < 20) { f = (b & c) | (~b & d); k = 0x5A827999; }
            else if (i < 40) { f = b ^ c ^ d; k = 0x6ED9EBA1; }
            else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDC; }
            else { f = b ^ c ^ d; k = 0xCA62C1D6; }
            uint32_t t = rotl(a, 5) + f + e + k + w[i];
            e = d;
            d = c;
            c = rotl(b, 30);
            b = a;
            a = t;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
    }
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 4; j++) out[i * 4 + j] = (uint8_t)(h[i] >> (24 - 8 * j));
}

/* ---- APR1 (Apache's MD5-crypt with magic "$apr1$") ---- */

static const char itoa64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static char *to64(char *p, uint32_t v, int n) {
    while (n-- > 0) {
        *p++ = itoa64[v & 0x3f];
        v >>= 6;
    }
    return p;
}

void cgf_apr1(const char *password, const char *salt, char out[64]) {
    static const char magic[] = "$apr1$";
    size_t pl = strlen(password);
    size_t sl = 0;
    while (sl < 8 && salt[sl] && salt[sl] != '$') sl++;
    md5_ctx c, alt;
    uint8_t final[16];
    md5_init(&c);
    md5_update(&c, password, pl);
    md5_update(&c, magic, 6);
    md5_update(&c, salt, sl);
    md5_init(&alt);
    md5_update(&alt, password, pl);
    md5_update(&alt, salt, sl);
    md5_update(&alt, password, pl);
    md5_final(&alt, final);
    for (size_t n = pl; n > 0; n -= n > 16 ? 16 : n) md5_update(&c, final, n > 16 ? 16 : n);
    memset(final, 0, sizeof final);
    for (size_t i = pl; i; i >>= 1) md5_update(&c, (i & 1) ? (const void *)final : (const void *)password, 1);
    md5_final(&c, final);
    for (int i = 0; i < 1000; i++) {
        md5_init(&c);
        if (i & 1) md5_update(&c, password, pl); else md5_update(&c, final, 16);
        if (i % 3) md5_update(&c, salt, sl);
        if (i % 7) md5_update(&c, password, pl);
        if (i & 1) md5_update(&c, final, 16); else md5_update(&c, password, pl);
        md5_final(&c, final);
    }
    char *p = out;
    memcpy(p, magic, 6);
    p += 6;
    memcpy(p, salt, sl);
    p += sl;
    *p++ = '$';
    p = to64(p, (uint32_t)final[0] << 16 | (uint32_t)final[6] << 8 | final[12], 4);
    p = to64(p, (uint32_t)final[1] << 16 | (uint32_t)final[7] << 8 | final[13], 4);
    p = to64(p, (uint32_t)final[2] << 16 | (uint32_t)final[8] << 8 | final[14], 4);
    p = to64(p, (uint32_t)final[3] << 16 | (uint32_t)final[9] << 8 | final[15], 4);
    p = to64(p, (uint32_t)final[4] << 16 | (uint32_t)final[10] << 8 | final[5], 4);
    p = to64(p, final[11], 2);
    *p = 0;
}

/* ---- password checks ---- */

static int same(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    unsigned diff = (unsigned)(la ^ lb);
    for (size_t i = 0; i < la && i < lb; i++) diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

static void base64(const uint8_t *in, size_t len, char *out) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < len ? in[i + 2] : 0);
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = i + 1 < len ? tab[v >> 6 & 63] : '=';
        out[o++] = i + 2 < len ? tab[v & 63] : '=';
    }
    out[o] = 0;
}

int cgf_password_matches(const char *password, const char *hash) {
    if (!password || !hash || !*hash) return 0;
    if (strncmp(hash, "{SHA}", 5) == 0) {
        uint8_t digest[20];
        char encoded[32];
        cgf_sha1(password, strlen(password), digest);
        base64(digest, 20, encoded);
        return same(encoded, hash + 5);
    }
    if (strncmp(hash, "$apr1$", 6) == 0) {
        char computed[64];
        cgf_apr1(password, hash + 6, computed);
        return same(computed, hash);
    }
    if (hash[0] != '$') return 0; /* plain text and DES crypt are refused */
    struct crypt_data data;
    memset(&data, 0, sizeof data);
    const char *computed = crypt_r(password, hash, &data);
    if (!computed || computed[0] == '*') return 0;
    return same(computed, hash);
}
