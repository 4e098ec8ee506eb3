import HTTP2Transport
import Logging
import RPCCore
import ServiceLifecycle

/// The composition root: every service chatd serves, and the lifecycle that runs them.
func buildApplication(_ configuration: ChatdConfiguration) throws -> ServiceGroup {
  let logger = Logger(label: "chatd")
  let services: [any RegistrableRPCService] = []
  let router = RPCRouter(services: services)
  let server = GRPCServer(configuration: configuration.server, router: router, logger: logger)
  return ServiceGroup(
    configuration: .init(
      services: [.init(service: server)],
      gracefulShutdownSignals: [.sigterm, .sigint],
      logger: logger))
}
