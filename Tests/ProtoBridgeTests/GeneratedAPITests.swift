import ChatProtos
import Foundation
import ProtoBridge
import RPCCore
import StandardProtos
import Testing

@Suite struct GeneratedAPITests {
  @Test func enumCasesDropTheEnumNamePrefix() {
    #expect(Bridgetest_V1_Color(rawValue: 2) == .darkBlue)
    #expect(Bridgetest_V1_Color.allCases == [.unspecified, .red, .darkBlue])
    #expect(Chat_V1_RoomKind(rawValue: 0) == .unspecified)
  }

  @Test func methodDescriptorsCarryServiceAndKind() {
    #expect(Bridgetest_V1_Echo.Method.get.path == "/bridgetest.v1.Echo/Get")
    #expect(Bridgetest_V1_Echo.Method.expand.kind == .serverStreaming)
    #expect(Bridgetest_V1_Echo.Method.collect.kind == .clientStreaming)
    #expect(Bridgetest_V1_Echo.Method.chat.kind == .bidiStreaming)
    #expect(Chat_V1_ChatService.Method.sendMessage.path == "/chat.v1.ChatService/SendMessage")
    #expect(Chat_V1_ChatService.Method.subscribeRoom.kind == .serverStreaming)
  }

  @Test func serviceProtocolRegistersEveryMethod() {
    var router = RPCRouter()
    EchoService().registerMethods(with: &router)
    for method in Bridgetest_V1_Echo.Method.all {
      #expect(router.method(forPath: method.path) != nil)
    }
    #expect(router.serviceNames == ["bridgetest.v1.Echo"])
  }

  @Test func descriptorsListFilesDependenciesAndSymbols() throws {
    let files = ChatProtosDescriptors.files
    let service = try #require(files.first { $0.name == "chat/v1/chat_service.proto" })
    #expect(service.symbols.contains("chat.v1.ChatService"))
    #expect(service.symbols.contains("chat.v1.ChatService.SendMessage"))
    #expect(
      service.dependencies.contains("google/protobuf/timestamp.proto")
        || !service.dependencies.isEmpty)
    // A FileDescriptorProto starts with field 1, the file name.
    let name = Array("chat/v1/chat_service.proto".utf8)
    #expect(Array(service.serialized.prefix(2 + name.count)) == [0x0A, UInt8(name.count)] + name)
    let standard = StandardProtosDescriptors.files.map(\.name)
    #expect(standard.contains("google/protobuf/timestamp.proto"))
    #expect(
      BridgeTestDescriptors.files.first?.symbols.contains("bridgetest.v1.Composite.Inner.Mode")
        == true)
  }

  @Test func timestampConveniences() {
    let date = Date(timeIntervalSince1970: 1_700_000_000.25)
    let timestamp = Google_Protobuf_Timestamp(date: date)
    #expect(timestamp.seconds == 1_700_000_000)
    #expect(timestamp.nanos == 250_000_000)
    #expect(timestamp.date == date)
    #expect(Google_Protobuf_Timestamp(seconds: 5).nanos == 0)
    let before = Google_Protobuf_Timestamp(date: Date(timeIntervalSince1970: -1.5))
    #expect(before.seconds == -2 && before.nanos == 500_000_000)
  }

  @Test func crossModuleMessagesNest() throws {
    let event = Chat_V1_RoomEvent.with {
      $0.seq = 9
      $0.at = Google_Protobuf_Timestamp(seconds: 1, nanos: 2)
      $0.event = .typing(
        .with {
          $0.userId = "u1"; $0.typing = true
        })
    }
    #expect(try Chat_V1_RoomEvent(wireBytes: event.wireBytes()) == event)
  }
}

private struct EchoService: Bridgetest_V1_Echo.ServiceProtocol {
  func get(request: Bridgetest_V1_Scalars, context: ServerContext) async throws
    -> Bridgetest_V1_Scalars
  { request }

  func expand(
    request: Bridgetest_V1_Scalars, response: RPCWriter<Bridgetest_V1_Scalars>,
    context: ServerContext
  ) async throws {
    try await response.write(request)
  }

  func collect(requests: RPCAsyncSequence<Bridgetest_V1_Scalars>, context: ServerContext)
    async throws -> Bridgetest_V1_Repeated
  {
    var result = Bridgetest_V1_Repeated()
    for try await request in requests { result.items.append(request) }
    return result
  }

  func chat(
    requests: RPCAsyncSequence<Bridgetest_V1_Composite>,
    response: RPCWriter<Bridgetest_V1_Composite>, context: ServerContext
  ) async throws {
    for try await request in requests { try await response.write(request) }
  }
}
