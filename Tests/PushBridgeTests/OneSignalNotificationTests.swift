import ChatStore
import Foundation
import NIOHTTP1
import Testing

@testable import PushBridge

@Suite struct OneSignalNotificationTests {
  let configuration: PushConfiguration = {
    var configuration = PushConfiguration(
      appID: "app", apiKey: "secret", endpoint: HTTPEndpoint(url: "http://127.0.0.1:1")!)
    configuration.iosSound = "ping.wav"
    configuration.androidChannelID = "chan"
    return configuration
  }()

  func item(kind: OutboxRepository.Item.Kind = .message, body: String = "hi")
    -> OutboxRepository.Item
  {
    OutboxRepository.Item(
      id: 1, kind: kind, userID: "bob", idempotencyKey: "k", attempts: 1, roomID: "r1",
      messageID: "m1", body: body, senderName: "Ana", groupTitle: nil,
      actorID: kind == .follow ? "ana" : nil, actorName: "Ana",
      actorAvatarURL: kind == .follow ? "https://a/x.png" : "", unreadTotal: 4, isStale: false)
  }

  func decoded(_ item: OutboxRepository.Item) throws -> [String: Any] {
    let bytes = OneSignalNotification(item: item, configuration: configuration).json()
    return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
  }

  @Test func directMessageBody() throws {
    let body = try decoded(item())
    #expect(body["app_id"] as? String == "app")
    #expect(body["target_channel"] as? String == "push")
    #expect((body["include_aliases"] as? [String: [String]])?["external_id"] == ["bob"])
    #expect((body["headings"] as? [String: String])?["en"] == "Ana")
    #expect((body["contents"] as? [String: String])?["en"] == "hi")
    #expect(body["app_url"] as? String == "chatd://rooms/r1")
    #expect(body["thread_id"] as? String == "r1" && body["collapse_id"] as? String == "r1")
    #expect(body["ios_badgeType"] as? String == "SetTo" && body["ios_badgeCount"] as? Int == 4)
    #expect(body["ios_sound"] as? String == "ping.wav")
    #expect(body["android_channel_id"] as? String == "chan")
    #expect(body["ttl"] as? Int == 259_200 && body["priority"] as? Int == 10)
    #expect(body["idempotency_key"] as? String == "k")
    #expect(
      body["data"] as? [String: String] == [
        "type": "message", "room_id": "r1", "message_id": "m1", "deep_link": "chatd://rooms/r1",
      ])
  }

  @Test func groupHeadingNamesTheRoom() throws {
    var group = item()
    group.groupTitle = "Trip"
    #expect((try decoded(group)["headings"] as? [String: String])?["en"] == "Ana in Trip")
  }

  @Test func followBody() throws {
    let body = try decoded(item(kind: .follow))
    #expect((body["contents"] as? [String: String])?["en"] == "Ana started following you")
    #expect(body["app_url"] as? String == "chatd://users/ana")
    #expect(body["large_icon"] as? String == "https://a/x.png")
    #expect((body["data"] as? [String: String])?["actor_id"] == "ana")
  }

  @Test func previewCutsOnGraphemes() {
    #expect("abc".preview(limit: 3) == "abc")
    #expect("abcd".preview(limit: 3) == "ab…")
    let family = "👨‍👩‍👧‍👦"
    let text = String(repeating: "a", count: 119) + family + "tail"
    #expect(text.preview(limit: 120) == String(repeating: "a", count: 119) + "…")
    let emojis = String(repeating: family, count: 200)
    #expect(emojis.preview(limit: 120) == String(repeating: family, count: 119) + "…")
  }
}

@Suite struct OneSignalOutcomeTests {
  func response(_ status: Int, _ body: String, headers: [(String, String)] = [])
    -> HTTPClient.Response
  {
    HTTPClient.Response(status: status, headers: HTTPHeaders(headers), body: Array(body.utf8))
  }

  @Test func answersAreSorted() {
    #expect(
      OneSignalClient.outcome(of: response(200, #"{"id":"n1"}"#)) == .sent(id: "n1", errors: nil))
    #expect(
      OneSignalClient.outcome(
        of: response(200, #"{"id":"n1","errors":{"invalid_aliases":{"external_id":["x"]}}}"#))
        == .sent(id: "n1", errors: #"{"invalid_aliases":{"external_id":["x"]}}"#))
    guard
      case .final = OneSignalClient.outcome(
        of: response(200, #"{"id":"","errors":["All included players are not subscribed"]}"#))
    else {
      Issue.record("empty id must be final")
      return
    }
    guard case .final = OneSignalClient.outcome(of: response(400, "bad")) else {
      Issue.record("400 must be final")
      return
    }
    guard case .retry(nil, _) = OneSignalClient.outcome(of: response(503, "")) else {
      Issue.record("503 must be retried")
      return
    }
    guard
      case .retry(.seconds(7), _) = OneSignalClient.outcome(
        of: response(429, "", headers: [("Retry-After", "7")]))
    else {
      Issue.record("429 must honour Retry-After")
      return
    }
    guard case .final = OneSignalClient.outcome(of: response(200, "not json")) else {
      Issue.record("garbage must be final")
      return
    }
  }

  @Test func retryAfterAndBackoff() {
    #expect(RetryPolicy.retryAfter("2") == .seconds(2))
    #expect(RetryPolicy.retryAfter("-5") == .zero)
    #expect(RetryPolicy.retryAfter("soon") == nil)
    #expect(RetryPolicy.retryAfter("99999") == .seconds(3600))
    let now = Date(timeIntervalSince1970: 1_700_000_000)
    #expect(RetryPolicy.retryAfter("Tue, 14 Nov 2023 22:13:30 GMT", now: now) == .seconds(10))
    for attempt in 1...20 {
      let delay = RetryPolicy.delay(afterAttempt: attempt, first: .seconds(1), max: .seconds(300))
      let full = min(pow(2, Double(attempt - 1)), 300)
      #expect(delay.seconds >= full / 2 - 0.001 && delay.seconds <= full + 0.001)
    }
  }

  @Test func endpoints() {
    #expect(
      HTTPEndpoint(url: "https://api.onesignal.com")?.description == "https://api.onesignal.com")
    let local = HTTPEndpoint(url: "http://127.0.0.1:8080/api/v1/")
    #expect(local?.port == 8080 && local?.basePath == "/api/v1" && local?.isHTTPS == false)
    #expect(HTTPEndpoint(url: "ftp://x") == nil)
    #expect(HTTPEndpoint(url: "not a url") == nil)
    #expect(HTTPEndpoint(url: "http://x:99999") == nil)
  }
}
