/// The serial executor a group of streams lives on (in the HTTP/2 transport, an event loop).
/// Fan-out runs one job per lane for an event and writes it to every stream of the lane from
/// there, instead of waking one task per stream.
public protocol WriteLane: AnyObject, Sendable {
  /// Runs `work` on the lane, after the work already queued there.
  func execute(_ work: @escaping @Sendable () -> Void)
}

/// Streams of a lane whose writes go out together: in the HTTP/2 transport, a connection.
/// A fan-out job writes an event to one batch's streams after another and flushes each batch
/// when its streams have the event, so the first connections' bytes leave while the job
/// writes to the rest, and each connection is written once per event.
public protocol WriteBatch: AnyObject, Sendable {
  /// Sends what the batch's streams have queued, if a send is pending; on the lane only.
  func flushBatch()
}

/// What became of a message written without suspending.
public enum DirectWriteResult: Sendable, Equatable {
  /// Queued for sending.
  case written
  /// Not written: the stream's queue is past its high-water mark; write with `write(_:)`,
  /// which waits for it to drain.
  case backedUp
  /// Not written: the call has ended.
  case ended
}

/// A message sink that can also take a message synchronously, on its lane.
public protocol DirectMessageSink: MessageSink {
  var lane: any WriteLane { get }
  /// The streams this one's writes go out with (its connection).
  var batch: any WriteBatch { get }
  /// Queues a message unless the stream is backed up or ended.
  ///
  /// - Important: call it on `lane` only.
  func writeDirectly(_ bytes: [UInt8]) -> DirectWriteResult
}

/// The synchronous side of an `RPCWriter`, for fan-out jobs running on the stream's lane.
public struct DirectWriter<Message: WireMessage>: Sendable {
  private let sink: any DirectMessageSink

  init(_ sink: any DirectMessageSink) { self.sink = sink }

  public var lane: any WriteLane { sink.lane }
  public var batch: any WriteBatch { sink.batch }

  /// Queues a message encoded once for many writers; on `lane` only.
  ///
  /// - Important: the bytes must encode a `Message`.
  public func write(encoded: EncodedMessage) -> DirectWriteResult {
    sink.writeDirectly(encoded.bytes)
  }
}

extension RPCWriter {
  /// The stream's synchronous writer, when its transport has one (the server's streams do).
  public var direct: DirectWriter<Message>? {
    (sink as? any DirectMessageSink).map(DirectWriter.init)
  }
}
