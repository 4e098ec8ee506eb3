import ArgumentParser
import TLS

/// The `--tls-*` flags. Without `--tls-cert` chatd serves plaintext h2c.
struct TLSOptions: ParsableArguments {
  @Option(
    help:
      "PEM certificate chain (server certificate first); serves TLS with ALPN h2. Reloaded on SIGHUP. Env: CHATD_TLS_CERT."
  )
  var tlsCert: String? = env("TLS_CERT")

  @Option(help: "PEM private key of --tls-cert. Reloaded on SIGHUP. Env: CHATD_TLS_KEY.")
  var tlsKey: String? = env("TLS_KEY")

  @Option(
    help:
      "PEM CAs whose client certificates make the caller a service principal (named from the CN, or else the first DNS/URI SAN). Env: CHATD_TLS_CLIENT_CA."
  )
  var tlsClientCA: String? = env("TLS_CLIENT_CA")

  @Option(
    help:
      "optional (clients may present a certificate) or require (they must). Default optional with --tls-client-ca. Env: CHATD_TLS_CLIENT_AUTH."
  )
  var tlsClientAuth: String? = env("TLS_CLIENT_AUTH")

  @Option(
    help:
      "Seconds a connection may take to finish its TLS handshake. Env: CHATD_TLS_HANDSHAKE_TIMEOUT."
  )
  var tlsHandshakeTimeout: Double = env("TLS_HANDSHAKE_TIMEOUT").flatMap(Double.init) ?? 10

  /// Nil when TLS is off; throws on flags that make no sense together.
  func configuration() throws -> TLSServerConfiguration? {
    let cert = tlsCert.flatMap { $0.isEmpty ? nil : $0 }
    let key = tlsKey.flatMap { $0.isEmpty ? nil : $0 }
    let clientCA = tlsClientCA.flatMap { $0.isEmpty ? nil : $0 }
    let clientAuth = tlsClientAuth.flatMap { $0.isEmpty ? nil : $0 }
    guard let cert else {
      if key != nil || clientCA != nil || clientAuth != nil {
        throw ValidationError("--tls-key, --tls-client-ca and --tls-client-auth need --tls-cert")
      }
      return nil
    }
    guard let key else { throw ValidationError("--tls-cert needs --tls-key") }
    var authentication: TLSServerConfiguration.ClientAuthentication?
    if let clientAuth {
      guard let mode = TLSServerConfiguration.ClientAuthentication(rawValue: clientAuth),
        mode != .none
      else {
        throw ValidationError("--tls-client-auth takes optional or require, not \"\(clientAuth)\"")
      }
      guard clientCA != nil else {
        throw ValidationError("--tls-client-auth needs --tls-client-ca")
      }
      authentication = mode
    }
    guard tlsHandshakeTimeout > 0 else {
      throw ValidationError("--tls-handshake-timeout must be positive")
    }
    return TLSServerConfiguration(
      certificateChainFile: cert, privateKeyFile: key, clientCAFile: clientCA,
      clientAuthentication: authentication,
      handshakeTimeout: .milliseconds(Int64(tlsHandshakeTimeout * 1000)))
  }
}
