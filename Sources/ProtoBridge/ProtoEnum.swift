/// A generated protobuf enum: every Int32 is representable, unknown values as
/// `unrecognized(_:)`, so they survive a decode -> encode round trip.
public protocol ProtoEnum: RawRepresentable, CaseIterable, Hashable, Sendable
where RawValue == Int32 {
  init(rawValue: Int32)
}
