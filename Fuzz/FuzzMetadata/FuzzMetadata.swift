import FuzzSupport
import RPCCore

@testable import HTTP2Transport

/// Header values a client controls: grpc-timeout, percent-encoded grpc-message, base64 `-bin`
/// metadata, and the request head that gathers them field by field.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMetadata(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
  var input = FuzzInput(data, count)
  let selector = input.byte()
  let bytes = input.rest()
  let text = String(decoding: bytes, as: UTF8.self)
  switch selector % 4 {
  case 0:
    if let duration = GRPCTimeout.parse(text) {
      precondition(duration >= .zero, "a negative grpc-timeout")
      // Every parsed timeout formats back to something that parses, never shorter.
      let again = GRPCTimeout.parse(GRPCTimeout.format(duration))
      precondition(again != nil && again! >= duration, "grpc-timeout does not round-trip")
    }
  case 1:
    let decoded = PercentEncoding.decode(text)
    precondition(PercentEncoding.decode(PercentEncoding.encode(decoded)) == decoded)
    precondition(PercentEncoding.decode(PercentEncoding.encode(text)) == text)
  case 2:
    if let decoded = Base64.decode(text) {
      precondition(Base64.decode(Base64.encode(decoded)) == decoded, "base64 does not round-trip")
    }
    precondition(Base64.decode(Base64.encode(bytes)) == bytes)
  default:
    // Fields separated by 0: name, value, name, value...
    var head = RequestHead()
    let fields = bytes.split(separator: 0, omittingEmptySubsequences: false)
    var index = 0
    while index + 1 < fields.count {
      Array(fields[index]).withUnsafeBytes { name in
        Array(fields[index + 1]).withUnsafeBytes { value in head.add(name: name, value: value) }
      }
      index += 2
    }
    if let timeout = head.timeout { _ = GRPCTimeout.parse(timeout) }
  }
  return 0
}

/// The entry point SwiftPM binds `main` to.
@_cdecl("FuzzMetadata_main")
public func main(
  _ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
  runFuzzer(argc, argv, fuzzMetadata)
}
