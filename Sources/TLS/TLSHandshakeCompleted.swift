/// Fired down the pipeline once the handshake is done, before any application data: what was
/// negotiated and who the peer proved to be.
public struct TLSHandshakeCompleted: Sendable {
  /// The ALPN protocol (`h2`).
  public let applicationProtocol: String?
  /// `TLSv1.3`, `TLSv1.2`.
  public let protocolVersion: String
  public let cipher: String
  /// The peer's certificate, only when it verified against the configured CAs.
  public let peerCertificate: TLSPeerCertificate?
  /// Whether the session was resumed from a ticket (no full handshake).
  public let resumed: Bool
}

/// The names in a verified peer certificate.
public struct TLSPeerCertificate: Sendable, Hashable {
  /// The subject's commonName.
  public let commonName: String?
  /// DNS and URI subjectAltNames, in certificate order.
  public let subjectAlternativeNames: [String]

  public init(commonName: String?, subjectAlternativeNames: [String]) {
    self.commonName = commonName
    self.subjectAlternativeNames = subjectAlternativeNames
  }
}
