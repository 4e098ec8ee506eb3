import FuzzSupport
import Logging
import NIOCore
import NIOEmbedded
import RPCCore
import StandardServices

@testable import HTTP2Transport

/// The whole server side of a connection, fed the input as the bytes a client sends: the
/// HTTP/2 preface, frames, HPACK, gRPC framing, routing, handlers. The handler sits in an
/// `EmbeddedChannel` with a router serving health and a unary echo; virtual time then runs
/// past deadlines and keepalives and the channel closes, so every timer and teardown path
/// runs too.
let router: RPCRouter = {
  var router = RPCRouter(services: [HealthService(serving: [""])])
  router.registerUnary(MethodDescriptor(service: "fuzz.Echo", method: "Get", kind: .unary)) {
    (request: EncodedMessage, _) async throws -> EncodedMessage in request
  }
  return router
}()

let configuration: GRPCServerConfiguration = {
  var configuration = GRPCServerConfiguration(host: "127.0.0.1", port: 0)
  // Small limits, so the fuzzer reaches them with short inputs.
  configuration.maxReceiveMessageSize = 4096
  configuration.maxHeaderListSize = 2048
  configuration.maxConcurrentStreams = 8
  configuration.initialWindowSize = 8192
  return configuration
}()

/// The client connection preface: prepended when the first byte is odd, so the fuzzer spends
/// its time on frames rather than on rediscovering 24 fixed bytes.
let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzServerConnection(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
  var input = FuzzInput(data, count)
  let withPreface = input.byte() & 1 == 1
  let loop = EmbeddedEventLoop()
  let channel = EmbeddedChannel(loop: loop)
  let connection = ServerConnection(
    configuration: configuration, router: router, logger: Logger(label: "fuzz"), eventLoop: loop)
  try! channel.pipeline.syncOperations.addHandler(connection)
  try! channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()

  var chunks = input.chunks()
  if withPreface { chunks.insert(preface, at: 0) }
  for chunk in chunks where channel.isActive {
    var buffer = channel.allocator.buffer(capacity: chunk.count)
    buffer.writeBytes(chunk)
    try? channel.writeInbound(buffer)
    loop.run()
    drain(channel)
  }
  // Deadlines, the handshake timer, keepalives and the idle close, in virtual time.
  loop.advanceTime(by: .hours(3))
  drain(channel)
  _ = try? channel.finish()
  loop.run()
  try? loop.syncShutdownGracefully()
  return 0
}

private func drain(_ channel: EmbeddedChannel) {
  while (try? channel.readOutbound(as: ByteBuffer.self)) ?? nil != nil {}
}

/// The entry point SwiftPM binds `main` to.
@_cdecl("FuzzServerConnection_main")
public func main(
  _ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
  runFuzzer(argc, argv, fuzzServerConnection)
}
