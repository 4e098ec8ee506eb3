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

  /// Bare when the value is plain ASCII; otherwise quoted, with every character that could
  /// end the line or the value escaped: a value taken from a request or a peer can never
  /// forge a line (CR and the Unicode line separators included) or hide in terminal escapes.
  private static func quote(_ value: String) -> String {
    let plain =
      !value.isEmpty
      && value.unicodeScalars.allSatisfy {
        $0.value > 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "="
      }
    if plain { return value }
    var escaped = "\""
    for scalar in value.unicodeScalars {
      switch scalar {
      case "\\": escaped += "\\\\"
      case "\"": escaped += "\\\""
      case "\n": escaped += "\\n"
      case "\r": escaped += "\\r"
      case "\t": escaped += "\\t"
      default:
        switch scalar.properties.generalCategory {
        case .control, .lineSeparator, .paragraphSeparator, .format:  // .format: bidi overrides
          escaped += "\\u{\(String(scalar.value, radix: 16))}"
        default:
          escaped.unicodeScalars.append(scalar)
        }
      }
    }
    return escaped + "\""
  }
}
