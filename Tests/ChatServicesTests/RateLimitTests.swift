import RPCCore
import Testing

@testable import ChatServices

@Suite struct RateLimitTests {
  let rate = RateLimitConfiguration.Rate(perSecond: 2, burst: 3)

  @Test func bucketAllowsTheBurstThenRefills() {
    let start = ContinuousClock.now
    var bucket = TokenBucket(rate: rate, now: start)
    for _ in 0..<3 { #expect(bucket.take(rate: rate, now: start) == nil) }
    let wait = bucket.take(rate: rate, now: start)
    #expect(wait == .milliseconds(500))
    #expect(bucket.take(rate: rate, now: start + .milliseconds(499)) != nil)
    #expect(bucket.take(rate: rate, now: start + .milliseconds(1000)) == nil)
    // Idle time refills no further than the burst.
    let later = start + .seconds(60)
    for _ in 0..<3 { #expect(bucket.take(rate: rate, now: later) == nil) }
    #expect(bucket.take(rate: rate, now: later) != nil)
  }

  @Test func limiterKeepsUsersAndClassesApart() {
    let limiter = RateLimiter(
      configuration: RateLimitConfiguration(rates: [.send: Rate(perSecond: 1, burst: 1)]))
    let now = ContinuousClock.now
    #expect(limiter.take(user: "a", rpcClass: .send, now: now) == nil)
    #expect(limiter.take(user: "a", rpcClass: .send, now: now) != nil)
    #expect(limiter.take(user: "b", rpcClass: .send, now: now) == nil)
    #expect(limiter.take(user: "a", rpcClass: .other, now: now) == nil)
  }

  @Test func specsParse() throws {
    var configuration = RateLimitConfiguration.defaults
    try configuration.apply("send=10/20")
    #expect(configuration.rates[.send] == Rate(perSecond: 10, burst: 20))
    #expect(configuration.rates[.typing] == RateLimitConfiguration.defaults.rates[.typing])
    for bad in ["send", "send=10", "chat=1/2", "send=0/5", "send=1/0", "send=x/y"] {
      #expect(throws: RateLimitSpecError.self) { try configuration.apply(bad) }
    }
    try configuration.apply("off")
    #expect(configuration.rates.isEmpty)
  }

  @Test func methodsFallIntoClasses() {
    let send = MethodDescriptor(service: "chat.v1.ChatService", method: "SendMessage", kind: .unary)
    let follow = MethodDescriptor(
      service: "social.v1.FollowService", method: "Unfollow", kind: .unary)
    let other = MethodDescriptor(service: "chat.v1.ChatService", method: "GetRoom", kind: .unary)
    #expect(RateLimitInterceptor.rpcClass(of: send) == .send)
    #expect(RateLimitInterceptor.rpcClass(of: follow) == .follow)
    #expect(RateLimitInterceptor.rpcClass(of: other) == .other)
  }
}

typealias Rate = RateLimitConfiguration.Rate
