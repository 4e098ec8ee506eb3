#ifndef COPENSSL_H
#define COPENSSL_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

// Function-like macros are not imported into Swift: each one used gets a static inline door.
static inline long copenssl_ctx_set_min_proto_version(SSL_CTX *ctx, int version) {
  return SSL_CTX_set_min_proto_version(ctx, version);
}
static inline long copenssl_ctx_set_options(SSL_CTX *ctx, unsigned long options) {
  return (long)SSL_CTX_set_options(ctx, options);
}
static inline long copenssl_set_tlsext_host_name(SSL *ssl, const char *name) {
  return SSL_set_tlsext_host_name(ssl, name);
}
static inline size_t copenssl_bio_pending(BIO *bio) { return BIO_ctrl_pending(bio); }
#endif
