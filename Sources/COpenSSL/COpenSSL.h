#ifndef COPENSSL_H
#define COPENSSL_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "jws.h"

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

// An empty memory BIO answers "retry" instead of end of file: more bytes may come from the socket.
static inline void copenssl_bio_set_mem_eof_return(BIO *bio, int value) {
  (void)BIO_set_mem_eof_return(bio, value);
}

// The SSL_OP_* and SSL_MODE_* constants are casts, which Swift does not import.
static inline uint64_t copenssl_op_no_renegotiation(void) { return SSL_OP_NO_RENEGOTIATION; }
static inline uint64_t copenssl_op_cipher_server_preference(void) {
  return SSL_OP_CIPHER_SERVER_PREFERENCE;
}
static inline uint64_t copenssl_op_no_compression(void) { return SSL_OP_NO_COMPRESSION; }
static inline long copenssl_ctx_set_mode_release_buffers(SSL_CTX *ctx) {
  return SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
}

// --- ALPN: h2 only ------------------------------------------------------------------------
// C callbacks cannot capture, and the list handed to SSL_select_next_proto must outlive the
// handshake: both live here, with static storage.
static const unsigned char copenssl_alpn_h2[] = {2, 'h', '2'};

// Whether an ALPN extension body (a 2-byte length, then length-prefixed names) offers h2.
static inline int copenssl_alpn_offers_h2(const unsigned char *ext, size_t len) {
  if (len < 2) return 0;
  size_t list = ((size_t)ext[0] << 8) | ext[1];
  if (list + 2 > len) return 0;
  const unsigned char *p = ext + 2, *end = ext + 2 + list;
  while (p < end) {
    size_t n = *p++;
    if (n > (size_t)(end - p)) return 0;
    if (n == 2 && p[0] == 'h' && p[1] == '2') return 1;
    p += n;
  }
  return 0;
}

// Runs on the ClientHello, before the ALPN callback: the select callback is never called for a
// client that sends no ALPN at all, and such a client must be refused too.
static int copenssl_client_hello_requires_h2(SSL *ssl, int *alert, void *arg) {
  (void)arg;
  const unsigned char *ext = NULL;
  size_t len = 0;
  if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &ext,
                                 &len) ||
      !copenssl_alpn_offers_h2(ext, len)) {
    *alert = SSL_AD_NO_APPLICATION_PROTOCOL;
    return SSL_CLIENT_HELLO_ERROR;
  }
  return SSL_CLIENT_HELLO_SUCCESS;
}

static int copenssl_alpn_select_h2(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                                   const unsigned char *in, unsigned int inlen, void *arg) {
  (void)ssl;
  (void)arg;
  unsigned char *selected = NULL;
  if (SSL_select_next_proto(&selected, outlen, copenssl_alpn_h2, sizeof copenssl_alpn_h2, in,
                            inlen) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;  // sends no_application_protocol
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

// A server context that speaks h2 only, and refuses with no_application_protocol otherwise.
static inline void copenssl_ctx_require_alpn_h2(SSL_CTX *ctx) {
  SSL_CTX_set_client_hello_cb(ctx, copenssl_client_hello_requires_h2, NULL);
  SSL_CTX_set_alpn_select_cb(ctx, copenssl_alpn_select_h2, NULL);
}

// A client context that offers h2 (0 on success, as SSL_CTX_set_alpn_protos).
static inline int copenssl_ctx_offer_alpn_h2(SSL_CTX *ctx) {
  return SSL_CTX_set_alpn_protos(ctx, copenssl_alpn_h2, sizeof copenssl_alpn_h2);
}

// --- certificate names ----------------------------------------------------------------------
// The subject's commonName into buf (NUL-terminated); its length, or -1 when there is none.
static inline int copenssl_x509_common_name(X509 *cert, char *buf, int len) {
  return X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, len);
}

// The index-th DNS or URI subjectAltName into buf: its length (0 for an entry of another kind),
// or -1 past the end. The stack accessors are macros, hence this door.
static inline int copenssl_x509_san(X509 *cert, int index, char *buf, size_t len) {
  GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
  if (names == NULL) return -1;
  int result = -1;
  if (index < sk_GENERAL_NAME_num(names)) {
    result = 0;
    const GENERAL_NAME *name = sk_GENERAL_NAME_value(names, index);
    const ASN1_IA5STRING *text = NULL;
    if (name->type == GEN_DNS) text = name->d.dNSName;
    if (name->type == GEN_URI) text = name->d.uniformResourceIdentifier;
    if (text != NULL && (size_t)ASN1_STRING_length(text) < len) {
      result = ASN1_STRING_length(text);
      memcpy(buf, ASN1_STRING_get0_data(text), (size_t)result);
      buf[result] = 0;
    }
  }
  GENERAL_NAMES_free(names);
  return result;
}
#endif
