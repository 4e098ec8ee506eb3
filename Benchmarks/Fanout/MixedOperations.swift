import ArgumentParser

/// What a user of the mixed chat day does between two pauses. The raw values name the
/// operations in the mix option and in the result line.
enum MixedOperation: String, CaseIterable, Sendable {
  case getMessages = "get_messages"
  case listRooms = "list_rooms"
  case sendTyping = "send_typing"
  case sendMessage = "send_message"
  case markRead = "mark_read"
  /// Closes one of the user's streams and opens it again after the last seq it saw, as an app
  /// does after a network change; its latency is the time until the new stream is synced.
  case resubscribe
}

/// The weights the operations are picked by (docs/benchmarks.md gives the reasons).
struct OperationMix: Sendable, CustomStringConvertible {
  /// Reads are most of a chat app's traffic (opening a conversation loads its latest page,
  /// coming back to the list reloads it); typing is resent every few seconds while composing,
  /// so it outnumbers the messages it precedes; a message is read and marked read by most of
  /// its readers; reconnects are rare.
  static let standard = OperationMix(weights: [
    (.getMessages, 40), (.listRooms, 20), (.sendTyping, 20), (.sendMessage, 10),
    (.markRead, 8), (.resubscribe, 2),
  ])

  let weights: [(operation: MixedOperation, weight: Int)]
  private let total: Int

  init(weights: [(operation: MixedOperation, weight: Int)]) {
    self.weights = weights
    total = weights.reduce(0) { $0 + $1.weight }
  }

  /// `name=weight,name=weight,...`; operations left out are never picked.
  init(parsing text: String) throws {
    var weights: [(operation: MixedOperation, weight: Int)] = []
    for part in text.split(separator: ",") {
      let pair = part.split(separator: "=")
      guard pair.count == 2, let operation = MixedOperation(rawValue: String(pair[0])),
        let weight = Int(pair[1]), weight >= 0
      else {
        let names = MixedOperation.allCases.map(\.rawValue).joined(separator: ", ")
        throw ValidationError("--mix takes name=weight pairs of \(names); not \"\(part)\"")
      }
      weights.append((operation, weight))
    }
    guard weights.contains(where: { $0.weight > 0 }) else {
      throw ValidationError("--mix needs a positive weight")
    }
    self.init(weights: weights)
  }

  func pick(using random: inout some RandomNumberGenerator) -> MixedOperation {
    var draw = Int.random(in: 0..<total, using: &random)
    for (operation, weight) in weights {
      if draw < weight { return operation }
      draw -= weight
    }
    return weights[weights.count - 1].operation
  }

  var description: String {
    weights.map { "\($0.operation.rawValue)=\($0.weight)" }.joined(separator: ",")
  }
}
