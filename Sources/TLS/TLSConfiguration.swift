/// How a server speaks TLS: its certificate, and whether it asks clients for theirs.
public struct TLSServerConfiguration: Sendable, Hashable {
  /// Whether clients present a certificate signed by `clientCAFile`.
  public enum ClientAuthentication: String, Sendable, Hashable, CaseIterable {
    /// Clients are not asked for a certificate.
    case none
    /// Clients may present one; a certificate that does not verify is refused.
    case optional
    /// Clients must present one that verifies.
    case require
  }

  /// PEM: the server's certificate first, then any intermediates.
  public var certificateChainFile: String
  /// PEM: the private key of the first certificate.
  public var privateKeyFile: String
  /// PEM: the CAs that sign client certificates.
  public var clientCAFile: String?
  public var clientAuthentication: ClientAuthentication
  /// A connection that has not finished its handshake by then is closed.
  public var handshakeTimeout: Duration

  public init(
    certificateChainFile: String, privateKeyFile: String, clientCAFile: String? = nil,
    clientAuthentication: ClientAuthentication? = nil, handshakeTimeout: Duration = .seconds(10)
  ) {
    self.certificateChainFile = certificateChainFile
    self.privateKeyFile = privateKeyFile
    self.clientCAFile = clientCAFile
    self.clientAuthentication = clientAuthentication ?? (clientCAFile == nil ? .none : .optional)
    self.handshakeTimeout = handshakeTimeout
  }
}

/// How a client speaks TLS: whom it trusts, and optionally its own certificate.
public struct TLSClientConfiguration: Sendable, Hashable {
  public enum TrustRoots: Sendable, Hashable {
    /// The operating system's store (OpenSSL's default verify paths).
    case system
    /// PEM: the CAs in this file.
    case file(String)
  }

  /// What the client speaks over TLS, offered with ALPN.
  public enum ApplicationProtocol: Sendable, Hashable {
    /// HTTP/2 (gRPC): offers `h2`, and the server must select it.
    case h2
    /// HTTP/1.1 (REST clients): offers `http/1.1`; a server that selects nothing is fine too.
    case http1
  }

  public var trustRoots: TrustRoots
  public var applicationProtocol: ApplicationProtocol
  /// The name the server's certificate must carry, also sent as SNI; nil: the host dialled.
  public var serverName: String?
  /// PEM: a client certificate chain and its key, for servers that ask for one.
  public var certificateChainFile: String?
  public var privateKeyFile: String?
  public var handshakeTimeout: Duration

  public init(
    trustRoots: TrustRoots = .system, serverName: String? = nil,
    certificateChainFile: String? = nil, privateKeyFile: String? = nil,
    handshakeTimeout: Duration = .seconds(10), applicationProtocol: ApplicationProtocol = .h2
  ) {
    self.trustRoots = trustRoots
    self.applicationProtocol = applicationProtocol
    self.serverName = serverName
    self.certificateChainFile = certificateChainFile
    self.privateKeyFile = privateKeyFile
    self.handshakeTimeout = handshakeTimeout
  }
}
