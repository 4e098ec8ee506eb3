import Dispatch
import Synchronization

/// The pool's bookkeeping, guarded by its mutex. Never an idle connection (or a free slot)
/// and a waiter at once: a release hands its connection to the first waiter, and a caller
/// registers as a waiter only in the critical section that found none idle and no slot free.
struct PoolState: ~Copyable {
  struct Idle {
    var connection: PostgresConnection
    var since: ContinuousClock.Instant
  }
  struct Waiter {
    var id: UInt64
    var continuation: CheckedContinuation<PoolHandoff, any Error>
  }

  var idle: [Idle] = []
  /// Connections idle, lent out or being opened.
  var open = 0
  var waiters: [Waiter] = []
  var nextWaiterID: UInt64 = 0
  var isShutdown = false
  /// While set and in the future, acquiring fails fast: the last connect failed.
  var unavailableUntil: ContinuousClock.Instant?
  var backoff: Duration = .zero
}

/// What a waiter is handed: a connection, or the right to open one (a slot was freed).
enum PoolHandoff {
  case connection(PostgresConnection)
  case openSlot
}

extension PoolState {
  /// What a caller may have right now: an idle connection, a slot to open one, or a refusal;
  /// nil when every connection is lent out and it must wait for a release.
  mutating func grant(maxConnections: Int) -> Result<PoolHandoff, StoreError>? {
    if isShutdown { return .failure(StoreError(.unavailable, serverMessage: "pool closed")) }
    while let entry = idle.popLast() {
      if !entry.connection.isClosed { return .success(.connection(entry.connection)) }
      open -= 1
      entry.connection.close()
    }
    if let until = unavailableUntil, ContinuousClock.now < until {
      return .failure(StoreError(.unavailable, serverMessage: "database unreachable, backing off"))
    }
    guard open < maxConnections else { return nil }
    open += 1
    return .success(.openSlot)
  }
}

extension PostgresPool {
  func acquire() async throws -> PostgresConnection {
    let handoff: PoolHandoff
    if let granted = state.withLock({ $0.grant(maxConnections: configuration.maxConnections) }) {
      handoff = try granted.get()
    } else {
      handoff = try await waitForHandoff()
    }
    switch handoff {
    case .connection(let connection): return connection
    case .openSlot: return try await openConnection()
    }
  }

  /// Opens a connection for a slot already counted in `open`.
  private func openConnection() async throws -> PostgresConnection {
    do {
      let connection = try await PostgresConnection.connect(configuration.connection)
      state.withLock { state in
        state.unavailableUntil = nil
        state.backoff = .zero
      }
      return connection
    } catch {
      let waiters = state.withLock { state -> [PoolState.Waiter] in
        state.open -= 1
        state.backoff = min(
          configuration.maxBackoff, max(configuration.minBackoff, state.backoff * 2))
        state.unavailableUntil = ContinuousClock.now + state.backoff
        defer { state.waiters = [] }
        return state.waiters
      }
      logger.warning("postgres connect failed", metadata: ["error": "\(error)"])
      // Waiters would only find the same dead server: tell them now.
      for waiter in waiters {
        waiter.continuation.resume(
          throwing: StoreError(.unavailable, serverMessage: "postgres connect failed"))
      }
      throw (error as? StoreError) ?? StoreError(.unavailable)
    }
  }

  private static var cancelled: StoreError {
    StoreError(.unavailable, serverMessage: "cancelled")
  }

  private func waitForHandoff() async throws -> PoolHandoff {
    let id = state.withLock { state in
      defer { state.nextWaiterID += 1 }
      return state.nextWaiterID
    }
    return try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { continuation in
        // Looked at again under the lock that registers the waiter: a release since the
        // caller's first look found no waiter, so it left its connection idle (or its slot
        // free) for nobody.
        let granted = state.withLock { state -> Result<PoolHandoff, StoreError>? in
          guard !Task.isCancelled else {
            return .failure(Self.cancelled)
          }
          if let granted = state.grant(maxConnections: configuration.maxConnections) {
            return granted
          }
          state.waiters.append(.init(id: id, continuation: continuation))
          return nil
        }
        if let granted { return continuation.resume(with: granted) }
        DispatchQueue.global().asyncAfter(
          deadline: .now() + configuration.acquireTimeout.timeInterval
        ) {
          self.failWaiter(id, StoreError(.unavailable, serverMessage: "acquire timed out"))
        }
      }
    } onCancel: {
      failWaiter(id, Self.cancelled)
    }
  }

  private func failWaiter(_ id: UInt64, _ error: StoreError) {
    let waiter = state.withLock { state -> PoolState.Waiter? in
      guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
      return state.waiters.remove(at: index)
    }
    waiter?.continuation.resume(throwing: error)
  }

  /// Takes a connection back: to a waiter, to the idle list, or closed if it is broken.
  func release(_ connection: PostgresConnection, failed: Bool) {
    let broken = failed || connection.isClosed
    let (discard, handoff) = state.withLock { state -> (Bool, (PoolState.Waiter, PoolHandoff)?) in
      if broken || state.isShutdown {
        state.open -= 1
        guard !state.isShutdown, !state.waiters.isEmpty else { return (true, nil) }
        state.open += 1
        return (true, (state.waiters.removeFirst(), .openSlot))
      }
      if !state.waiters.isEmpty {
        return (false, (state.waiters.removeFirst(), .connection(connection)))
      }
      state.idle.append(.init(connection: connection, since: .now))
      return (false, nil)
    }
    if discard { connection.close() }
    if let (waiter, value) = handoff { waiter.continuation.resume(returning: value) }
  }

  /// Pings connections idle longer than the check interval; drops the ones that fail.
  func checkIdleConnections() async {
    let stale = state.withLock { state -> [PostgresConnection] in
      let cutoff = ContinuousClock.now - configuration.healthCheckInterval
      let stale = state.idle.filter { $0.since <= cutoff }.map(\.connection)
      state.idle.removeAll { $0.since <= cutoff }
      return stale
    }
    for connection in stale {
      let healthy = (try? await connection.query("SELECT 1")) != nil
      release(connection, failed: !healthy)
    }
  }
}
