import datetime

from chatd_client.chat.v1 import message_pb2 as _message_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from chatd_client.social.v1 import user_pb2 as _user_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RoomKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROOM_KIND_UNSPECIFIED: _ClassVar[RoomKind]
    ROOM_KIND_DIRECT: _ClassVar[RoomKind]
    ROOM_KIND_GROUP: _ClassVar[RoomKind]

class MemberRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MEMBER_ROLE_UNSPECIFIED: _ClassVar[MemberRole]
    MEMBER_ROLE_OWNER: _ClassVar[MemberRole]
    MEMBER_ROLE_ADMIN: _ClassVar[MemberRole]
    MEMBER_ROLE_MEMBER: _ClassVar[MemberRole]
ROOM_KIND_UNSPECIFIED: RoomKind
ROOM_KIND_DIRECT: RoomKind
ROOM_KIND_GROUP: RoomKind
MEMBER_ROLE_UNSPECIFIED: MemberRole
MEMBER_ROLE_OWNER: MemberRole
MEMBER_ROLE_ADMIN: MemberRole
MEMBER_ROLE_MEMBER: MemberRole

class Room(_message.Message):
    __slots__ = ("id", "kind", "title", "members", "last_seq", "created_at", "last_activity_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_ACTIVITY_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: RoomKind
    title: str
    members: _containers.RepeatedCompositeFieldContainer[Member]
    last_seq: int
    created_at: _timestamp_pb2.Timestamp
    last_activity_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[_Union[RoomKind, str]] = ..., title: _Optional[str] = ..., members: _Optional[_Iterable[_Union[Member, _Mapping]]] = ..., last_seq: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_activity_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Member(_message.Message):
    __slots__ = ("user", "role", "last_read_seq", "last_delivered_seq", "joined_at", "muted", "online", "last_seen_at")
    USER_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    LAST_READ_SEQ_FIELD_NUMBER: _ClassVar[int]
    LAST_DELIVERED_SEQ_FIELD_NUMBER: _ClassVar[int]
    JOINED_AT_FIELD_NUMBER: _ClassVar[int]
    MUTED_FIELD_NUMBER: _ClassVar[int]
    ONLINE_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_AT_FIELD_NUMBER: _ClassVar[int]
    user: _user_pb2.UserProfile
    role: MemberRole
    last_read_seq: int
    last_delivered_seq: int
    joined_at: _timestamp_pb2.Timestamp
    muted: bool
    online: bool
    last_seen_at: _timestamp_pb2.Timestamp
    def __init__(self, user: _Optional[_Union[_user_pb2.UserProfile, _Mapping]] = ..., role: _Optional[_Union[MemberRole, str]] = ..., last_read_seq: _Optional[int] = ..., last_delivered_seq: _Optional[int] = ..., joined_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., muted: _Optional[bool] = ..., online: _Optional[bool] = ..., last_seen_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RoomSummary(_message.Message):
    __slots__ = ("room", "last_message", "unread_count")
    ROOM_FIELD_NUMBER: _ClassVar[int]
    LAST_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    UNREAD_COUNT_FIELD_NUMBER: _ClassVar[int]
    room: Room
    last_message: _message_pb2.Message
    unread_count: int
    def __init__(self, room: _Optional[_Union[Room, _Mapping]] = ..., last_message: _Optional[_Union[_message_pb2.Message, _Mapping]] = ..., unread_count: _Optional[int] = ...) -> None: ...
