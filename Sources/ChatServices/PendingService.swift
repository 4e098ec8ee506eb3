public import RPCCore

/// Serves a service's methods with UNIMPLEMENTED until its handlers land, so clients and
/// reflection already see the whole API.
public struct PendingService: RegistrableRPCService {
  public let methods: [MethodDescriptor]

  public init(methods: [MethodDescriptor]) { self.methods = methods }

  public func registerMethods(with router: inout RPCRouter) {
    for method in methods {
      let error = RPCError(code: .unimplemented, message: "\(method.path) is not implemented yet")
      let handler: ServerMethod.Handler =
        switch method.kind {
        case .unary: .unary { _, _ in throw error }
        case .serverStreaming: .serverStreaming { _, _, _ in throw error }
        case .clientStreaming: .clientStreaming { _, _ in throw error }
        case .bidiStreaming: .bidiStreaming { _, _, _ in throw error }
        }
      router.register(ServerMethod(descriptor: method, handler: handler))
    }
  }
}
