/// Who the peer proved to be at the transport level: the names of a client certificate that
/// verified against the server's client CAs. Transport-free, so interceptors need no TLS.
public struct PeerIdentity: Sendable, Hashable {
  /// The certificate subject's commonName.
  public var commonName: String?
  /// DNS and URI subjectAltNames, in certificate order.
  public var subjectAlternativeNames: [String]

  public init(commonName: String?, subjectAlternativeNames: [String]) {
    self.commonName = commonName
    self.subjectAlternativeNames = subjectAlternativeNames
  }

  /// The principal's name: the commonName, or else the first subjectAltName.
  public var name: String? {
    if let commonName, !commonName.isEmpty { return commonName }
    return subjectAlternativeNames.first
  }
}
