import Foundation

/// Where an HTTP/1.1 server is: `http` or `https`, host, port and a path prefix.
public struct HTTPEndpoint: Sendable, Hashable, CustomStringConvertible {
  public var isHTTPS: Bool
  public var host: String
  public var port: Int
  /// Without a trailing slash ("" for the root).
  public var basePath: String

  /// Parses `http(s)://host[:port][/path]`; nil for anything else.
  public init?(url text: String) {
    guard let components = URLComponents(string: text),
      let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
      let host = components.host, !host.isEmpty, components.query == nil,
      components.fragment == nil
    else { return nil }
    isHTTPS = scheme == "https"
    self.host = host
    port = components.port ?? (isHTTPS ? 443 : 80)
    guard (1...65535).contains(port) else { return nil }
    var path = components.percentEncodedPath
    while path.hasSuffix("/") { path.removeLast() }
    basePath = path
  }

  /// The `Host` header: the port only when it is not the scheme's default.
  var hostHeader: String {
    let name = host.contains(":") ? "[\(host)]" : host
    return port == (isHTTPS ? 443 : 80) ? name : "\(name):\(port)"
  }

  public var description: String {
    "\(isHTTPS ? "https" : "http")://\(hostHeader)\(basePath)"
  }
}
