import AccessTokens
import ChatServices
import Foundation
import FuzzSupport

/// Access-token handling before and after the signature: a verifier with a fixed HMAC key and
/// one public key of each other algorithm is handed either the raw input as a token (so
/// headers naming RS256, ES256 or EdDSA bring arbitrary signature bytes to libcrypto's
/// doors), or a token whose header and claims are the input but whose HS256 signature is
/// valid, so the claim checks are reached too. It must only ever answer a caller or an
/// AuthenticationError.
let secret = "fuzzing-secret-of-at-least-32-bytes!"
let verifier: TokenVerifier = {
  var configuration = IdentityConfiguration()
  configuration.hmacSecrets = [secret]
  configuration.publicKeyPEMs = publicKeys
  configuration.issuer = "chatd"
  return try! TokenVerifier(configuration)
}()

/// P-256, Ed25519 and RSA 2048 public keys whose private halves nobody kept.
let publicKeys = [
  """
  -----BEGIN PUBLIC KEY-----
  MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEvTYv5VfLJjQd3w1ysdeBcYTJo6kE
  yDF536NVRdiy8W1OIASlkjkdLCMvXKjhwdX33lninNsPEZqhGyoyUr3UiA==
  -----END PUBLIC KEY-----
  """,
  """
  -----BEGIN PUBLIC KEY-----
  MCowBQYDK2VwAyEARRoEXG6zGa08MnFJmW+LLq3vDoRDKol9uQw+S3/seRA=
  -----END PUBLIC KEY-----
  """,
  """
  -----BEGIN PUBLIC KEY-----
  MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAye/FZeTQx6p/kHegYBpB
  o87/MMKCwCg4OdFTXrvmO8mHZxbgrcirEU58DnAkfcDLEWIkkimDpiG5VVF70MWB
  ZxC7m8ARd8dFzRBec1A/lt4PXvJsQa2gkyJ9qRyzAbiaVqrXXqZXGzziniXVcWqa
  KvXuKLVo3gI0hKSb03kXw63uonxhjbLUTgr99hXPHBg36n5jeD+YknqlCcsu5BiR
  Zorg9uHurif2ek+7JbsdNE3T1Ax/9WjrmXg8XWzkJxumH3Bf8EDW1+sgc1tKMd/X
  4unEvnkWrLjdKNmgl3n/vXVTImNMYjRM7khoXhST4+LWUI2MG1c9zRm7t/hUxEte
  XwIDAQAB
  -----END PUBLIC KEY-----
  """,
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzToken(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
  var input = FuzzInput(data, count)
  let token: String
  if input.byte() & 1 == 0 {
    token = String(decoding: input.rest(), as: UTF8.self)
  } else {
    // Header JSON and claims JSON separated by a 0 byte, signed with the verifier's key.
    let parts = input.rest().split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
    token = CompactJWS.encode(
      header: Data(parts[0]), payload: parts.count > 1 ? Data(parts[1]) : Data()
    ) { HMACSHA256.authenticationCode(key: Array(secret.utf8), data: $0) }
  }
  _ = try? verifier.verify(token)
  return 0
}

/// The entry point SwiftPM binds `main` to.
@_cdecl("FuzzToken_main")
public func main(
  _ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
  runFuzzer(argc, argv, fuzzToken)
}
