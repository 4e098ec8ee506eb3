public import ChatProtos
import ChatStore
import EventFanout
import Foundation
public import RPCCore

/// SubscribeAllRooms: every room's persisted events for internal services, in commit-safe
/// order with a resumable cursor (docs/realtime.md explains the cursor). The stream polls the
/// store whenever the bus announces a room event, and at least every second (events become
/// readable only once every older transaction has ended).
extension ChatService {
  static let firehosePageSize = 500
  static let firehoseMaxRooms = 1000

  public func subscribeAllRooms(
    request: Chat_V1_SubscribeAllRoomsRequest, response: RPCWriter<Chat_V1_RoomEvent>,
    context: ServerContext
  ) async throws {
    let caller = try context.authenticatedCaller()
    guard caller.role == .service else {
      throw ServiceError.permissionDenied("SubscribeAllRooms is for the service role")
    }
    var validation = Validation()
    var cursor = FirehoseCursor.start
    if !request.cursor.isEmpty {
      if let parsed = FirehoseCursor(request.cursor) {
        cursor = parsed
      } else {
        validation.fail("cursor", "must be a RoomEvent.cursor of this server")
      }
    }
    for (index, id) in request.roomIds.enumerated() {
      validation.uuid(id, field: "room_ids[\(index)]")
    }
    if request.roomIds.count > Self.firehoseMaxRooms {
      validation.fail("room_ids", "at most \(Self.firehoseMaxRooms) rooms")
    }
    try validation.check()
    if request.cursor.isEmpty { cursor = try await store.events.firehoseNow() }
    let rooms = request.roomIds.map { $0.lowercased() }
    let encoder = RoomEventEncoder(store: store)
    let heartbeat = realtime.configuration.heartbeatInterval
    var synced = false
    var lastWrite = ContinuousClock.now

    try await realtime.streams.tracking(.firehose) {
      while true {
        let rings = realtime.roomEvents.rings
        let events = try await store.events.firehose(
          after: cursor, roomIDs: rooms, limit: Self.firehosePageSize)
        if !events.isEmpty {
          let page = try await store.events.details(of: events)
          for (event, _) in try await encoder.events(page) {
            try await response.write(event)
          }
          cursor = events.last?.cursor ?? cursor
          lastWrite = .now
          if events.count == Self.firehosePageSize { continue }
        }
        if !synced {
          synced = true
          try await response.write(Chat_V1_RoomEvent(roomID: "", .synced(Chat_V1_Synced(0))))
          lastWrite = .now
        } else if ContinuousClock.now - lastWrite >= heartbeat {
          try await response.write(Chat_V1_RoomEvent(roomID: "", .heartbeat(Chat_V1_Heartbeat())))
          lastWrite = .now
        }
        await realtime.roomEvents.wait(after: rings, timeout: min(.seconds(1), heartbeat))
        try Task.checkCancellation()
      }
    }
  }
}
