import Foundation
import Synchronization

/// Tokens whose signature and claims checked out, with the caller they name. A client sends
/// the same token on every call until it expires: the signature check (an RSA or ECDSA
/// verification costs tens of microseconds) is paid once per token per process. Only the time checks run again on a hit; a token is never trusted past its
/// `exp`. Bounded: when full, expired entries go first, then everything.
final class VerifiedTokens: Sendable {
  struct Entry: Sendable {
    var caller: Caller
    var expires: Date
    var notBefore: Date?
  }

  private let entries = Mutex<[String: Entry]>([:])
  let capacity: Int

  init(capacity: Int = 10_000) {
    self.capacity = capacity
  }

  func entry(for token: String) -> Entry? {
    entries.withLock { $0[token] }
  }

  func insert(_ entry: Entry, for token: String, now: Date) {
    entries.withLock { entries in
      if entries.count >= capacity {
        entries = entries.filter { $0.value.expires > now }
        if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
      }
      entries[token] = entry
    }
  }
}
