#ifndef COPENSSL_JWS_H
#define COPENSSL_JWS_H
// Doors for access tokens (JWS, RFC 7515/7518): HMAC-SHA256, and public keys that verify
// RS256, ES256 and EdDSA (Ed25519). Every door clears the thread's OpenSSL error queue before
// it returns: a refused token leaves errors there, and the TLS code on the same thread reads
// that queue through SSL_get_error.
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <string.h>

enum {
  COPENSSL_JWS_RS256 = 1,
  COPENSSL_JWS_ES256 = 2,
  COPENSSL_JWS_EDDSA = 3,
};

// HMAC-SHA256 of data under key into out (32 bytes); 1 on success.
static inline int copenssl_hmac_sha256(const unsigned char *key, size_t key_len,
                                       const unsigned char *data, size_t len,
                                       unsigned char *out) {
  unsigned int out_len = 0;
  int ok = key_len <= 0x7fffffff &&
           HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &out_len) != NULL &&
           out_len == 32;
  ERR_clear_error();
  return ok;
}

// Equal in time that depends on the length only: 1 when a and b hold the same bytes.
static inline int copenssl_equal(const unsigned char *a, const unsigned char *b, size_t len) {
  return CRYPTO_memcmp(a, b, len) == 0;
}

// The JWS algorithm a public key verifies, 0 when chatd does not accept it: RSA of at least
// 2048 bits (RS256), P-256 (ES256), Ed25519 (EdDSA).
static inline int copenssl_jws_algorithm(const EVP_PKEY *key) {
  int result = 0;
  switch (EVP_PKEY_get_base_id(key)) {
  case EVP_PKEY_RSA:
    result = EVP_PKEY_get_bits(key) >= 2048 ? COPENSSL_JWS_RS256 : 0;
    break;
  case EVP_PKEY_EC: {
    char group[64];
    size_t len = 0;
    result = EVP_PKEY_get_group_name(key, group, sizeof group, &len) == 1 &&
                     strcmp(group, "prime256v1") == 0
                 ? COPENSSL_JWS_ES256
                 : 0;
    break;
  }
  case EVP_PKEY_ED25519:
    result = COPENSSL_JWS_EDDSA;
    break;
  }
  ERR_clear_error();
  return result;
}

// A public key from PEM text (a "PUBLIC KEY" block, SubjectPublicKeyInfo); NULL for anything
// else, private keys included. Free it with EVP_PKEY_free.
static inline EVP_PKEY *copenssl_public_key_from_pem(const char *pem, size_t len) {
  EVP_PKEY *key = NULL;
  BIO *bio = len <= 0x7fffffff ? BIO_new_mem_buf(pem, (int)len) : NULL;
  if (bio != NULL) {
    key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
  }
  ERR_clear_error();
  return key;
}

// A key from OSSL parameters, of the given type ("RSA", "EC"), public part only.
static inline EVP_PKEY *copenssl_public_key_from_params(const char *type, OSSL_PARAM *params) {
  EVP_PKEY *key = NULL;
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
  if (ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
      EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    key = NULL;
  }
  EVP_PKEY_CTX_free(ctx);
  return key;
}

// An RSA public key from a JWK's modulus and exponent (big-endian bytes).
static inline EVP_PKEY *copenssl_rsa_public_key(const unsigned char *n, size_t n_len,
                                                const unsigned char *e, size_t e_len) {
  EVP_PKEY *key = NULL;
  BIGNUM *modulus = n_len <= 0x7fffffff ? BN_bin2bn(n, (int)n_len, NULL) : NULL;
  BIGNUM *exponent = e_len <= 0x7fffffff ? BN_bin2bn(e, (int)e_len, NULL) : NULL;
  OSSL_PARAM_BLD *build = OSSL_PARAM_BLD_new();
  OSSL_PARAM *params = NULL;
  if (modulus != NULL && exponent != NULL && build != NULL &&
      OSSL_PARAM_BLD_push_BN(build, OSSL_PKEY_PARAM_RSA_N, modulus) == 1 &&
      OSSL_PARAM_BLD_push_BN(build, OSSL_PKEY_PARAM_RSA_E, exponent) == 1 &&
      (params = OSSL_PARAM_BLD_to_param(build)) != NULL) {
    key = copenssl_public_key_from_params("RSA", params);
  }
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(build);
  BN_free(modulus);
  BN_free(exponent);
  ERR_clear_error();
  return key;
}

// A P-256 public key from a JWK's coordinates (32 bytes each); NULL when the point is not on
// the curve.
static inline EVP_PKEY *copenssl_p256_public_key(const unsigned char *x, const unsigned char *y) {
  unsigned char point[65];
  char group[] = "prime256v1";
  point[0] = 4;  // uncompressed
  memcpy(point + 1, x, 32);
  memcpy(point + 33, y, 32);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point),
      OSSL_PARAM_construct_end(),
  };
  EVP_PKEY *key = copenssl_public_key_from_params("EC", params);
  if (key != NULL) {
    EVP_PKEY_CTX *check = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (check == NULL || EVP_PKEY_public_check(check) != 1) {
      EVP_PKEY_free(key);
      key = NULL;
    }
    EVP_PKEY_CTX_free(check);
  }
  ERR_clear_error();
  return key;
}

// An Ed25519 public key from a JWK's x (32 bytes).
static inline EVP_PKEY *copenssl_ed25519_public_key(const unsigned char *x) {
  EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, 32);
  ERR_clear_error();
  return key;
}

// ES256 signs with r and s side by side (32 bytes each); OpenSSL verifies DER. The DER form
// into der (at least 72 bytes); its length, or 0.
static inline size_t copenssl_es256_signature_der(const unsigned char *raw, unsigned char *der,
                                                  size_t der_len) {
  size_t result = 0;
  ECDSA_SIG *signature = ECDSA_SIG_new();
  BIGNUM *r = BN_bin2bn(raw, 32, NULL);
  BIGNUM *s = BN_bin2bn(raw + 32, 32, NULL);
  if (signature != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(signature, r, s) == 1) {
    r = s = NULL;  // owned by the signature now
    int len = i2d_ECDSA_SIG(signature, NULL);
    unsigned char *out = der;
    if (len > 0 && (size_t)len <= der_len && i2d_ECDSA_SIG(signature, &out) == len) {
      result = (size_t)len;
    }
  }
  BN_free(r);
  BN_free(s);
  ECDSA_SIG_free(signature);
  ERR_clear_error();
  return result;
}

// 1 when signature is key's signature of data under algorithm (the key's own, from
// copenssl_jws_algorithm).
static inline int copenssl_jws_verify(EVP_PKEY *key, int algorithm, const unsigned char *data,
                                      size_t len, const unsigned char *signature,
                                      size_t signature_len) {
  unsigned char der[80];
  if (algorithm == COPENSSL_JWS_ES256) {
    if (signature_len != 64) return 0;
    signature_len = copenssl_es256_signature_der(signature, der, sizeof der);
    if (signature_len == 0) return 0;
    signature = der;
  }
  int ok = 0;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  // Ed25519 hashes internally: no digest, one-shot.
  const EVP_MD *digest = algorithm == COPENSSL_JWS_EDDSA ? NULL : EVP_sha256();
  if (ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, digest, NULL, key) == 1) {
    ok = EVP_DigestVerify(ctx, signature, signature_len, data, len) == 1;
  }
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  return ok;
}
#endif
