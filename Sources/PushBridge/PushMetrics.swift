import CoreMetrics

/// The bridge's metrics on swift-metrics (Prometheus when `/metrics` is on, no-ops otherwise).
struct PushMetrics: Sendable {
  /// Accepted by OneSignal.
  let sent = Counter(label: "chatd_push_sent_total")
  /// Given up: a final answer, or the last attempt failed.
  let failed = Counter(label: "chatd_push_failed_total")
  /// Attempts that will be tried again.
  let retried = Counter(label: "chatd_push_retried_total")
  /// Not sent because the message reached the recipient (or was deleted, or the room muted)
  /// before the push was due.
  let dropped = Counter(label: "chatd_push_dropped_total")
  /// Rows waiting to be sent, and how long the oldest has waited.
  let queueDepth = Gauge(label: "chatd_push_queue_depth")
  let oldestPendingSeconds = Gauge(label: "chatd_push_oldest_pending_seconds")
}
