import ChatServices
import Crypto
import Dispatch
import Foundation
import FuzzSupport

/// Access-token handling before and after the signature: a verifier with a fixed HMAC key is
/// handed either the raw input as a token, or a token whose header and claims are the input
/// but whose signature is valid, so the claim checks are reached too. It must only ever
/// answer a caller or an AuthenticationError.
let secret = "fuzzing-secret-of-at-least-32-bytes!"
nonisolated(unsafe) let verifier: TokenVerifier = blocking {
  var configuration = IdentityConfiguration()
  configuration.hmacSecrets = [secret]
  configuration.issuer = "chatd"
  return try! await TokenVerifier(configuration)
}
let key = SymmetricKey(data: Array(secret.utf8))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzToken(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
  var input = FuzzInput(data, count)
  let token: String
  if input.byte() & 1 == 0 {
    token = String(decoding: input.rest(), as: UTF8.self)
  } else {
    // Header JSON and claims JSON separated by a 0 byte, signed with the verifier's key.
    let parts = input.rest().split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
    let header = base64URL(Array(parts[0]))
    let claims = base64URL(parts.count > 1 ? Array(parts[1]) : [])
    let signature = HMAC<SHA256>.authenticationCode(
      for: Array("\(header).\(claims)".utf8), using: key)
    token = "\(header).\(claims).\(base64URL(Array(signature)))"
  }
  _ = blocking { try? await verifier.verify(token) }
  return 0
}

func base64URL(_ bytes: [UInt8]) -> String {
  Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
    .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
}

/// The verifier is async; the fuzzer calls in synchronously.
func blocking<T>(_ body: @escaping @Sendable () async -> T) -> T {
  nonisolated(unsafe) var result: T?
  let done = DispatchSemaphore(value: 0)
  Task {
    result = await body()
    done.signal()
  }
  done.wait()
  return result!
}

/// The entry point SwiftPM binds `main` to.
@_cdecl("FuzzToken_main")
public func main(
  _ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
  runFuzzer(argc, argv, fuzzToken)
}
