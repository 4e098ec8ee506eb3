import ArgumentParser
import PushBridge

/// The `--onesignal-*` flags. The bridge is on when both the app id and the API key are set;
/// without them chatd writes no push rows and sends nothing.
struct PushOptions: ParsableArguments {
  @Option(
    help: "OneSignal app id; with --onesignal-api-key turns push on. Env: CHATD_ONESIGNAL_APP_ID.")
  var onesignalAppId: String? = env("ONESIGNAL_APP_ID")

  @Option(help: "OneSignal REST API key (never logged). Env: CHATD_ONESIGNAL_API_KEY.")
  var onesignalApiKey: String? = env("ONESIGNAL_API_KEY")

  @Option(help: "OneSignal API base URL, http or https. Env: CHATD_ONESIGNAL_API_URL.")
  var onesignalApiUrl: String = env("ONESIGNAL_API_URL") ?? "https://api.onesignal.com"

  @Option(
    help:
      "PEM CAs the API URL's certificate must chain to instead of the system's (private proxies, tests). Env: CHATD_ONESIGNAL_CA_FILE."
  )
  var onesignalCaFile: String? = env("ONESIGNAL_CA_FILE")

  @Option(
    help: "Authorization scheme: Key, or Basic for legacy keys. Env: CHATD_ONESIGNAL_AUTH_SCHEME.")
  var onesignalAuthScheme: String = env("ONESIGNAL_AUTH_SCHEME") ?? "Key"

  @Option(
    help:
      "Deep link of a message push ({room_id}, {message_id}). Env: CHATD_ONESIGNAL_ROOM_LINK.")
  var onesignalRoomLink: String = env("ONESIGNAL_ROOM_LINK") ?? "chatd://rooms/{room_id}"

  @Option(
    help: "Deep link of a follow push ({user_id}: the follower). Env: CHATD_ONESIGNAL_USER_LINK.")
  var onesignalUserLink: String = env("ONESIGNAL_USER_LINK") ?? "chatd://users/{user_id}"

  @Option(help: "ios_sound of every push (default: none sent). Env: CHATD_ONESIGNAL_IOS_SOUND.")
  var onesignalIosSound: String? = env("ONESIGNAL_IOS_SOUND")

  @Option(
    help:
      "android_channel_id (sound and vibration) of every push (default: none sent). Env: CHATD_ONESIGNAL_ANDROID_CHANNEL_ID."
  )
  var onesignalAndroidChannelId: String? = env("ONESIGNAL_ANDROID_CHANNEL_ID")

  @Option(help: "Seconds OneSignal keeps trying a device. Env: CHATD_ONESIGNAL_TTL.")
  var onesignalTtl: Int = env("ONESIGNAL_TTL").flatMap(Int.init) ?? 259_200

  @Option(help: "Push priority, 10 high or 5 normal. Env: CHATD_ONESIGNAL_PRIORITY.")
  var onesignalPriority: Int = env("ONESIGNAL_PRIORITY").flatMap(Int.init) ?? 10

  @Option(
    help:
      "Seconds a recipient online at send time has to receive the message before a push goes anyway. Env: CHATD_ONESIGNAL_GRACE_PERIOD."
  )
  var onesignalGracePeriod: Double = env("ONESIGNAL_GRACE_PERIOD").flatMap(Double.init) ?? 3

  @Option(help: "Attempts per push before it is given up. Env: CHATD_ONESIGNAL_MAX_ATTEMPTS.")
  var onesignalMaxAttempts: Int = env("ONESIGNAL_MAX_ATTEMPTS").flatMap(Int.init) ?? 10

  @Option(
    help:
      "Seconds before the first retry; doubles per attempt up to 300. Env: CHATD_ONESIGNAL_RETRY_DELAY."
  )
  var onesignalRetryDelay: Double = env("ONESIGNAL_RETRY_DELAY").flatMap(Double.init) ?? 1

  @Option(help: "Seconds one request may take. Env: CHATD_ONESIGNAL_TIMEOUT.")
  var onesignalTimeout: Double = env("ONESIGNAL_TIMEOUT").flatMap(Double.init) ?? 10

  @Option(help: "Requests in flight per instance. Env: CHATD_ONESIGNAL_CONCURRENCY.")
  var onesignalConcurrency: Int = env("ONESIGNAL_CONCURRENCY").flatMap(Int.init) ?? 8

  @Option(help: "Requests per second per instance. Env: CHATD_ONESIGNAL_RATE_LIMIT.")
  var onesignalRateLimit: Double = env("ONESIGNAL_RATE_LIMIT").flatMap(Double.init) ?? 150

  /// Nil when push is off; throws on values that make no sense.
  func configuration() throws -> PushConfiguration? {
    let appID = onesignalAppId.flatMap { $0.isEmpty ? nil : $0 }
    let apiKey = onesignalApiKey.flatMap { $0.isEmpty ? nil : $0 }
    guard let appID, let apiKey else {
      if appID != nil || apiKey != nil {
        throw ValidationError("--onesignal-app-id and --onesignal-api-key go together")
      }
      return nil
    }
    guard let endpoint = HTTPEndpoint(url: onesignalApiUrl) else {
      throw ValidationError(
        "--onesignal-api-url takes http(s)://HOST[:PORT][/PATH], not \"\(onesignalApiUrl)\"")
    }
    guard let scheme = PushConfiguration.AuthScheme(rawValue: onesignalAuthScheme) else {
      throw ValidationError(
        "--onesignal-auth-scheme takes Key or Basic, not \"\(onesignalAuthScheme)\"")
    }
    guard onesignalGracePeriod >= 0, onesignalRetryDelay > 0, onesignalTimeout > 0,
      onesignalMaxAttempts > 0, onesignalConcurrency > 0, onesignalRateLimit > 0,
      onesignalTtl >= 0
    else {
      throw ValidationError(
        "--onesignal-grace-period and --onesignal-ttl must not be negative; the other --onesignal-* numbers must be positive"
      )
    }
    var configuration = PushConfiguration(appID: appID, apiKey: apiKey, endpoint: endpoint)
    configuration.authScheme = scheme
    if let caFile = onesignalCaFile, !caFile.isEmpty { configuration.trustRoots = .file(caFile) }
    configuration.roomLinkTemplate = onesignalRoomLink
    configuration.userLinkTemplate = onesignalUserLink
    configuration.iosSound = onesignalIosSound.flatMap { $0.isEmpty ? nil : $0 }
    configuration.androidChannelID = onesignalAndroidChannelId.flatMap { $0.isEmpty ? nil : $0 }
    configuration.ttl = onesignalTtl
    configuration.priority = onesignalPriority
    configuration.gracePeriod = .milliseconds(Int64(onesignalGracePeriod * 1000))
    configuration.maxAttempts = onesignalMaxAttempts
    configuration.firstRetryDelay = .milliseconds(Int64(onesignalRetryDelay * 1000))
    configuration.requestTimeout = .milliseconds(Int64(onesignalTimeout * 1000))
    configuration.concurrency = onesignalConcurrency
    configuration.requestsPerSecond = onesignalRateLimit
    return configuration
  }
}
