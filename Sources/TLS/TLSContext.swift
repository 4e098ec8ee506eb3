import COpenSSL

/// One OpenSSL `SSL_CTX`: certificates, trust, protocol policy. Immutable once built and
/// shared by every connection made from it; each `SSL` takes its own reference on the
/// `SSL_CTX`, so a connection keeps its context alive after a reload replaced it.
///
/// The policy is the same for both roles: TLS 1.2 or newer (1.3 preferred, as OpenSSL
/// negotiates the highest common version), AEAD ciphers with forward secrecy only, no
/// renegotiation, no compression, ALPN `h2` only (clients may speak `http/1.1` instead).
public final class TLSContext: @unchecked Sendable {
  public enum Role: Sendable { case server, client }

  public let role: Role
  /// What a client offers and expects with ALPN (servers: always h2).
  public let applicationProtocol: TLSClientConfiguration.ApplicationProtocol
  public let handshakeTimeout: Duration
  /// The `SSL_CTX *`; never mutated after init, which is what makes sharing it safe.
  let pointer: OpaquePointer

  /// TLS 1.2 suites: ECDHE with AES-GCM or ChaCha20 (Mozilla's "intermediate"), none of
  /// which is on HTTP/2's block list (RFC 9113 appendix A).
  static let tls12Ciphers = [
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
  ].joined(separator: ":")
  static let tls13Suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

  /// A server context; throws when a file is missing, unreadable or the key does not match.
  public convenience init(server configuration: TLSServerConfiguration) throws(TLSError) {
    let context = try Self.makeContext(method: TLS_server_method())
    do throws(TLSError) {
      try Self.useCertificate(
        context, chain: configuration.certificateChainFile, key: configuration.privateKeyFile)
      copenssl_ctx_require_alpn_h2(context)
      // Stateless tickets are on by default; one per connection is enough for a client
      // that keeps its connection, and each ticket costs the handshake an encryption.
      SSL_CTX_set_num_tickets(context, 1)
      // Resumption with client certificates needs a session id context.
      let sessionContext = Array("chatd".utf8)
      guard
        SSL_CTX_set_session_id_context(context, sessionContext, UInt32(sessionContext.count))
          == 1
      else { throw TLSError.openSSL("cannot set the session id context") }
      if configuration.clientAuthentication != .none {
        guard let caFile = configuration.clientCAFile else {
          throw TLSError("client authentication needs a client CA file")
        }
        guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1,
          let names = SSL_load_client_CA_file(caFile)
        else { throw TLSError.openSSL("cannot load the client CA file \(caFile)") }
        SSL_CTX_set_client_CA_list(context, names)  // takes ownership of names
        var mode = SSL_VERIFY_PEER
        if configuration.clientAuthentication == .require {
          mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT
        }
        SSL_CTX_set_verify(context, mode, nil)
      }
    } catch {
      SSL_CTX_free(context)
      throw error
    }
    self.init(
      pointer: context, role: .server, applicationProtocol: .h2,
      handshakeTimeout: configuration.handshakeTimeout)
  }

  /// A client context: verifies the server against `trustRoots`, offers `h2` (or `http/1.1`).
  public convenience init(client configuration: TLSClientConfiguration) throws(TLSError) {
    let context = try Self.makeContext(method: TLS_client_method())
    do throws(TLSError) {
      switch configuration.trustRoots {
      case .system:
        guard SSL_CTX_set_default_verify_paths(context) == 1 else {
          throw TLSError.openSSL("cannot load the system trust store")
        }
      case .file(let path):
        guard SSL_CTX_load_verify_locations(context, path, nil) == 1 else {
          throw TLSError.openSSL("cannot load the CA file \(path)")
        }
      }
      SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
      if let chain = configuration.certificateChainFile {
        try Self.useCertificate(context, chain: chain, key: configuration.privateKeyFile ?? chain)
      }
      let offered: Int32
      switch configuration.applicationProtocol {
      case .h2: offered = copenssl_ctx_offer_alpn_h2(context)
      case .http1:
        let http1: [UInt8] = [8] + Array("http/1.1".utf8)
        offered = SSL_CTX_set_alpn_protos(context, http1, UInt32(http1.count))
      }
      guard offered == 0 else { throw TLSError.openSSL("cannot set ALPN") }
    } catch {
      SSL_CTX_free(context)
      throw error
    }
    self.init(
      pointer: context, role: .client, applicationProtocol: configuration.applicationProtocol,
      handshakeTimeout: configuration.handshakeTimeout)
  }

  private init(
    pointer: OpaquePointer, role: Role,
    applicationProtocol: TLSClientConfiguration.ApplicationProtocol, handshakeTimeout: Duration
  ) {
    self.pointer = pointer
    self.role = role
    self.applicationProtocol = applicationProtocol
    self.handshakeTimeout = handshakeTimeout
  }

  deinit {
    SSL_CTX_free(pointer)
  }

  private static func makeContext(method: OpaquePointer?) throws(TLSError) -> OpaquePointer {
    ERR_clear_error()
    guard let context = SSL_CTX_new(method) else {
      throw TLSError.openSSL("cannot create an SSL_CTX")
    }
    let options =
      copenssl_op_no_renegotiation() | copenssl_op_no_compression()
      | copenssl_op_cipher_server_preference()
    _ = copenssl_ctx_set_options(context, UInt(options))
    // Idle connections give their 34 KiB of record buffers back.
    _ = copenssl_ctx_set_mode_release_buffers(context)
    guard copenssl_ctx_set_min_proto_version(context, TLS1_2_VERSION) == 1,
      SSL_CTX_set_cipher_list(context, tls12Ciphers) == 1,
      SSL_CTX_set_ciphersuites(context, tls13Suites) == 1
    else {
      SSL_CTX_free(context)
      throw TLSError.openSSL("cannot set the protocol policy")
    }
    return context
  }

  private static func useCertificate(_ context: OpaquePointer, chain: String, key: String)
    throws(TLSError)
  {
    guard SSL_CTX_use_certificate_chain_file(context, chain) == 1 else {
      throw TLSError.openSSL("cannot load the certificate chain \(chain)")
    }
    guard SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1 else {
      throw TLSError.openSSL("cannot load the private key \(key)")
    }
    guard SSL_CTX_check_private_key(context) == 1 else {
      throw TLSError.openSSL("the private key \(key) does not match the certificate \(chain)")
    }
  }
}
