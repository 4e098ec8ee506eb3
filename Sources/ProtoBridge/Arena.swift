#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A bump allocator for the C structs of one outgoing message.
///
/// Encoding builds a protobuf-c struct tree whose strings, bytes, arrays and submessages all
/// point into an arena; everything is released at once when the arena dies, right after
/// `pack` returned. Small messages fit in a stack buffer and allocate nothing; larger ones
/// chain `malloc`ed blocks.
///
/// - Important: pointers handed out are valid only inside `Arena.with { }`.
package struct Arena: ~Copyable {
  private var cursor: UnsafeMutableRawPointer
  private var end: UnsafeMutableRawPointer
  /// Head of the chain of malloc'd blocks; each block starts with the pointer to the next.
  private var blocks: UnsafeMutableRawPointer?
  private var nextBlockSize: Int

  private static let stackBytes = 1024
  private static let headerBytes = 16

  private init(stackBuffer: UnsafeMutableRawBufferPointer) {
    cursor = stackBuffer.baseAddress!
    end = cursor + stackBuffer.count
    blocks = nil
    nextBlockSize = 4096
  }

  deinit {
    var block = blocks
    while let current = block {
      block = current.load(as: UnsafeMutableRawPointer?.self)
      free(current)
    }
  }

  /// Runs `body` with a fresh arena and releases its memory when `body` returns.
  package static func with<Result>(_ body: (inout Arena) throws -> Result) rethrows -> Result {
    try withUnsafeTemporaryAllocation(byteCount: stackBytes, alignment: 16) { buffer in
      var arena = Arena(stackBuffer: buffer)
      return try body(&arena)
    }
  }

  /// Uninitialized memory for `count` values of `T`.
  package mutating func allocate<T>(_ type: T.Type, count: Int = 1) -> UnsafeMutablePointer<T> {
    let bytes = MemoryLayout<T>.stride * Swift.max(count, 1)
    return allocateBytes(bytes, alignment: MemoryLayout<T>.alignment).bindMemory(
      to: T.self, capacity: Swift.max(count, 1))
  }

  package mutating func allocateBytes(_ byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer {
    let aligned = cursor.alignedUp(toMultipleOf: alignment)
    if aligned + byteCount <= end {
      cursor = aligned + byteCount
      return aligned
    }
    let size = Swift.max(nextBlockSize, byteCount + alignment + Self.headerBytes)
    nextBlockSize = Swift.min(size * 2, 1 << 20)
    guard let block = malloc(size) else { fatalError("out of memory encoding a message") }
    block.storeBytes(of: blocks, as: UnsafeMutableRawPointer?.self)
    blocks = block
    let start = (block + Self.headerBytes).alignedUp(toMultipleOf: alignment)
    cursor = start + byteCount
    end = block + size
    return start
  }
}
