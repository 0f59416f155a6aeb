/* RS256 through OpenSSL 3's libcrypto (the same library librdkafka links), loaded by the first
 * cgf_rsa_key_load (dl.h): see cgf_sign.h. */
#include "cgf_sign.h"

#include <limits.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>

#include "dl.h"

#define CRYPTO_FUNCTIONS(X) \
    X(ERR_get_error) X(ERR_error_string_n) X(ERR_clear_error) \
    X(BIO_new_mem_buf) X(PEM_read_bio_PrivateKey) X(BIO_free) \
    X(EVP_PKEY_get_base_id) X(EVP_PKEY_get0_type_name) X(EVP_PKEY_free) \
    X(EVP_PKEY_get_bits) X(EVP_MD_CTX_new) X(EVP_DigestSignInit) \
    X(EVP_sha256) X(EVP_PKEY_CTX_set_rsa_padding) X(EVP_DigestSign) \
    X(EVP_MD_CTX_free)
DL_LIBRARY(crypto, "libcrypto.so.3", CRYPTO_FUNCTIONS)

struct cgf_rsa_key {
    EVP_PKEY *pkey;
    int bits;
};

/* "what: OpenSSL's first queued reason" (the queue is per thread; emptied here). */
static void openssl_error(char *err, size_t errlen, const char *what) {
    unsigned long code = DL_CALL(crypto, ERR_get_error)();
    char reason[200] = "";
    if (code != 0) DL_CALL(crypto, ERR_error_string_n)(code, reason, sizeof reason);
    DL_CALL(crypto, ERR_clear_error)();
    if (errlen > 0) snprintf(err, errlen, "%s%s%s", what, reason[0] ? ": " : "", reason);
}

/* An encrypted key is refused, never prompted for on the terminal (OpenSSL's default callback). */
static int no_passphrase(char *buf, int size, int rwflag, void *u) {
    (void)buf; (void)size; (void)rwflag; (void)u;
    return -1;
}

cgf_rsa_key *cgf_rsa_key_load(const void *pem, size_t len, char *err, size_t errlen) {
    if (dl_load_crypto(err, errlen) != 0) return NULL;
    DL_CALL(crypto, ERR_clear_error)();
    if (len == 0 || len > INT_MAX) { openssl_error(err, errlen, "empty or oversized key file"); return NULL; }
    BIO *bio = DL_CALL(crypto, BIO_new_mem_buf)(pem, (int)len);
    if (!bio) { openssl_error(err, errlen, "out of memory"); return NULL; }
    EVP_PKEY *pkey = DL_CALL(crypto, PEM_read_bio_PrivateKey)(bio, NULL, no_passphrase, NULL);
    DL_CALL(crypto, BIO_free)(bio);
    if (!pkey) { openssl_error(err, errlen, "no unencrypted PEM private key (PKCS#8 or PKCS#1) in it"); return NULL; }
    if (DL_CALL(crypto, EVP_PKEY_get_base_id)(pkey) != EVP_PKEY_RSA) {
        const char *type = DL_CALL(crypto, EVP_PKEY_get0_type_name)(pkey);
        if (errlen > 0) snprintf(err, errlen, "a key of type %s, not RSA", type ? type : "unknown");
        DL_CALL(crypto, EVP_PKEY_free)(pkey);
        return NULL;
    }
    int bits = DL_CALL(crypto, EVP_PKEY_get_bits)(pkey);
    if (bits < 2048) {
        if (errlen > 0) snprintf(err, errlen, "an RSA key of %d bits, fewer than 2048", bits);
        DL_CALL(crypto, EVP_PKEY_free)(pkey);
        return NULL;
    }
    struct cgf_rsa_key *k = calloc(1, sizeof *k);
    if (!k) { DL_CALL(crypto, EVP_PKEY_free)(pkey); openssl_error(err, errlen, "out of memory"); return NULL; }
    k->pkey = pkey;
    k->bits = bits;
    /* One signature now: a key OpenSSL cannot sign with fails at start-up, not at the first batch. */
    uint8_t *probe = malloc((size_t)bits / 8 + 1);
    long n = probe ? cgf_rsa_sign_sha256(k, "probe", 5, probe, (size_t)bits / 8 + 1, err, errlen) : -1;
    free(probe);
    if (n < 0) {
        if (!probe && errlen > 0) snprintf(err, errlen, "out of memory");
        cgf_rsa_key_free(k);
        return NULL;
    }
    return k;
}

int cgf_rsa_key_bits(const cgf_rsa_key *k) { return k->bits; }

long cgf_rsa_sign_sha256(cgf_rsa_key *k, const void *data, size_t len, uint8_t *out, size_t cap, char *err, size_t errlen) {
    DL_CALL(crypto, ERR_clear_error)();
    EVP_MD_CTX *ctx = DL_CALL(crypto, EVP_MD_CTX_new)();
    if (!ctx) { openssl_error(err, errlen, "out of memory"); return -1; }
    long result = -1;
    size_t siglen = cap;
    EVP_PKEY_CTX *pctx = NULL;
    if (DL_CALL(crypto, EVP_DigestSignInit)(ctx, &pctx, DL_CALL(crypto, EVP_sha256)(), NULL, k->pkey) != 1 ||
        DL_CALL(crypto, EVP_PKEY_CTX_set_rsa_padding)(pctx, RSA_PKCS1_PADDING) <= 0) {
        openssl_error(err, errlen, "RS256 set-up");
    } else if (DL_CALL(crypto, EVP_DigestSign)(ctx, NULL, &siglen, data, len) != 1 || siglen > cap) {
        if (siglen > cap) { if (errlen > 0) snprintf(err, errlen, "signature of %zu bytes, buffer of %zu", siglen, cap); }
        else openssl_error(err, errlen, "RS256 signature size");
    } else if (DL_CALL(crypto, EVP_DigestSign)(ctx, out, &siglen, data, len) != 1 || siglen > LONG_MAX) {
        openssl_error(err, errlen, "RS256 signature");
    } else {
        result = (long)siglen;
    }
    DL_CALL(crypto, EVP_MD_CTX_free)(ctx);
    return result;
}

void cgf_rsa_key_free(cgf_rsa_key *k) {
    if (!k) return;
    DL_CALL(crypto, EVP_PKEY_free)(k->pkey);
    free(k);
}
