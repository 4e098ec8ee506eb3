/// Emits a service: method descriptors, the server protocol with its registration, and a
/// typed client.
struct ServiceEmitter {
  let registry: TypeRegistry
  let comments: [[Int32]: String]
  let visibility: String
  let package: String

  struct Method {
    var descriptor: MethodDescriptor
    var swiftName: String
    var input: String
    var output: String
    var kind: String
  }

  func methods(of service: ServiceDescriptor) -> [Method] {
    service.methods.map { method in
      let kind =
        switch (method.clientStreaming, method.serverStreaming) {
        case (false, false): "unary"
        case (false, true): "serverStreaming"
        case (true, false): "clientStreaming"
        case (true, true): "bidiStreaming"
        }
      return Method(
        descriptor: method,
        swiftName: SwiftNaming.escaped(SwiftNaming.lowerCamel(method.name)),
        input: registry.message(method.inputType).swiftName,
        output: registry.message(method.outputType).swiftName,
        kind: kind)
    }
  }

  func emit(_ service: ServiceDescriptor, into writer: inout SourceWriter) {
    let name = SwiftNaming.packagePrefix(package) + service.name
    let methods = methods(of: service)
    writer.docComment(comments[service.path])
    writer.block("\(visibility)enum \(name)") { writer in
      writer.line("/// The fully qualified service name.")
      writer.line("\(visibility)static let name = \"\(service.fullName)\"")
      writer.line()
      writer.block("\(visibility)enum Method") { writer in
        for method in methods {
          writer.docComment(comments[method.descriptor.path])
          writer.line(
            "\(visibility)static let \(method.swiftName) = MethodDescriptor("
              + "service: \"\(service.fullName)\", method: \"\(method.descriptor.name)\", "
              + "kind: .\(method.kind))")
        }
        writer.line()
        writer.line("/// Every method of the service, in declaration order.")
        writer.line(
          "\(visibility)static let all: [MethodDescriptor] = ["
            + methods.map(\.swiftName).joined(separator: ", ") + "]")
      }
      writer.line()
      emitProtocol(service, methods: methods, into: &writer)
      writer.line()
      ClientEmitter(comments: comments, visibility: visibility).emit(
        service, methods: methods, into: &writer)
    }
    writer.line()
    emitRegistration(serviceName: name, methods: methods, into: &writer)
  }

  private func emitProtocol(
    _ service: ServiceDescriptor, methods: [Method], into writer: inout SourceWriter
  ) {
    writer.line("/// Implement this to serve \(service.fullName); register it with an RPCRouter.")
    writer.block("\(visibility)protocol ServiceProtocol: RegistrableRPCService") { writer in
      for method in methods {
        writer.docComment(comments[method.descriptor.path])
        writer.line("func \(method.swiftName)(\(parameters(method))) async throws\(result(method))")
      }
    }
  }

  private func parameters(_ method: Method) -> String {
    var parameters: [String] = []
    if method.descriptor.clientStreaming {
      parameters.append("requests: RPCAsyncSequence<\(method.input)>")
    } else {
      parameters.append("request: \(method.input)")
    }
    if method.descriptor.serverStreaming {
      parameters.append("response: RPCWriter<\(method.output)>")
    }
    parameters.append("context: ServerContext")
    return parameters.joined(separator: ", ")
  }

  private func result(_ method: Method) -> String {
    method.descriptor.serverStreaming ? "" : " -> \(method.output)"
  }

  private func emitRegistration(
    serviceName: String, methods: [Method], into writer: inout SourceWriter
  ) {
    writer.block("extension \(serviceName).ServiceProtocol") { writer in
      writer.line("/// Routes every method of the service to this implementation.")
      writer.block("\(visibility)func registerMethods(with router: inout RPCRouter)") { writer in
        for method in methods {
          let register = "register" + method.kind.prefix(1).uppercased() + method.kind.dropFirst()
          let streamIn = method.descriptor.clientStreaming
          let streamOut = method.descriptor.serverStreaming
          var closureParameters: [String] = []
          var arguments: [String] = []
          if streamIn {
            closureParameters.append("requests: RPCAsyncSequence<\(method.input)>")
            arguments.append("requests: requests")
          } else {
            closureParameters.append("request: \(method.input)")
            arguments.append("request: request")
          }
          if streamOut {
            closureParameters.append("response: RPCWriter<\(method.output)>")
            arguments.append("response: response")
          }
          closureParameters.append("context: ServerContext")
          arguments.append("context: context")
          writer.closure(
            "router.\(register)(\(serviceName).Method.\(method.swiftName)) {"
              + " (\(closureParameters.joined(separator: ", "))) in"
          ) { writer in
            writer.line(
              "try await self.\(method.swiftName)(\(arguments.joined(separator: ", ")))")
          }
        }
      }
    }
  }
}
