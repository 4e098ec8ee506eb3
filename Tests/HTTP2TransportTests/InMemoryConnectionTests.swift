import Logging
import NIOCore
import NIOEmbedded
import RPCCore
import Testing

@testable import HTTP2Transport

/// A bare nghttp2 client session that records what the server sends, for in-memory tests.
final class RecordingClient: NGHTTP2SessionDelegate {
  struct Response {
    var headers: [(String, String)] = []
    var trailers: [(String, String)] = []
    var body: [UInt8] = []
    var closedWith: UInt32?
    var headerBlocks = 0

    func field(_ name: String) -> String? {
      (headers + trailers).first { $0.0 == name }?.1
    }
  }

  var session: NGHTTP2Session!
  var responses: [Int32: Response] = [:]
  var bodies: [Int32: [UInt8]] = [:]
  var pings: [UInt64] = []
  var goAways: [(lastStreamID: Int32, errorCode: UInt32)] = []

  init() {
    session = NGHTTP2Session(
      role: .client,
      settings: .init(
        maxConcurrentStreams: 100, initialWindowSize: 65_535, maxHeaderListSize: 65_536,
        connectionWindowSize: 1 << 20),
      delegate: self)
  }

  /// Sends a POST to `path` with `body` (already gRPC-framed) and the given headers.
  @discardableResult
  func request(
    _ path: String, body: [UInt8], contentType: String = "application/grpc",
    extra: [(String, String)] = []
  ) -> Int32 {
    var headers: HeaderList = [
      (":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "test"),
      ("content-type", contentType), ("te", "trailers"),
    ]
    for (name, value) in extra { headers.append(name, value) }
    let id = session.submitRequest(headers: headers)!
    bodies[id] = body
    responses[id] = Response()
    return id
  }

  static func framed(_ payload: [UInt8]) -> [UInt8] {
    var buffer = ByteBuffer()
    MessageFramer.frame(payload, compressed: false, into: &buffer)
    return Array(buffer.readableBytesView)
  }

  func streamOpened(_ streamID: Int32) {}

  func headerReceived(
    _ streamID: Int32, name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer
  )
    -> Bool
  {
    let field = (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    if responses[streamID]!.headerBlocks == 0 {
      responses[streamID]!.headers.append(field)
    } else {
      responses[streamID]!.trailers.append(field)
    }
    return true
  }

  func headersComplete(_ streamID: Int32, endStream: Bool) {
    responses[streamID]?.headerBlocks += 1
  }

  func dataReceived(_ streamID: Int32, _ bytes: UnsafeRawBufferPointer) {
    responses[streamID]?.body.append(contentsOf: bytes)
    session.consume(streamID: streamID, count: bytes.count)
  }

  func endOfStreamReceived(_ streamID: Int32) {}

  func streamClosed(_ streamID: Int32, errorCode: UInt32) {
    responses[streamID]?.closedWith = errorCode
  }

  func readData(_ streamID: Int32, into buffer: UnsafeMutableRawBufferPointer)
    -> NGHTTP2Session
    .DataRead
  {
    let body = bodies[streamID] ?? []
    let count = min(body.count, buffer.count)
    buffer.copyBytes(from: body.prefix(count))
    bodies[streamID] = Array(body.dropFirst(count))
    return bodies[streamID]!.isEmpty ? .end(count) : .data(count)
  }

  func endOfStreamSent(_ streamID: Int32) {}
  func headersNotSent(_ streamID: Int32) {}
  func pingAcknowledged(_ payload: UInt64) { pings.append(payload) }
  func goAwayReceived(lastStreamID: Int32, errorCode: UInt32) {
    goAways.append((lastStreamID, errorCode))
  }
}

/// The server's connection handler in an `EmbeddedChannel`, pumped against `RecordingClient`:
/// no sockets, no threads, virtual time.
@Suite struct InMemoryConnectionTests {
  let loop = EmbeddedEventLoop()
  let channel: EmbeddedChannel
  let connection: ServerConnection
  let client = RecordingClient()
  let log = EchoLog()

  init() throws {
    try self.init { _ in }
  }

  /// Keepalive every 60 s (5 s to answer), idle close after 300 s, then `configure`.
  init(configure: (inout GRPCServerConfiguration) -> Void) throws {
    var configuration = GRPCServerConfiguration(host: "127.0.0.1", port: 0)
    configuration.keepaliveInterval = .seconds(60)
    configuration.keepaliveTimeout = .seconds(5)
    configuration.maxConnectionIdle = .seconds(300)
    configure(&configuration)
    channel = EmbeddedChannel(loop: loop)
    connection = ServerConnection(
      configuration: configuration, router: RPCRouter(services: [EchoService(log: log)]),
      logger: Logger(label: "test"), eventLoop: loop)
    try channel.pipeline.syncOperations.addHandler(connection)
    try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
  }

  /// Moves bytes both ways until neither side has anything to say.
  func pump(serverAnswers: Bool = true) throws {
    for _ in 0..<100 {
      var moved = false
      var toServer = ByteBuffer()
      try client.session.send(into: &toServer)
      if toServer.readableBytes > 0 {
        try channel.writeInbound(toServer)
        moved = true
      }
      loop.run()
      while let fromServer = try channel.readOutbound(as: ByteBuffer.self) {
        try client.session.receive(fromServer)
        moved = true
      }
      if !moved { return }
    }
  }

  @Test func unaryCallIsAnsweredWithHeadersMessageAndTrailers() throws {
    let id = client.request("/test.Echo/Get", body: RecordingClient.framed(Array("hi".utf8)))
    try pump()
    let response = try #require(client.responses[id])
    #expect(response.field(":status") == "200")
    #expect(response.field("content-type") == "application/grpc")
    #expect(response.body == RecordingClient.framed(Array("hi".utf8)))
    #expect(response.trailers.first { $0.0 == "grpc-status" }?.1 == "0")
    #expect(response.closedWith == 0)
  }

  /// nghttp2 would otherwise keep every closed stream, up to MAX_CONCURRENT_STREAMS of them,
  /// for RFC 7540 priorities that gRPC never sends: over 200 KB on a connection that served
  /// a thousand calls.
  @Test func aFinishedCallLeavesNoStreamStateInTheSession() throws {
    let ids = (0..<3).map { _ in
      client.request("/test.Echo/Get", body: RecordingClient.framed(Array("hi".utf8)))
    }
    try pump()
    for id in ids {
      #expect(client.responses[id]?.closedWith == 0)
      #expect(!connection.session.holdsStream(id))
    }
    // A late frame for a forgotten stream is ignored, not a connection error.
    client.session.resetStream(streamID: ids[0], errorCode: .cancel)
    try pump()
    #expect(channel.isActive)
    let next = client.request("/test.Echo/Get", body: RecordingClient.framed([1]))
    try pump()
    #expect(client.responses[next]?.field("grpc-status") == "0")
  }

  @Test func unknownMethodIsTrailersOnly() throws {
    let id = client.request("/test.Echo/Nope", body: RecordingClient.framed([]))
    try pump()
    let response = try #require(client.responses[id])
    #expect(response.headerBlocks == 1)
    #expect(response.field("grpc-status") == "12")
    #expect(response.field("grpc-message") == "unknown method Nope for service test.Echo")
    #expect(response.body.isEmpty)
  }

  @Test func nonGRPCContentTypeIs415() throws {
    let id = client.request("/test.Echo/Get", body: [1, 2], contentType: "application/json")
    try pump()
    #expect(client.responses[id]?.field(":status") == "415")
  }

  @Test func truncatedMessageIsInternal() throws {
    // The prefix announces 10 bytes; 3 arrive before END_STREAM.
    let id = client.request("/test.Echo/Get", body: [0, 0, 0, 0, 10, 1, 2, 3])
    try pump()
    #expect(client.responses[id]?.field("grpc-status") == "13")
  }

  @Test func deadlineIsEnforcedInVirtualTime() throws {
    let id = client.request(
      "/test.Echo/Get", body: RecordingClient.framed(Array("sleep".utf8)),
      extra: [("grpc-timeout", "2S")])
    try pump()
    #expect(client.responses[id]?.field("grpc-status") == nil)
    loop.advanceTime(by: .milliseconds(1999))
    try pump()
    #expect(client.responses[id]?.field("grpc-status") == nil)
    loop.advanceTime(by: .milliseconds(1))
    try pump()
    #expect(client.responses[id]?.field("grpc-status") == "4")
    #expect(client.responses[id]?.field("grpc-message") == "the deadline was exceeded")
  }

  /// Moves virtual time on, then lets both sides answer what came due.
  func advance(seconds: Int64) throws {
    loop.advanceTime(by: .seconds(seconds))
    try pump()
  }

  @Test func connectionWithoutPrefaceClosesAtThePrefaceTimeout() throws {
    // A slowloris client: part of the preface, then nothing.
    try channel.writeInbound(ByteBuffer(bytes: Array("PRI * HTTP".utf8)))
    loop.advanceTime(by: .milliseconds(9_999))
    #expect(channel.isActive)
    loop.advanceTime(by: .milliseconds(1))
    #expect(!channel.isActive)
  }

  @Test func prefaceTimeoutSparesAClientThatSentItsSettings() throws {
    try pump()
    loop.advanceTime(by: .seconds(11))
    #expect(channel.isActive)
  }

  @Test func keepaliveSurvivesAnsweredPingsAndClosesOnSilence() throws {
    try pump()
    // The client's session acknowledges the PING: the connection stays.
    loop.advanceTime(by: .seconds(60))
    try pump()
    loop.advanceTime(by: .seconds(5))
    #expect(channel.isActive)
    // The next PING (at 120 s) is never delivered, so never acknowledged: the connection
    // closes 5 s later.
    loop.advanceTime(by: .seconds(55))
    while try channel.readOutbound(as: ByteBuffer.self) != nil {}
    loop.advanceTime(by: .seconds(4))
    #expect(channel.isActive)
    loop.advanceTime(by: .seconds(1))
    #expect(!channel.isActive)
  }

  @Test func gracefulShutdownLetsCallsFinishThenCloses() throws {
    let id = client.request(
      "/test.Echo/Get", body: RecordingClient.framed(Array("sleep".utf8)))
    try pump()
    channel.pipeline.fireUserInboundEventTriggered(GracefulShutdownEvent(grace: .seconds(10)))
    try pump()
    loop.advanceTime(by: .seconds(1))
    try pump()
    #expect(client.goAways.last?.lastStreamID == id)
    #expect(channel.isActive)
    loop.advanceTime(by: .seconds(9))
    try pump()
    #expect(!channel.isActive)
    #expect(log.cancelledHandlers.load(ordering: .relaxed) == 1)
  }

  @Test func aConnectionPastItsMaximumAgeDrains() throws {
    let test = try InMemoryConnectionTests { $0.maxConnectionAge = .seconds(90) }
    try test.pump()
    // The PING at 60 s (answered) shares the connection's one timer with the age.
    try test.advance(seconds: 60)
    try test.advance(seconds: 29)
    #expect(test.client.goAways.isEmpty)
    try test.advance(seconds: 1)
    #expect(test.client.goAways.count == 1)
    // With no call in flight the connection is closed by the end of the grace period.
    try test.advance(seconds: 10)
    #expect(!test.channel.isActive)
  }

  /// The idle time counts from the end of the last call, not from the connection's start.
  @Test func idlenessCountsFromTheLastCall() throws {
    let test = try InMemoryConnectionTests { $0.keepaliveInterval = nil }
    try test.pump()
    test.loop.advanceTime(by: .seconds(200))
    let id = test.client.request(
      "/test.Echo/Get", body: RecordingClient.framed(Array("hi".utf8)))
    try test.pump()
    #expect(test.client.responses[id]?.field("grpc-status") == "0")
    // 300 s after the start the connection is only 100 s idle.
    try test.advance(seconds: 100)
    #expect(test.client.goAways.isEmpty)
    try test.advance(seconds: 199)
    #expect(test.client.goAways.isEmpty)
    try test.advance(seconds: 1)
    #expect(test.client.goAways.count == 1)
  }

  /// A call in flight keeps the connection open however long it runs.
  @Test func aBusyConnectionIsNotIdle() throws {
    let test = try InMemoryConnectionTests { $0.keepaliveInterval = nil }
    test.client.request("/test.Echo/Get", body: RecordingClient.framed(Array("sleep".utf8)))
    try test.pump()
    try test.advance(seconds: 600)
    #expect(test.client.goAways.isEmpty)
    #expect(test.channel.isActive)
  }

  @Test func idleConnectionIsClosed() throws {
    try pump()
    // Step through keepalive PINGs so they are answered; idleness ends the connection.
    for _ in 0..<5 {
      #expect(client.goAways.isEmpty)
      loop.advanceTime(by: .seconds(60))
      try pump()
    }
    #expect(client.goAways.count >= 1)
    loop.advanceTime(by: .seconds(2))
    try pump()
    #expect(!channel.isActive)
  }
}

/// Hostile or broken requests, in memory.
extension InMemoryConnectionTests {
  @Test func aTimeoutOfThousandsOfYearsIsAcceptedNotFatal() throws {
    let id = client.request(
      "/test.Echo/Get", body: RecordingClient.framed(Array("hi".utf8)),
      extra: [("grpc-timeout", "99999999H")])
    try pump()
    #expect(client.responses[id]?.field("grpc-status") == "0")
  }

  /// RESOURCE_EXHAUSTED, as grpc-core answers: a reset would reach clients as INTERNAL.
  @Test func aHeaderBlockPastTheLimitIsResourceExhausted() throws {
    let big = String(repeating: "x", count: 4000)
    let id = client.request(
      "/test.Echo/Get", body: RecordingClient.framed([]),
      extra: (0..<5).map { ("x-big-\($0)", big) })
    try pump()
    #expect(client.responses[id]?.field("grpc-status") == "8")
    #expect(client.responses[id]?.headerBlocks == 1)
    #expect(log.completedHandlers.load(ordering: .relaxed) == 0)
    // The connection still serves other calls.
    let next = client.request("/test.Echo/Get", body: RecordingClient.framed([1]))
    try pump()
    #expect(client.responses[next]?.field("grpc-status") == "0")
  }

  @Test func aSecondMessageOnAUnaryCallIsRefused() throws {
    let id = client.request(
      "/test.Echo/Get", body: RecordingClient.framed([1]) + RecordingClient.framed([2]))
    try pump()
    #expect(client.responses[id]?.field("grpc-status") == "13")
    #expect(log.completedHandlers.load(ordering: .relaxed) == 0)
  }

  @Test func aRefusedRequestGetsExactlyOneHeaderBlock() throws {
    let id = client.request("/test.Echo/Get", body: [1], contentType: "text/plain")
    try pump()
    #expect(client.responses[id]?.headerBlocks == 1)
    #expect(client.responses[id]?.field(":status") == "415")
  }

  @Test func aLongStatusMessageIsCut() {
    let message = String(repeating: "é", count: 2000)
    let encoded = ResponseHead.encodedMessage(message)
    #expect(PercentEncoding.decode(encoded).utf8.count <= 1024)
    #expect(PercentEncoding.decode(encoded).hasSuffix("é..."))
  }
}
