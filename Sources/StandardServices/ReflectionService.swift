public import RPCCore
public import StandardProtos

/// grpc.reflection.v1.ServerReflection over a `ReflectionIndex`.
public struct ReflectionServiceV1: Grpc_Reflection_V1_ServerReflection.ServiceProtocol {
  let index: ReflectionIndex

  public init(index: ReflectionIndex) { self.index = index }

  public func serverReflectionInfo(
    requests: RPCAsyncSequence<Grpc_Reflection_V1_ServerReflectionRequest>,
    response: RPCWriter<Grpc_Reflection_V1_ServerReflectionResponse>, context: ServerContext
  ) async throws {
    var sent = Set<String>()
    for try await request in requests {
      let query: ReflectionQuery =
        switch request.messageRequest {
        case .fileByFilename(let name): .fileByName(name)
        case .fileContainingSymbol(let symbol): .fileContainingSymbol(symbol)
        case .fileContainingExtension(let ext):
          .fileContainingExtension(type: ext.containingType, number: ext.extensionNumber)
        case .allExtensionNumbersOfType(let type): .extensionNumbers(ofType: type)
        case .listServices: .listServices
        case nil: .unset
        }
      let answer: Grpc_Reflection_V1_ServerReflectionResponse.MessageResponse =
        switch index.answer(query, alreadySent: &sent) {
        case .files(let files): .fileDescriptorResponse(.with { $0.fileDescriptorProto = files })
        case .extensionNumbers(let type, let numbers):
          .allExtensionNumbersResponse(
            .with {
              $0.baseTypeName = type
              $0.extensionNumber = numbers
            })
        case .services(let names):
          .listServicesResponse(
            .with { list in list.service = names.map { name in .with { $0.name = name } } })
        case .error(let code, let message):
          .errorResponse(
            .with {
              $0.errorCode = Int32(code.rawValue)
              $0.errorMessage = message
            })
        }
      try await response.write(
        .with {
          $0.validHost = request.host
          $0.originalRequest = request
          $0.messageResponse = answer
        })
    }
  }
}

/// grpc.reflection.v1alpha.ServerReflection, for clients that predate v1 (grpcurl 1.8 among
/// them). Its messages are v1's under another package name, field for field, so the v1
/// handler serves it unchanged; only the method's path differs.
public struct ReflectionServiceV1Alpha: RegistrableRPCService {
  let v1: ReflectionServiceV1

  public init(index: ReflectionIndex) { self.v1 = ReflectionServiceV1(index: index) }

  public func registerMethods(with router: inout RPCRouter) {
    let v1 = v1
    router.registerBidiStreaming(
      Grpc_Reflection_V1alpha_ServerReflection.Method.serverReflectionInfo
    ) {
      (
        requests: RPCAsyncSequence<Grpc_Reflection_V1_ServerReflectionRequest>,
        response: RPCWriter<Grpc_Reflection_V1_ServerReflectionResponse>, context
      ) in
      try await v1.serverReflectionInfo(requests: requests, response: response, context: context)
    }
  }
}
