public import Foundation

/// The claims chatd reads from an access token. The standard time claims are checked by
/// chatd's `TokenVerifier` (with leeway and the configured issuer and audience), not here.
/// The times are NumericDates (seconds since 1970, RFC 7519), `aud` one string or an array.
public struct TokenClaims: Codable, Sendable, Equatable {
  public var sub: String?
  public var exp: Date?
  public var nbf: Date?
  public var iat: Date?
  public var iss: String?
  public var aud: [String]?
  public var name: String?
  public var picture: String?
  public var role: String?

  public init(
    sub: String? = nil, exp: Date? = nil, nbf: Date? = nil, iat: Date? = nil,
    iss: String? = nil, aud: [String]? = nil, name: String? = nil, picture: String? = nil,
    role: String? = nil
  ) {
    self.sub = sub
    self.exp = exp
    self.nbf = nbf
    self.iat = iat
    self.iss = iss
    self.aud = aud
    self.name = name
    self.picture = picture
    self.role = role
  }

  enum CodingKeys: String, CodingKey {
    case sub, exp, nbf, iat, iss, aud, name, picture, role
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    func date(_ key: CodingKeys) throws -> Date? {
      try container.decodeIfPresent(Double.self, forKey: key).map(Date.init(timeIntervalSince1970:))
    }
    sub = try container.decodeIfPresent(String.self, forKey: .sub)
    exp = try date(.exp)
    nbf = try date(.nbf)
    iat = try date(.iat)
    iss = try container.decodeIfPresent(String.self, forKey: .iss)
    if let one = try? container.decodeIfPresent(String.self, forKey: .aud) {
      aud = [one]
    } else {
      aud = try container.decodeIfPresent([String].self, forKey: .aud)
    }
    name = try container.decodeIfPresent(String.self, forKey: .name)
    picture = try container.decodeIfPresent(String.self, forKey: .picture)
    role = try container.decodeIfPresent(String.self, forKey: .role)
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    // Whole seconds as integers: NumericDate may be fractional, but some libraries expect
    // integers.
    func encode(_ date: Date?, _ key: CodingKeys) throws {
      guard let seconds = date?.timeIntervalSince1970 else { return }
      if seconds == seconds.rounded(), abs(seconds) < 1e15 {
        try container.encode(Int64(seconds), forKey: key)
      } else {
        try container.encode(seconds, forKey: key)
      }
    }
    try container.encodeIfPresent(sub, forKey: .sub)
    try encode(exp, .exp)
    try encode(nbf, .nbf)
    try encode(iat, .iat)
    try container.encodeIfPresent(iss, forKey: .iss)
    if let aud, aud.count == 1 {
      try container.encode(aud[0], forKey: .aud)
    } else {
      try container.encodeIfPresent(aud, forKey: .aud)
    }
    try container.encodeIfPresent(name, forKey: .name)
    try container.encodeIfPresent(picture, forKey: .picture)
    try container.encodeIfPresent(role, forKey: .role)
  }
}
