/*
 * CCgroupFast — RS256 signing (RSASSA-PKCS1-v1_5 with SHA-256) through the system's OpenSSL 3
 * libcrypto, for BigQuery's service-account JWT. The key is PEM (PKCS#8 or PKCS#1) from memory;
 * keys that are not RSA of 2048 bits or more are refused. Error texts go into caller buffers.
 */
#ifndef CGF_SIGN_H
#define CGF_SIGN_H

#include <stddef.h>
#include <stdint.h>

#pragma clang assume_nonnull begin

typedef struct cgf_rsa_key cgf_rsa_key;

/* Loads an unencrypted PEM RSA private key ("PRIVATE KEY" or "RSA PRIVATE KEY") of `len` bytes and
 * signs once to check it. Null with the reason in err when it is not one, is encrypted, or has fewer
 * than 2048 bits. */
cgf_rsa_key *_Nullable cgf_rsa_key_load(const void *pem, size_t len, char *err, size_t errlen);
/* The key's modulus size in bits (also the signature's size in bits). */
int cgf_rsa_key_bits(const cgf_rsa_key *k);
/* RS256 signature of `len` bytes into out (cap >= bits/8): its length, or -1 with the reason. */
long cgf_rsa_sign_sha256(cgf_rsa_key *k, const void *data, size_t len, uint8_t *out, size_t cap, char *err, size_t errlen);
void cgf_rsa_key_free(cgf_rsa_key *_Nullable k);

#pragma clang assume_nonnull end

#endif
