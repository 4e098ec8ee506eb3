public import ChatStore
public import Logging
public import ServiceLifecycle
import Synchronization

/// Drains the push outbox into OneSignal: a swift-service-lifecycle `Service`, one per chatd
/// instance. Rows are claimed with `FOR UPDATE SKIP LOCKED` under a lease, so instances share
/// the work without sending a row twice at once, and a row of a killed instance comes back when
/// its lease ends. Every attempt of a row carries the row's idempotency key, so OneSignal
/// delivers it once even when a request that timed out had in fact arrived.
public final class PushWorker: Service, Sendable {
  let store: Store
  let configuration: PushConfiguration
  let client: OneSignalClient
  let pacer: SendPacer
  let metrics = PushMetrics()
  let logger: Logger
  private let stopping = Atomic<Bool>(false)

  /// Throws when the TLS context for an `https` endpoint cannot be made.
  public init(store: Store, configuration: PushConfiguration, logger: Logger) throws {
    self.store = store
    self.configuration = configuration
    self.client = try OneSignalClient(configuration: configuration)
    self.pacer = SendPacer(requestsPerSecond: configuration.requestsPerSecond)
    self.logger = logger
  }

  /// Sends until graceful shutdown; requests in flight then finish (each bounded by the
  /// request timeout) and record their outcome, so nothing is left claimed.
  public func run() async throws {
    logger.info(
      "push bridge on",
      metadata: [
        "endpoint": "\(configuration.endpoint)", "app_id": "\(configuration.appID)",
        "grace_ms": "\(Int(configuration.gracePeriod.seconds * 1000))",
      ])
    await withGracefulShutdownHandler {
      await self.drain()
    } onGracefulShutdown: {
      self.stopping.store(true, ordering: .relaxed)
    }
  }

  private func drain() async {
    let clock = ContinuousClock()
    var lastHousekeeping = clock.now - .seconds(3600)
    // Cancelled (another service of the process failed): stop too, or chatd would spin here
    // instead of exiting with that error.
    while !stopping.load(ordering: .relaxed), !Task.isCancelled {
      var full = false
      do {
        let items = try await store.outbox.claim(
          limit: configuration.concurrency, lease: configuration.requestTimeout + .seconds(30))
        full = items.count == configuration.concurrency
        await withDiscardingTaskGroup { group in
          for item in items { group.addTask { await self.deliver(item) } }
        }
      } catch {
        logger.warning("push outbox not read", metadata: ["error": "\(error)"])
      }
      if clock.now - lastHousekeeping > .seconds(5) {
        lastHousekeeping = clock.now
        await housekeeping()
      }
      if !full { try? await Task.sleep(for: configuration.pollInterval) }
    }
  }

  /// One row: dropped when stale, else sent, then deleted, rescheduled or given up.
  func deliver(_ item: OutboxRepository.Item) async {
    var metadata: Logger.Metadata = [
      "push_id": "\(item.id)", "user": "\(item.userID)", "attempt": "\(item.attempts)",
      "idempotency_key": "\(item.idempotencyKey)",
    ]
    do {
      if item.isStale {
        try await store.outbox.complete(id: item.id)
        metrics.dropped.increment()
        logger.debug("push dropped: reached the recipient", metadata: metadata)
        return
      }
      let body = OneSignalNotification(item: item, configuration: configuration).json()
      await pacer.wait()
      switch await client.send(body) {
      case .sent(let id, let errors):
        try await store.outbox.complete(id: item.id)
        metrics.sent.increment()
        metadata["notification_id"] = "\(id)"
        if let errors {
          metadata["errors"] = "\(errors)"
          logger.notice("push sent with errors", metadata: metadata)
        } else {
          logger.debug("push sent", metadata: metadata)
        }
      case .final(let reason):
        try await giveUp(item, reason: reason, metadata: metadata)
      case .retry(let after, let reason):
        guard item.attempts < configuration.maxAttempts else {
          try await giveUp(
            item, reason: "gave up after \(item.attempts) attempts: \(reason)", metadata: metadata)
          return
        }
        if let after { pacer.pause(for: after) }
        let delay =
          after
          ?? RetryPolicy.delay(
            afterAttempt: item.attempts, first: configuration.firstRetryDelay,
            max: configuration.maxRetryDelay)
        try await store.outbox.retry(id: item.id, after: delay, error: reason)
        metrics.retried.increment()
        metadata["reason"] = "\(reason)"
        metadata["retry_in_ms"] = "\(Int(delay.seconds * 1000))"
        logger.info("push will be retried", metadata: metadata)
      }
    } catch {
      // The row stays claimed and comes back when its lease ends; its key makes a resend safe.
      metadata["error"] = "\(error)"
      logger.warning("push outcome not recorded", metadata: metadata)
    }
  }

  private func giveUp(_ item: OutboxRepository.Item, reason: String, metadata: Logger.Metadata)
    async throws
  {
    try await store.outbox.giveUp(id: item.id, reason: reason)
    metrics.failed.increment()
    var metadata = metadata
    metadata["reason"] = "\(reason)"
    logger.warning("push given up", metadata: metadata)
  }

  /// The backlog gauges, and given-up rows older than a week removed.
  private func housekeeping() async {
    do {
      let (pending, oldest) = try await store.outbox.backlog()
      metrics.queueDepth.record(pending)
      metrics.oldestPendingSeconds.record(oldest)
      try await store.outbox.pruneFailed(olderThan: .seconds(7 * 86_400))
    } catch {
      logger.debug("push backlog not read", metadata: ["error": "\(error)"])
    }
  }
}
