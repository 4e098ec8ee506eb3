/// Emits a service's typed client: one method per RPC over `any RPCClientTransport`.
struct ClientEmitter {
  let comments: [[Int32]: String]
  let visibility: String

  func emit(
    _ service: ServiceDescriptor, methods: [ServiceEmitter.Method], into writer: inout SourceWriter
  ) {
    writer.line("/// Calls \(service.fullName) through a client transport.")
    writer.block("\(visibility)struct Client: Sendable") { writer in
      writer.line("\(visibility)let transport: any RPCClientTransport")
      writer.line()
      writer.block("\(visibility)init(transport: any RPCClientTransport)") { writer in
        writer.line("self.transport = transport")
      }
      for method in methods {
        writer.line()
        emit(method, into: &writer)
      }
    }
  }

  private func emit(_ method: ServiceEmitter.Method, into writer: inout SourceWriter) {
    let descriptor = "Method.\(method.swiftName)"
    let options = "options: CallOptions = .defaults"
    let producer =
      "requestProducer: @escaping @Sendable (RPCWriter<\(method.input)>) async throws -> Void"
    let onResponse =
      "onResponse: @escaping @Sendable (RPCAsyncSequence<\(method.output)>) async throws -> Result"
    writer.docComment(comments[method.descriptor.path])
    switch (method.descriptor.clientStreaming, method.descriptor.serverStreaming) {
    case (false, false):
      writer.block(
        "\(visibility)func \(method.swiftName)(_ request: \(method.input), \(options)) async throws -> \(method.output)"
      ) { writer in
        writer.line("try await transport.unary(\(descriptor), request: request, options: options)")
      }
    case (false, true):
      writer.block(
        "\(visibility)func \(method.swiftName)<Result: Sendable>(_ request: \(method.input), \(options), \(onResponse)) async throws -> Result"
      ) { writer in
        writer.line(
          "try await transport.serverStreaming(\(descriptor), request: request, options: options, onResponse: onResponse)"
        )
      }
    case (true, false):
      writer.block(
        "\(visibility)func \(method.swiftName)(\(options), \(producer)) async throws -> \(method.output)"
      ) { writer in
        writer.line(
          "try await transport.clientStreaming(\(descriptor), options: options, requestProducer: requestProducer)"
        )
      }
    case (true, true):
      writer.block(
        "\(visibility)func \(method.swiftName)<Result: Sendable>(\(options), \(producer), \(onResponse)) async throws -> Result"
      ) { writer in
        writer.line(
          "try await transport.bidiStreaming(\(descriptor), options: options, requestProducer: requestProducer, onResponse: onResponse)"
        )
      }
    }
  }
}
