/*
 * CCgroupFast — hashing for HTTP authentication: MD5 (htdigest, digest responses, APR1), SHA-1
 * (htpasswd {SHA}), and password checks against every hash htpasswd writes.
 */
#ifndef CGF_AUTH_H
#define CGF_AUTH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** MD5 of `len` bytes (RFC 1321). */
void cgf_md5(const void *data, size_t len, uint8_t out[16]);

/** SHA-1 of `len` bytes (FIPS 180-4). */
void cgf_sha1(const void *data, size_t len, uint8_t out[20]);

/** Whether `password` matches an htpasswd hash: bcrypt ($2y$, $2a$, $2b$), {SHA}, $apr1$ (Apache MD5),
    and crypt(3)'s $1$, $5$, $6$. 1 on a match, 0 otherwise (unknown or malformed hashes never match).
    The comparison takes the same time wherever the hashes differ. */
int cgf_password_matches(const char *password, const char *hash);

/** Apache's APR1 hash of `password` with `salt` (up to 8 characters): "$apr1$salt$…" into `out`. */
void cgf_apr1(const char *password, const char *salt, char out[64]);

#ifdef __cplusplus
}
#endif
#endif
