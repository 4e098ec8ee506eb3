internal import CZlib

/// The zlib door: gzip for `grpc-encoding: gzip` messages, one message at a time.
enum Gzip {
  enum Failure: Error {
    case invalid
    /// The decompressed message would exceed the limit: a zip bomb or an oversized message.
    case tooLarge
  }

  static func compress(_ input: [UInt8]) -> [UInt8] {
    var stream = z_stream()
    precondition(
      czlib_deflate_init_gzip(&stream, Z_DEFAULT_COMPRESSION) == Z_OK, "zlib: deflateInit")
    defer { deflateEnd(&stream) }
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))))
    let produced = input.withUnsafeBufferPointer { source in
      output.withUnsafeMutableBufferPointer { target in
        stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
        stream.avail_in = UInt32(source.count)
        stream.next_out = target.baseAddress
        stream.avail_out = UInt32(target.count)
        let result = deflate(&stream, Z_FINISH)
        precondition(result == Z_STREAM_END, "zlib: deflateBound was too small")
        return target.count - Int(stream.avail_out)
      }
    }
    output.removeLast(output.count - produced)
    return output
  }

  /// Decompresses, refusing output past `limit` bytes before allocating it.
  static func decompress(_ input: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
    var stream = z_stream()
    guard czlib_inflate_init_gzip(&stream) == Z_OK else { throw .invalid }
    defer { inflateEnd(&stream) }
    var output: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16_384)
    var result: Int32 = Z_OK
    input.withUnsafeBufferPointer { source in
      stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
      stream.avail_in = UInt32(source.count)
      repeat {
        chunk.withUnsafeMutableBufferPointer { target in
          stream.next_out = target.baseAddress
          stream.avail_out = UInt32(target.count)
          result = inflate(&stream, Z_NO_FLUSH)
          output.append(contentsOf: target.prefix(target.count - Int(stream.avail_out)))
        }
      } while result == Z_OK && output.count <= limit
        && (stream.avail_in > 0 || stream.avail_out == 0)
    }
    if output.count > limit { throw .tooLarge }
    guard result == Z_STREAM_END else { throw .invalid }
    return output
  }
}
