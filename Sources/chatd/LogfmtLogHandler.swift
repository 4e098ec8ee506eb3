import Foundation
import Logging

/// One logfmt line per event on stderr: `ts=... level=info msg="..." key=value`.
struct LogfmtLogHandler: LogHandler {
  let label: String
  var logLevel: Logger.Level
  var metadata: Logger.Metadata = [:]

  init(label: String, level: Logger.Level) {
    self.label = label
    self.logLevel = level
  }

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  func log(event: LogEvent) {
    var line =
      "ts=\(Date().ISO8601Format(.iso8601.time(includingFractionalSeconds: true).year().month().day())) level=\(event.level) msg=\(Self.quote(event.message.description))"
    let merged = metadata.merging(event.metadata ?? [:]) { $1 }
    for key in merged.keys.sorted() {
      line += " \(key)=\(Self.quote(merged[key]!.description))"
    }
    line += "\n"
    FileHandle.standardError.write(Data(line.utf8))
  }

  private static func quote(_ value: String) -> String {
    let plain =
      !value.isEmpty
      && value.allSatisfy { $0.isASCII && !$0.isWhitespace && $0 != "\"" && $0 != "=" }
    if plain { return value }
    let escaped = value.replacingOccurrences(of: "\\", with: "\\\\")
      .replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    return "\"\(escaped)\""
  }
}
