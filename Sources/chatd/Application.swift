import ChatProtos
import ChatServices
import HTTP2Transport
import Logging
import RPCCore
import ServiceLifecycle
import StandardProtos
import StandardServices

/// The composition root: every service chatd serves, and the lifecycle that runs them.
func buildApplication(_ configuration: ChatdConfiguration) throws -> ServiceGroup {
  let logger = Logger(label: "chatd")
  var services = ChatServiceCatalog.services()
  var serviceNames = ChatServiceCatalog.serviceNames
  if configuration.enableInteropTesting {
    services.append(InteropTestService())
    serviceNames.append(Grpc_Testing_TestService.name)
  }

  let health = HealthService(serving: serviceNames + [Grpc_Health_V1_Health.name])
  services.append(health)
  serviceNames += [
    Grpc_Health_V1_Health.name, Grpc_Reflection_V1_ServerReflection.name,
    Grpc_Reflection_V1alpha_ServerReflection.name,
  ]
  let index = ReflectionIndex(
    files: StandardProtosDescriptors.files + ChatProtosDescriptors.files,
    serviceNames: serviceNames)
  services += [ReflectionServiceV1(index: index), ReflectionServiceV1Alpha(index: index)]

  let server = GRPCServer(
    configuration: configuration.server, router: RPCRouter(services: services), logger: logger)
  return ServiceGroup(
    configuration: .init(
      // Graceful shutdown runs from the last service to the first: health turns
      // NOT_SERVING before the server starts draining.
      services: [
        .init(service: server),
        .init(service: HealthShutdown(health: health)),
      ],
      gracefulShutdownSignals: [.sigterm, .sigint],
      logger: logger))
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
