/// What the hub's watchdog found wrong with a feed, and repaired by starting a new read.
/// Either one means live subscribers were hearing only heartbeats while their feed had
/// events to give: a bug elsewhere in the hub, or a source read that never returned.
public struct FeedStall: Sendable, CustomStringConvertible {
  public enum Kind: Sendable, Equatable {
    /// Behind what the bus announced, with no read under way.
    case idleBehind
    /// A read under way has brought nothing for this long.
    case readStuck(for: Duration)
  }

  public let key: String
  public let kind: Kind
  public let loadedSeq: UInt64
  public let knownSeq: UInt64
  public let subscribers: Int

  public var description: String {
    let what =
      switch kind {
      case .idleBehind: "behind with no read under way"
      case .readStuck(let duration): "read under way for \(duration) without a page"
      }
    return
      "feed \(key) \(what) (loaded \(loadedSeq), announced \(knownSeq), \(subscribers) subscribers)"
  }
}
