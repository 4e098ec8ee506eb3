public import TLS

/// How chatd reaches OneSignal and how hard it tries. The bridge is on when an app id and an
/// API key are configured (`--onesignal-app-id`, `--onesignal-api-key`).
public struct PushConfiguration: Sendable {
  /// The `Authorization` scheme: `Key` for current REST API keys, `Basic` for legacy ones.
  public enum AuthScheme: String, Sendable, CaseIterable {
    case key = "Key"
    case basic = "Basic"
  }

  public var appID: String
  /// Sent in the `Authorization` header only; never logged.
  public var apiKey: String
  /// Where `POST /notifications` goes (default `https://api.onesignal.com`).
  public var endpoint: HTTPEndpoint
  public var authScheme: AuthScheme = .key
  /// Whom an `https` endpoint must be certified by: the system's roots, or a PEM file (a
  /// private proxy, the tests).
  public var trustRoots: TLSClientConfiguration.TrustRoots = .system
  /// Deep links: `{room_id}` and `{message_id}` are replaced for messages, `{user_id}` (the
  /// follower) for follows.
  public var roomLinkTemplate = "chatd://rooms/{room_id}"
  public var userLinkTemplate = "chatd://users/{user_id}"
  /// `ios_sound` and `android_channel_id`; nil leaves them out (the app's defaults).
  public var iosSound: String?
  public var androidChannelID: String?
  /// Seconds OneSignal keeps trying to reach a device (OneSignal's default: 3 days).
  public var ttl = 259_200
  /// 10 is high priority (wakes the device), 5 normal.
  public var priority = 10
  /// How long a recipient online at send time has to receive the message on a stream
  /// before they get a push anyway.
  public var gracePeriod: Duration = .seconds(3)
  /// Attempts of one push before it is given up (timeouts, 5xx, 429, connection errors).
  public var maxAttempts = 10
  /// The first retry waits about this long; each further one twice as long, up to
  /// `maxRetryDelay` (with jitter: between half and all of it).
  public var firstRetryDelay: Duration = .seconds(1)
  public var maxRetryDelay: Duration = .seconds(300)
  /// One request's limit, connecting included.
  public var requestTimeout: Duration = .seconds(10)
  /// Requests in flight per instance.
  public var concurrency = 8
  /// Requests per second per instance (OneSignal's free plans allow 150).
  public var requestsPerSecond = 150.0
  /// How often the worker looks for due rows when the last look found fewer than it can take.
  public var pollInterval: Duration = .milliseconds(250)

  public init(appID: String, apiKey: String, endpoint: HTTPEndpoint) {
    self.appID = appID
    self.apiKey = apiKey
    self.endpoint = endpoint
  }
}
