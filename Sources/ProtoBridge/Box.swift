/// Copy-on-write indirect storage that lets a message contain itself through a singular
/// field (generated code stores such fields boxed).
public struct Box<Value: Hashable & Sendable>: Hashable, @unchecked Sendable {
  // @unchecked: storage is only mutated when uniquely referenced (copy on write).
  private final class Storage {
    var value: Value
    init(_ value: Value) { self.value = value }
  }

  private var storage: Storage

  public init(_ value: Value) {
    storage = Storage(value)
  }

  public var value: Value {
    get { storage.value }
    set {
      if isKnownUniquelyReferenced(&storage) {
        storage.value = newValue
      } else {
        storage = Storage(newValue)
      }
    }
  }

  public static func == (lhs: Box, rhs: Box) -> Bool {
    lhs.storage === rhs.storage || lhs.storage.value == rhs.storage.value
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(storage.value)
  }
}
