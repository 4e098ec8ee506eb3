import COpenSSL

/// HS256's MAC (RFC 7518 3.2) on libcrypto, which chatd links for TLS already.
public enum HMACSHA256 {
  /// The MAC of `data` under `key`: 32 bytes.
  public static func authenticationCode(key: [UInt8], data: [UInt8]) -> [UInt8] {
    var code = [UInt8](repeating: 0, count: 32)
    let ok = copenssl_hmac_sha256(key, key.count, data, data.count, &code)
    // HMAC fails only when libcrypto cannot allocate: nothing sensible can go on.
    precondition(ok == 1, "HMAC-SHA256 failed")
    return code
  }

  /// Whether `code` is the MAC of `data` under `key`, compared in constant time.
  public static func isValid(_ code: [UInt8], key: [UInt8], data: [UInt8]) -> Bool {
    let expected = authenticationCode(key: key, data: data)
    return code.count == expected.count && copenssl_equal(code, expected, code.count) == 1
  }
}
