import Foundation
import NIOHTTP1
import TLS

/// Sends notifications to OneSignal and sorts the answers into sent, final or retry.
struct OneSignalClient: Sendable {
  enum Outcome: Sendable, Equatable {
    /// Accepted: OneSignal's notification id, and its `errors` when it reported some.
    case sent(id: String, errors: String?)
    /// Will never succeed: a 4xx other than 429, or 200 with no id (no subscribed device).
    case final(reason: String)
    /// May succeed later: 5xx, 429 (with its Retry-After), a timeout or a connection error.
    case retry(after: Duration?, reason: String)
  }

  let configuration: PushConfiguration
  let http: HTTPClient

  init(configuration: PushConfiguration) throws {
    self.configuration = configuration
    let tls =
      configuration.endpoint.isHTTPS
      ? try TLSContext(
        client: TLSClientConfiguration(
          trustRoots: configuration.trustRoots, applicationProtocol: .http1)) : nil
    http = HTTPClient(tls: tls)
  }

  func send(_ notification: [UInt8]) async -> Outcome {
    let response: HTTPClient.Response
    do {
      response = try await http.post(
        to: configuration.endpoint, path: "/notifications",
        headers: [
          ("Authorization", "\(configuration.authScheme.rawValue) \(configuration.apiKey)"),
          ("Content-Type", "application/json; charset=utf-8"),
          ("Accept", "application/json"),
          ("User-Agent", "chatd"),
        ],
        body: notification, timeout: configuration.requestTimeout)
    } catch {
      return .retry(after: nil, reason: "\(error)")
    }
    return Self.outcome(of: response)
  }

  static func outcome(of response: HTTPClient.Response) -> Outcome {
    let summary = "HTTP \(response.status): \(snippet(response.body))"
    switch response.status {
    case 200..<300:
      let json = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
      let errors = json?["errors"].map(describeErrors)
      guard let id = json?["id"] as? String, !id.isEmpty else {
        return .final(reason: "no notification id: \(errors ?? snippet(response.body))")
      }
      return .sent(id: id, errors: errors)
    case 429:
      return .retry(
        after: RetryPolicy.retryAfter(response.headers.first(name: "Retry-After")),
        reason: summary)
    case 500..<600:
      return .retry(after: nil, reason: summary)
    default:
      return .final(reason: summary)
    }
  }

  /// `errors` is a list of strings or an object (e.g. `invalid_aliases`); either reads as JSON.
  private static func describeErrors(_ errors: Any) -> String {
    if let text = errors as? String { return text }
    guard JSONSerialization.isValidJSONObject(errors),
      let data = try? JSONSerialization.data(withJSONObject: errors, options: [.sortedKeys])
    else { return "\(errors)" }
    return String(decoding: data, as: UTF8.self)
  }

  /// The start of a response body for logs and `last_error`.
  private static func snippet(_ body: [UInt8]) -> String {
    String(decoding: body.prefix(300), as: UTF8.self)
  }
}
