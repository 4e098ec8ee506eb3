import FuzzSupport

@testable import HTTP2Transport

/// The gRPC message deframer and gzip decompression, as a stream's DATA reaches them: bytes
/// split in arbitrary chunks, a small receive limit so the size checks are reached.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDeframer(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
  var input = FuzzInput(data, count)
  let limit = Int(input.byte()) * 64
  var deframer = MessageDeframer(maxMessageSize: limit)
  var delivered = 0
  for chunk in input.chunks() {
    do {
      try chunk.withUnsafeBytes { bytes in
        try deframer.process(bytes) { message in
          precondition(message.bytes.count <= limit, "a message past the limit was delivered")
          delivered += 5 + message.bytes.count
          if message.compressed {
            if let plain = try? Gzip.decompress(message.bytes, limit: limit) {
              precondition(plain.count <= limit, "decompression passed the limit")
            }
          }
        }
      }
    } catch {
      return 0  // The stream fails; the deframer is not used again.
    }
  }
  precondition(deframer.pendingByteCount >= 0)
  return 0
}

/// The entry point SwiftPM binds `main` to.
@_cdecl("FuzzDeframer_main")
public func main(
  _ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
  runFuzzer(argc, argv, fuzzDeframer)
}
