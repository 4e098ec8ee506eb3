import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from chatd_client.social.v1 import user_pb2 as _user_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NotificationKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NOTIFICATION_KIND_UNSPECIFIED: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_FOLLOWED: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_ADDED_TO_ROOM: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_REMOVED_FROM_ROOM: _ClassVar[NotificationKind]
NOTIFICATION_KIND_UNSPECIFIED: NotificationKind
NOTIFICATION_KIND_FOLLOWED: NotificationKind
NOTIFICATION_KIND_ADDED_TO_ROOM: NotificationKind
NOTIFICATION_KIND_REMOVED_FROM_ROOM: NotificationKind

class Notification(_message.Message):
    __slots__ = ("seq", "kind", "actor", "room_id", "deep_link", "created_at", "read")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    DEEP_LINK_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    READ_FIELD_NUMBER: _ClassVar[int]
    seq: int
    kind: NotificationKind
    actor: _user_pb2.UserProfile
    room_id: str
    deep_link: str
    created_at: _timestamp_pb2.Timestamp
    read: bool
    def __init__(self, seq: _Optional[int] = ..., kind: _Optional[_Union[NotificationKind, str]] = ..., actor: _Optional[_Union[_user_pb2.UserProfile, _Mapping]] = ..., room_id: _Optional[str] = ..., deep_link: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., read: _Optional[bool] = ...) -> None: ...
