/// What generated message types implement so that other generated types (possibly in
/// another module) can nest them: conversion from and to their protobuf-c struct.
///
/// The C struct travels as a raw pointer so that C types stay out of cross-module
/// signatures; each generated type knows its own C struct.
package protocol CBridgedMessage: ProtoMessage {
  /// Copies the unpacked C struct at `cStruct` into a Swift value.
  init(bridging cStruct: UnsafeRawPointer)
  /// Builds this message's C struct in `arena` and returns its address.
  func cStruct(in arena: inout Arena) -> UnsafeMutableRawPointer
}
