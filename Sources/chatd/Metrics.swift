import ChatStore
import CoreMetrics
import Prometheus
import RPCMetrics

/// Makes Prometheus the process's swift-metrics backend. Once per process, before any metric
/// object exists: objects made earlier stay bound to the no-op backend.
func bootstrapPrometheus() -> PrometheusCollectorRegistry {
  let registry = PrometheusCollectorRegistry()
  var factory = PrometheusMetricsFactory(registry: registry)
  // chatd's timers are RPC latencies, mostly well under Prometheus' first default bucket.
  factory.defaultDurationHistogramBuckets = RPCMetrics.durationBuckets
  MetricsSystem.bootstrap(factory)
  return registry
}

/// The PostgreSQL pool's gauges, sampled when Prometheus scrapes rather than updated on each
/// acquire: the values at scrape time are the same, and the store's hot path stays free of
/// metrics.
struct PoolMetrics: Sendable {
  let pool: PostgresPool
  private let open = Gauge(label: "chatd_db_pool_connections_open")
  private let inUse = Gauge(label: "chatd_db_pool_connections_in_use")
  private let max = Gauge(label: "chatd_db_pool_connections_max")
  private let waiters = Gauge(label: "chatd_db_pool_waiters")

  init(pool: PostgresPool) {
    self.pool = pool
  }

  func sample() {
    let statistics = pool.statistics
    open.record(statistics.open)
    inUse.record(statistics.inUse)
    max.record(statistics.maxConnections)
    waiters.record(statistics.waiting)
  }
}
