/// How a pool's connections are used at one instant: what a metrics scrape samples.
public struct PoolStatistics: Sendable, Equatable {
  /// Connections open or being opened.
  public var open: Int
  /// Open connections lent out (being opened counts as lent: a caller waits on it).
  public var inUse: Int
  /// Callers waiting for a connection.
  public var waiting: Int
  /// The configured upper bound of `open`.
  public var maxConnections: Int
}

extension PostgresPool {
  /// One consistent reading, taken under the pool's lock: cheap, so a scrape can ask.
  public var statistics: PoolStatistics {
    state.withLock { state in
      PoolStatistics(
        open: state.open, inUse: state.open - state.idle.count, waiting: state.waiters.count,
        maxConnections: configuration.maxConnections)
    }
  }
}
