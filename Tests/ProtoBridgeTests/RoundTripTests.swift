import ProtoBridge
import Testing

/// Encode -> decode of every kind of field through protobuf-c.
@Suite struct RoundTripTests {
  private func roundTrip<M: ProtoMessage>(_ message: M) throws -> M {
    try M(wireBytes: message.wireBytes())
  }

  @Test func scalarsOfEveryTypeIncludingExtremes() throws {
    let message = Bridgetest_V1_Scalars.with {
      $0.int32Value = -123_456
      $0.int64Value = .min
      $0.uint32Value = .max
      $0.uint64Value = .max
      $0.sint32Value = -1
      $0.sint64Value = .min
      $0.fixed32Value = 0xDEAD_BEEF
      $0.fixed64Value = 0x0123_4567_89AB_CDEF
      $0.sfixed32Value = .min
      $0.sfixed64Value = -42
      $0.floatValue = -1.5
      $0.doubleValue = .pi
      $0.boolValue = true
      $0.stringValue = "héllo wörld ✓ 你好 🎉"
      $0.bytesValue = [0, 1, 0, 255, 0]
      $0.color = .darkBlue
    }
    let decoded = try roundTrip(message)
    #expect(decoded == message)
    #expect(decoded.stringValue == "héllo wörld ✓ 你好 🎉")
    #expect(decoded.bytesValue == [0, 1, 0, 255, 0])
  }

  @Test func defaultMessageEncodesToNothing() throws {
    #expect(Bridgetest_V1_Scalars().wireBytes().isEmpty)
    #expect(try Bridgetest_V1_Scalars(wireBytes: []) == Bridgetest_V1_Scalars())
  }

  @Test func repeatedFieldsOfEveryShape() throws {
    let message = Bridgetest_V1_Repeated.with {
      $0.ints = [1, -2, 3, .max, .min]
      $0.zigzags = [-1, 0, 1, .min]
      $0.doubles = [0.5, -0.25]
      $0.flags = [true, false, true]
      $0.names = ["a", "", "ünï"]
      $0.blobs = [[], [0], [1, 0, 2]]
      $0.colors = [.red, .unspecified, .unrecognized(99)]
      $0.items = [
        .with { $0.int32Value = 1 }, Bridgetest_V1_Scalars(), .with { $0.stringValue = "x" },
      ]
    }
    #expect(try roundTrip(message) == message)
  }

  @Test(arguments: [
    Bridgetest_V1_Composite.Choice.text("hello"), .text(""), .number(-7), .number(0),
    .nested(
      .with {
        $0.label = "in"; $0.mode = .fast
      }), .nested(.init()), .raw([0, 0]), .raw([]),
    .tint(.red), .tint(.unspecified),
  ])
  func oneofCasesSurviveEvenAtDefaultValues(_ choice: Bridgetest_V1_Composite.Choice) throws {
    let message = Bridgetest_V1_Composite.with { $0.choice = choice }
    #expect(try roundTrip(message).choice == choice)
  }

  @Test func proto3OptionalSetToDefaultDiffersFromUnset() throws {
    let unset = Bridgetest_V1_Composite()
    let zero = Bridgetest_V1_Composite.with {
      $0.maybeCount = 0
      $0.maybeName = ""
      $0.maybeInner = .init()
    }
    #expect(unset.wireBytes().isEmpty)
    #expect(!zero.wireBytes().isEmpty)
    let decoded = try roundTrip(zero)
    #expect(decoded.maybeCount == 0)
    #expect(decoded.maybeName == "")
    #expect(decoded.maybeInner == .init())
    let decodedUnset = try roundTrip(unset)
    #expect(decodedUnset.maybeCount == nil && decodedUnset.maybeName == nil)
    #expect(decodedUnset.maybeInner == nil)
  }

  @Test func mapsOfEveryShape() throws {
    let message = Bridgetest_V1_Composite.with {
      $0.counts = ["b": 2, "a": -1, "": 0]
      $0.byId = [7: .with { $0.label = "seven" }, -1: .init()]
      $0.byFlag = [true: "yes", false: "no"]
      $0.colors = ["r": .red, "u": .unrecognized(1234)]
    }
    #expect(try roundTrip(message) == message)
  }

  @Test func mapsEncodeDeterministically() {
    var first = Bridgetest_V1_Composite()
    var second = Bridgetest_V1_Composite()
    for key in (0..<50).map({ "k\($0)" }) { first.counts[key] = 1 }
    for key in (0..<50).map({ "k\($0)" }).reversed() { second.counts[key] = 1 }
    #expect(first.wireBytes() == second.wireBytes())
  }

  @Test func nestedMessagesAndKeywordNamedFields() throws {
    let message = Bridgetest_V1_Composite.with {
      $0.inner = .with {
        $0.label = "x"; $0.mode = .unrecognized(-5)
      }
      $0.default = "d"
      $0.for = 3
      $0.`self` = true
    }
    let decoded = try roundTrip(message)
    #expect(decoded == message)
    #expect(decoded.inner?.mode == .unrecognized(-5))
  }

  @Test func recursiveMessagesThroughBoxes() throws {
    let leaf = Bridgetest_V1_Node.with { $0.name = "leaf" }
    var node = leaf
    for depth in 0..<20 {
      let child = node
      node = .with {
        $0.name = "level \(depth)"
        $0.child = child
        $0.children = [leaf, .init()]
        $0.link = depth.isMultiple(of: 2) ? .next(leaf) : .end("end")
      }
    }
    let decoded = try roundTrip(node)
    #expect(decoded == node)
    #expect(decoded.child?.child?.name == "level 17")
    var copy = decoded
    copy.child?.name = "changed"
    #expect(copy.child?.name == "changed")
    #expect(decoded.child?.name == "level 18")
  }

  @Test func largeMessagesSpanSeveralArenaBlocks() throws {
    let message = Bridgetest_V1_Repeated.with {
      $0.names = (0..<2_000).map { "name number \($0)" }
      $0.items = (0..<500).map { index in .with { $0.stringValue = "item \(index)" } }
      $0.blobs = [[UInt8](repeating: 7, count: 100_000)]
    }
    #expect(try roundTrip(message) == message)
  }
}
