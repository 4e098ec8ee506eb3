extension String {
  /// At most `limit` characters (grapheme clusters, so an emoji or a letter with its accents
  /// is never split), the last one an ellipsis when the text was cut.
  func preview(limit: Int) -> String {
    guard limit > 0, count > limit else { return self }
    return String(prefix(limit - 1)) + "…"
  }
}
