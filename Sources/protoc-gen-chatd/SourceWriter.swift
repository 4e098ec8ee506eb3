/// Accumulates generated Swift source with two-space indentation.
struct SourceWriter {
  private(set) var text = ""
  private var indentation = 0

  mutating func line(_ line: String = "") {
    if line.isEmpty {
      text += "\n"
    } else {
      text += String(repeating: "  ", count: indentation) + line + "\n"
    }
  }

  /// `header {`, the body one level deeper, then `}` (plus `trailer`, e.g. `()`).
  mutating func block(_ header: String, trailer: String = "", _ body: (inout SourceWriter) -> Void)
  {
    line(header + " {")
    indentation += 1
    body(&self)
    indentation -= 1
    line("}" + trailer)
  }

  /// `header` (which ends with an opening brace, e.g. `foo { x in`), the body, then `}`.
  mutating func closure(_ header: String, _ body: (inout SourceWriter) -> Void) {
    line(header)
    indentation += 1
    body(&self)
    indentation -= 1
    line("}")
  }

  /// `///` lines for a .proto comment, if there is one.
  mutating func docComment(_ comment: String?) {
    guard let comment else { return }
    var lines = comment.split(separator: "\n", omittingEmptySubsequences: false).map {
      String($0.reversed().drop(while: { $0 == " " || $0 == "\r" }).reversed())
    }
    while lines.last?.isEmpty == true { lines.removeLast() }
    while lines.first?.isEmpty == true { lines.removeFirst() }
    for commentLine in lines {
      line(
        commentLine.isEmpty ? "///" : "///" + (commentLine.hasPrefix(" ") ? "" : " ") + commentLine)
    }
  }
}
