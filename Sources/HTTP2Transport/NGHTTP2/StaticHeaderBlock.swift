internal import CNGHTTP2

/// A header block built once and never freed, handed to nghttp2 without copies
/// (`NGHTTP2_NV_FLAG_NO_COPY_*`): the common response headers and the OK trailers.
final class StaticHeaderBlock: @unchecked Sendable {
  let nameValues: UnsafeMutableBufferPointer<nghttp2_nv>

  init(_ fields: [(String, String)]) {
    nameValues = .allocate(capacity: fields.count)
    let flags = UInt8(
      NGHTTP2_NV_FLAG_NO_COPY_NAME.rawValue | NGHTTP2_NV_FLAG_NO_COPY_VALUE.rawValue)
    for (index, (name, value)) in fields.enumerated() {
      nameValues[index] = nghttp2_nv(
        name: Self.permanent(name), value: Self.permanent(value), namelen: name.utf8.count,
        valuelen: value.utf8.count, flags: flags)
    }
  }

  /// The block lives as long as the process: nothing frees what nghttp2 may still reference.
  private static func permanent(_ text: String) -> UnsafeMutablePointer<UInt8> {
    let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, text.utf8.count))
    _ = UnsafeMutableBufferPointer(start: bytes, count: text.utf8.count).initialize(from: text.utf8)
    return bytes
  }

  static let okResponseHeaders = StaticHeaderBlock([
    (":status", "200"), ("content-type", "application/grpc"),
    ("grpc-accept-encoding", ResponseHead.acceptEncoding),
  ])
  static let okTrailers = StaticHeaderBlock([("grpc-status", "0")])
}

/// Header fields to submit: built per call, or one of the static blocks.
enum HeaderBlock {
  case fields(HeaderList)
  case fixed(StaticHeaderBlock)

  func withNameValues<Result>(_ body: (UnsafePointer<nghttp2_nv>, Int) -> Result) -> Result {
    switch self {
    case .fields(let list): list.withNameValues(body)
    case .fixed(let block):
      body(UnsafePointer(block.nameValues.baseAddress!), block.nameValues.count)
    }
  }
}
