import COpenSSL
import NIOCore

/// One OpenSSL `SSL` over two memory BIOs: ciphertext from the socket is fed in, ciphertext
/// for the socket is drained out, and OpenSSL itself never touches a file descriptor, so it
/// never blocks. No NIO knowledge beyond `ByteBuffer`: `TLSHandler` drives it.
///
/// - Important: not thread-safe; confined to its channel's event loop.
final class TLSConnection {
  enum Step {
    case done
    /// OpenSSL needs more bytes from the peer.
    case wantRead
    case failed(TLSError)
  }

  enum ReadResult {
    /// Plaintext was appended; there may be more.
    case progress
    case wantRead
    /// The peer sent close_notify.
    case closed
    case failed(TLSError)
  }

  /// Keeps the Swift wrapper alive as long as the `SSL`, which also holds its own reference.
  let context: TLSContext
  private let ssl: OpaquePointer
  /// Owned by `ssl` (SSL_set_bio), freed with it: never freed here.
  private let input: OpaquePointer
  private let output: OpaquePointer

  /// - Parameter serverName: clients only: SNI, and the name the certificate must carry.
  init(context: TLSContext, serverName: String?) throws(TLSError) {
    ERR_clear_error()
    guard let ssl = SSL_new(context.pointer) else { throw .openSSL("cannot create an SSL") }
    guard let input = BIO_new(BIO_s_mem()), let output = BIO_new(BIO_s_mem()) else {
      SSL_free(ssl)
      throw .openSSL("cannot create memory BIOs")
    }
    // An empty input BIO means "wait for the socket", not end of file.
    copenssl_bio_set_mem_eof_return(input, -1)
    SSL_set_bio(ssl, input, output)
    self.context = context
    self.ssl = ssl
    self.input = input
    self.output = output
    switch context.role {
    case .server:
      SSL_set_accept_state(ssl)
    case .client:
      SSL_set_connect_state(ssl)
      if let serverName { try configureServerName(serverName) }
    }
  }

  deinit {
    SSL_free(ssl)
  }

  /// SNI for host names (RFC 6066 forbids it for addresses), and the verification target.
  private func configureServerName(_ name: String) throws(TLSError) {
    let param = SSL_get0_param(ssl)
    if Self.isIPAddress(name) {
      guard X509_VERIFY_PARAM_set1_ip_asc(param, name) == 1 else {
        throw .openSSL("cannot verify against address \(name)")
      }
    } else {
      guard copenssl_set_tlsext_host_name(ssl, name) == 1,
        X509_VERIFY_PARAM_set1_host(param, name, 0) == 1
      else { throw .openSSL("cannot verify against host name \(name)") }
    }
  }

  private static func isIPAddress(_ name: String) -> Bool {
    name.contains(":")
      || name.split(separator: ".").count == 4 && name.allSatisfy { $0.isNumber || $0 == "." }
  }

  // MARK: Bytes in and out

  /// Hands ciphertext from the socket to OpenSSL (the memory BIO copies it).
  func feed(_ buffer: ByteBuffer) {
    buffer.withUnsafeReadableBytes { bytes in
      guard let base = bytes.baseAddress, bytes.count > 0 else { return }
      _ = BIO_write(input, base, Int32(bytes.count))
    }
  }

  var hasOutput: Bool { copenssl_bio_pending(output) > 0 }

  /// Appends every ciphertext byte OpenSSL produced (records, alerts, close_notify).
  func drainOutput(into buffer: inout ByteBuffer) {
    let pending = copenssl_bio_pending(output)
    guard pending > 0 else { return }
    buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: pending) { space in
      Int(max(0, BIO_read(output, space.baseAddress, Int32(pending))))
    }
  }

  // MARK: TLS operations

  func handshake() -> Step {
    ERR_clear_error()
    let result = SSL_do_handshake(ssl)
    if result == 1 { return .done }
    switch SSL_get_error(ssl, result) {
    case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return .wantRead
    default: return .failed(failure("the TLS handshake failed"))
    }
  }

  /// Decrypts what the input holds into `buffer`, one record's worth at a time.
  func read(into buffer: inout ByteBuffer) -> ReadResult {
    ERR_clear_error()
    var code: Int32 = 0
    buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 16 * 1024) { space in
      let count = SSL_read(ssl, space.baseAddress, Int32(clamping: space.count))
      if count <= 0 { code = SSL_get_error(ssl, count) }
      return Int(max(0, count))
    }
    switch code {
    case 0: return .progress
    case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return .wantRead
    case SSL_ERROR_ZERO_RETURN: return .closed
    default: return .failed(failure("TLS read failed"))
    }
  }

  /// Encrypts all of `buffer`: a memory BIO grows, so SSL_write never stops halfway.
  func write(_ buffer: ByteBuffer) -> TLSError? {
    ERR_clear_error()
    return buffer.withUnsafeReadableBytes { bytes -> TLSError? in
      guard let base = bytes.baseAddress, bytes.count > 0 else { return nil }
      let written = SSL_write(ssl, base, Int32(bytes.count))
      return written == bytes.count ? nil : failure("TLS write failed")
    }
  }

  /// Queues close_notify; the peer's reply is not awaited.
  func shutdown() {
    ERR_clear_error()
    _ = SSL_shutdown(ssl)
  }

  // MARK: What was negotiated

  func handshakeSummary() -> TLSHandshakeCompleted {
    var alpn: UnsafePointer<UInt8>?
    var alpnLength: UInt32 = 0
    SSL_get0_alpn_selected(ssl, &alpn, &alpnLength)
    let applicationProtocol = alpn.map {
      String(decoding: UnsafeBufferPointer(start: $0, count: Int(alpnLength)), as: UTF8.self)
    }
    return TLSHandshakeCompleted(
      applicationProtocol: applicationProtocol,
      protocolVersion: String(cString: SSL_get_version(ssl)),
      cipher: SSL_get_current_cipher(ssl).map { String(cString: SSL_CIPHER_get_name($0)) } ?? "",
      peerCertificate: verifiedPeerCertificate(),
      resumed: SSL_session_reused(ssl) == 1)
  }

  /// The peer's certificate names, if it presented one and it verified.
  private func verifiedPeerCertificate() -> TLSPeerCertificate? {
    guard let certificate = SSL_get0_peer_certificate(ssl),
      SSL_get_verify_result(ssl) == X509_V_OK
    else { return nil }
    var text = [CChar](repeating: 0, count: 1024)
    let commonName: String? =
      copenssl_x509_common_name(certificate, &text, Int32(text.count)) > 0
      ? Self.string(text) : nil
    var names: [String] = []
    var index: Int32 = 0
    while true {
      let length = copenssl_x509_san(certificate, index, &text, text.count)
      if length < 0 { break }
      if length > 0 { names.append(Self.string(text)) }
      index += 1
    }
    return TLSPeerCertificate(commonName: commonName, subjectAlternativeNames: names)
  }

  private static func string(_ nulTerminated: [CChar]) -> String {
    String(decoding: nulTerminated.prefix { $0 != 0 }.map(UInt8.init), as: UTF8.self)
  }

  /// OpenSSL's error queue, plus the certificate verification result when that failed.
  private func failure(_ what: String) -> TLSError {
    let verify = SSL_get_verify_result(ssl)
    if verify != X509_V_OK, SSL_get0_peer_certificate(ssl) != nil || context.role == .client {
      let reason = String(cString: X509_verify_cert_error_string(verify))
      return .openSSL("\(what) (certificate verification: \(reason))")
    }
    return .openSSL(what)
  }
}
