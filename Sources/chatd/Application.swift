import AccessTokens
import ArgumentParser
import BenchProtos
import BenchService
import ChatProtos
import ChatServices
import ChatStore
import HTTP2Transport
import Logging
import MetricsEndpoint
import PushBridge
import RPCCore
import RPCMetrics
import ServiceLifecycle
import StandardProtos
import StandardServices
import TLS

/// The composition root: every service chatd serves, and the lifecycle that runs them.
func buildApplication(_ configuration: ChatdConfiguration) async throws -> ServiceGroup {
  let logger = Logger(label: "chatd")
  // First, so every metric object made below reports to Prometheus.
  let registry = configuration.metricsAddress.map { _ in bootstrapPrometheus() }
  // Certificate problems stop chatd before it starts a database.
  let tls = try configuration.tls.map { configuration in
    do {
      return try ReloadableTLSContext(configuration)
    } catch {
      throw ValidationError("TLS: \(error)")
    }
  }
  let verifier = try makeTokenVerifier(configuration, logger: logger)
  let store = try await Store.open(configuration.store, logger: Logger(label: "chatd.store"))
  let push = try configuration.push.map { push in
    do {
      return try PushWorker(store: store, configuration: push, logger: Logger(label: "chatd.push"))
    } catch {
      throw ValidationError("OneSignal: \(error)")
    }
  }
  let catalog = ChatServiceCatalog(store: store, realtime: configuration.realtime)
  var services = catalog.services()
  var serviceNames = ChatServiceCatalog.serviceNames
  if configuration.enableInteropTesting {
    services.append(InteropTestService())
    serviceNames.append(Grpc_Testing_TestService.name)
  }
  let bench = configuration.enableBenchService ? BenchChatService() : nil
  if bench != nil { serviceNames.append(Bench_V1_Chat.name) }

  let health = HealthService(serving: serviceNames + [Grpc_Health_V1_Health.name])
  services.append(health)
  serviceNames += [
    Grpc_Health_V1_Health.name, Grpc_Reflection_V1_ServerReflection.name,
    Grpc_Reflection_V1alpha_ServerReflection.name,
  ]
  let index = ReflectionIndex(
    files: StandardProtosDescriptors.files + ChatProtosDescriptors.files
      + (bench != nil ? BenchProtosDescriptors.files : []),
    serviceNames: serviceNames)
  services += [ReflectionServiceV1(index: index), ReflectionServiceV1Alpha(index: index)]

  var router = RPCRouter(services: services).intercepted(by: [
    AccessLogInterceptor(logger: Logger(label: "chatd.access")),
    catalog.identityInterceptor(verifier: verifier),
    RateLimitInterceptor(configuration: configuration.rateLimits),
  ])
  // Registered after the interceptors: no token, no rate limit, no access log line per call,
  // like the peers it is compared with (docs/benchmarks.md).
  bench?.registerMethods(with: &router)
  let server = GRPCServer(
    configuration: configuration.server, router: router, tls: tls,
    observer: registry.map { _ in RPCMetrics(namespace: "chatd") }, logger: logger)

  // Graceful shutdown runs from the last service to the first: health turns NOT_SERVING,
  // the real-time layer ends every stream (clients resubscribe elsewhere) and retires its
  // presence, the server drains the calls left, the push worker finishes its requests in
  // flight, the store closes; metrics are served until the very end.
  var lifecycle: [ServiceGroupConfiguration.ServiceConfiguration] = []
  if let registry, let (host, port) = configuration.metricsAddress {
    let pool = PoolMetrics(pool: store.pool)
    lifecycle.append(
      .init(
        service: MetricsEndpoint(
          host: host, port: port, registry: registry, refresh: pool.sample,
          logger: Logger(label: "chatd.metrics"))))
  }
  lifecycle += [
    .init(service: store)
  ]
  if let push { lifecycle.append(.init(service: push)) }
  lifecycle += [
    .init(service: server),
    .init(service: catalog.realtime),
  ]
  if let bench { lifecycle.append(.init(service: bench)) }
  lifecycle += [
    .init(service: HealthShutdown(health: health))
  ]
  if let tls { lifecycle.append(.init(service: TLSReloader(tls: tls, logger: logger))) }
  return ServiceGroup(
    configuration: .init(
      services: lifecycle,
      gracefulShutdownSignals: [.sigterm, .sigint],
      logger: logger))
}

/// The verifier of access tokens: the configured keys, or in development the data dir's
/// random secret (and a log line saying how to mint a token with it).
func makeTokenVerifier(_ configuration: ChatdConfiguration, logger: Logger) throws
  -> TokenVerifier
{
  var identity = configuration.identity
  if !identity.hasKeys {
    let dataDir = configuration.store.dataDir
    identity.hmacSecrets = [try DevelopmentSecret.loadOrCreate(dataDir: dataDir)]
    logger.notice(
      "no JWT key configured: verifying tokens with the development secret of the data dir",
      metadata: [
        "secret_file": "\(DevelopmentSecret.path(dataDir: dataDir))",
        "mint": "chatd token --data-dir \(dataDir) --user ID --name NAME",
      ])
  }
  return try TokenVerifier(identity)
}

/// Turns health NOT_SERVING as soon as shutdown begins, so load balancers stop sending calls
/// while the server drains.
struct HealthShutdown: Service {
  let health: HealthService

  func run() async throws {
    try? await gracefulShutdown()
    health.enterShutdown()
  }
}
