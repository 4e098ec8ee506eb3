import datetime

from chatd_client.chat.v1 import message_pb2 as _message_pb2
from chatd_client.chat.v1 import room_pb2 as _room_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from chatd_client.social.v1 import notification_pb2 as _notification_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RoomEvent(_message.Message):
    __slots__ = ("seq", "room_id", "at", "cursor", "message_created", "message_updated", "message_deleted", "reaction_changed", "typing", "read", "delivered", "member_joined", "member_left", "room_updated", "heartbeat", "synced")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_CREATED_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_UPDATED_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_DELETED_FIELD_NUMBER: _ClassVar[int]
    REACTION_CHANGED_FIELD_NUMBER: _ClassVar[int]
    TYPING_FIELD_NUMBER: _ClassVar[int]
    READ_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_FIELD_NUMBER: _ClassVar[int]
    MEMBER_JOINED_FIELD_NUMBER: _ClassVar[int]
    MEMBER_LEFT_FIELD_NUMBER: _ClassVar[int]
    ROOM_UPDATED_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    SYNCED_FIELD_NUMBER: _ClassVar[int]
    seq: int
    room_id: str
    at: _timestamp_pb2.Timestamp
    cursor: str
    message_created: _message_pb2.Message
    message_updated: _message_pb2.Message
    message_deleted: _message_pb2.Message
    reaction_changed: _message_pb2.Message
    typing: Typing
    read: ReadReceipt
    delivered: DeliveryReceipt
    member_joined: MemberChange
    member_left: MemberChange
    room_updated: _room_pb2.Room
    heartbeat: Heartbeat
    synced: Synced
    def __init__(self, seq: _Optional[int] = ..., room_id: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cursor: _Optional[str] = ..., message_created: _Optional[_Union[_message_pb2.Message, _Mapping]] = ..., message_updated: _Optional[_Union[_message_pb2.Message, _Mapping]] = ..., message_deleted: _Optional[_Union[_message_pb2.Message, _Mapping]] = ..., reaction_changed: _Optional[_Union[_message_pb2.Message, _Mapping]] = ..., typing: _Optional[_Union[Typing, _Mapping]] = ..., read: _Optional[_Union[ReadReceipt, _Mapping]] = ..., delivered: _Optional[_Union[DeliveryReceipt, _Mapping]] = ..., member_joined: _Optional[_Union[MemberChange, _Mapping]] = ..., member_left: _Optional[_Union[MemberChange, _Mapping]] = ..., room_updated: _Optional[_Union[_room_pb2.Room, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., synced: _Optional[_Union[Synced, _Mapping]] = ...) -> None: ...

class Typing(_message.Message):
    __slots__ = ("user_id", "typing", "expires_at")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TYPING_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    typing: bool
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, user_id: _Optional[str] = ..., typing: _Optional[bool] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReadReceipt(_message.Message):
    __slots__ = ("user_id", "last_read_seq")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_READ_SEQ_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    last_read_seq: int
    def __init__(self, user_id: _Optional[str] = ..., last_read_seq: _Optional[int] = ...) -> None: ...

class DeliveryReceipt(_message.Message):
    __slots__ = ("user_id", "last_delivered_seq")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_DELIVERED_SEQ_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    last_delivered_seq: int
    def __init__(self, user_id: _Optional[str] = ..., last_delivered_seq: _Optional[int] = ...) -> None: ...

class MemberChange(_message.Message):
    __slots__ = ("user_id", "member", "actor_user_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    ACTOR_USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    member: _room_pb2.Member
    actor_user_id: str
    def __init__(self, user_id: _Optional[str] = ..., member: _Optional[_Union[_room_pb2.Member, _Mapping]] = ..., actor_user_id: _Optional[str] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Synced(_message.Message):
    __slots__ = ("last_seq",)
    LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    last_seq: int
    def __init__(self, last_seq: _Optional[int] = ...) -> None: ...

class UserEvent(_message.Message):
    __slots__ = ("seq", "at", "notification", "room_activity", "room_added", "room_removed", "heartbeat", "synced")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATION_FIELD_NUMBER: _ClassVar[int]
    ROOM_ACTIVITY_FIELD_NUMBER: _ClassVar[int]
    ROOM_ADDED_FIELD_NUMBER: _ClassVar[int]
    ROOM_REMOVED_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    SYNCED_FIELD_NUMBER: _ClassVar[int]
    seq: int
    at: _timestamp_pb2.Timestamp
    notification: _notification_pb2.Notification
    room_activity: RoomActivity
    room_added: _room_pb2.RoomSummary
    room_removed: str
    heartbeat: Heartbeat
    synced: Synced
    def __init__(self, seq: _Optional[int] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., notification: _Optional[_Union[_notification_pb2.Notification, _Mapping]] = ..., room_activity: _Optional[_Union[RoomActivity, _Mapping]] = ..., room_added: _Optional[_Union[_room_pb2.RoomSummary, _Mapping]] = ..., room_removed: _Optional[str] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., synced: _Optional[_Union[Synced, _Mapping]] = ...) -> None: ...

class RoomActivity(_message.Message):
    __slots__ = ("room_id", "message", "unread_count")
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    UNREAD_COUNT_FIELD_NUMBER: _ClassVar[int]
    room_id: str
    message: _message_pb2.Message
    unread_count: int
    def __init__(self, room_id: _Optional[str] = ..., message: _Optional[_Union[_message_pb2.Message, _Mapping]] = ..., unread_count: _Optional[int] = ...) -> None: ...
