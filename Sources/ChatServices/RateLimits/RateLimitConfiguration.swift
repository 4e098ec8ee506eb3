/// Per-user request rates by RPC class (`--rate-limit CLASS=RATE/BURST`, repeatable;
/// `--rate-limit off` turns every limit off, e.g. for load tests).
public struct RateLimitConfiguration: Sendable, Hashable {
  /// The classes of RPCs that share a bucket per user.
  public enum RPCClass: String, CaseIterable, Sendable, Hashable {
    /// SendMessage.
    case send
    /// SendTyping.
    case typing
    /// Follow and Unfollow.
    case follow
    /// Every other authenticated RPC.
    case other
  }

  /// A sustained rate and the burst a full bucket allows.
  public struct Rate: Sendable, Hashable {
    public var perSecond: Double
    public var burst: Double

    public init(perSecond: Double, burst: Double) {
      self.perSecond = perSecond
      self.burst = burst
    }
  }

  /// The limit of each class; a class without one is not limited.
  public var rates: [RPCClass: Rate]

  public init(rates: [RPCClass: Rate]) { self.rates = rates }

  /// Generous for people, tight enough to stop a runaway client.
  public static let defaults = RateLimitConfiguration(rates: [
    .send: Rate(perSecond: 5, burst: 20),
    .typing: Rate(perSecond: 2, burst: 5),
    .follow: Rate(perSecond: 2, burst: 20),
    .other: Rate(perSecond: 20, burst: 100),
  ])

  /// Applies one `--rate-limit` value: `off`, or `CLASS=RATE/BURST` (e.g. `send=10/20`).
  public mutating func apply(_ spec: String) throws(RateLimitSpecError) {
    if spec == "off" {
      rates = [:]
      return
    }
    let parts = spec.split(separator: "=", maxSplits: 1)
    guard parts.count == 2, let rpcClass = RPCClass(rawValue: String(parts[0])) else {
      throw RateLimitSpecError(spec)
    }
    let numbers = parts[1].split(separator: "/")
    guard numbers.count == 2, let rate = Double(numbers[0]), let burst = Double(numbers[1]),
      rate > 0, rate.isFinite, burst >= 1, burst.isFinite
    else { throw RateLimitSpecError(spec) }
    rates[rpcClass] = Rate(perSecond: rate, burst: burst)
  }
}

/// A `--rate-limit` value that is neither `off` nor `CLASS=RATE/BURST`.
public struct RateLimitSpecError: Error, Sendable, CustomStringConvertible {
  public var spec: String

  init(_ spec: String) { self.spec = spec }

  public var description: String {
    "--rate-limit takes off or CLASS=RATE/BURST with CLASS one of "
      + RateLimitConfiguration.RPCClass.allCases.map(\.rawValue).joined(separator: ", ")
      + " (e.g. send=10/20), not \"\(spec)\""
  }
}
