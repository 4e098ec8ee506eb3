import COpenSSL

/// Why a TLS context could not be built or a connection failed, with OpenSSL's own reasons.
public struct TLSError: Error, Sendable, CustomStringConvertible {
  public let description: String

  public init(_ description: String) {
    self.description = description
  }

  /// `what`, followed by every entry of OpenSSL's error queue for this thread (emptied).
  static func openSSL(_ what: String) -> TLSError {
    var reasons: [String] = []
    while case let code = ERR_get_error(), code != 0 {
      var text = [CChar](repeating: 0, count: 256)
      ERR_error_string_n(code, &text, text.count)
      reasons.append(String(decoding: text.prefix { $0 != 0 }.map(UInt8.init), as: UTF8.self))
    }
    return TLSError(reasons.isEmpty ? what : "\(what): \(reasons.joined(separator: "; "))")
  }

  public static let handshakeTimedOut = TLSError("the TLS handshake timed out")
}
