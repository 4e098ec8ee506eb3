internal import CNGHTTP2

/// Header fields to submit, in order. Names are lower case.
struct HeaderList: ExpressibleByArrayLiteral {
  private(set) var fields: [(name: String, value: String)]

  init(arrayLiteral elements: (String, String)...) {
    fields = elements.map { (name: $0.0, value: $0.1) }
  }

  mutating func append(_ name: String, _ value: String) {
    fields.append((name, value))
  }

  /// Lays the fields out as `nghttp2_nv`s over one pinned buffer; nghttp2 copies them.
  func withNameValues<Result>(
    _ body: (UnsafePointer<nghttp2_nv>, Int) -> Result
  ) -> Result {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count })
    for field in fields {
      bytes.append(contentsOf: field.name.utf8)
      bytes.append(contentsOf: field.value.utf8)
    }
    return bytes.withUnsafeMutableBufferPointer { storage in
      var offset = 0
      var nva: [nghttp2_nv] = []
      nva.reserveCapacity(fields.count)
      for field in fields {
        let nameLength = field.name.utf8.count
        let valueLength = field.value.utf8.count
        nva.append(
          nghttp2_nv(
            name: storage.baseAddress! + offset, value: storage.baseAddress! + offset + nameLength,
            namelen: nameLength, valuelen: valueLength, flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
        )
        offset += nameLength + valueLength
      }
      return nva.withUnsafeBufferPointer { body($0.baseAddress!, $0.count) }
    }
  }
}
