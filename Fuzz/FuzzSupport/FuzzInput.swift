import CFuzzerDriver

/// Reads a fuzzer's bytes front to back: small numbers steer the target (which type, how to
/// split), the rest is data. Running out yields zeros and empty slices, never a trap, so
/// every input is a valid program.
public struct FuzzInput {
  private let bytes: UnsafeRawBufferPointer
  private var offset = 0

  public init(_ data: UnsafePointer<UInt8>?, _ count: Int) {
    bytes = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : count)
  }

  public var isEmpty: Bool { offset >= bytes.count }

  public mutating func byte() -> UInt8 {
    guard offset < bytes.count else { return 0 }
    defer { offset += 1 }
    return bytes[offset]
  }

  /// Up to `count` bytes.
  public mutating func take(_ count: Int) -> [UInt8] {
    let end = min(bytes.count, offset + max(0, count))
    defer { offset = end }
    return Array(bytes[offset..<end])
  }

  /// Everything left.
  public mutating func rest() -> [UInt8] { take(bytes.count - offset) }

  /// The remaining bytes cut into chunks whose sizes come from the input itself, so the
  /// fuzzer explores every way data can be split across reads.
  public mutating func chunks() -> [[UInt8]] {
    var result: [[UInt8]] = []
    while !isEmpty {
      let size = Int(byte()) + 1
      result.append(take(size))
    }
    return result
  }
}

/// Hands the process to libFuzzer with `callback` as the target; returns its exit code.
public func runFuzzer(
  _ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
  _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32 {
  var argc = argc
  var argv = argv
  return LLVMFuzzerRunDriver(&argc, &argv, callback)
}
