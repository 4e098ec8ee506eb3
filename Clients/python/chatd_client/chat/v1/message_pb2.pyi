import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from chatd_client.social.v1 import user_pb2 as _user_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Message(_message.Message):
    __slots__ = ("id", "room_id", "seq", "sender_id", "sender", "client_msg_id", "body", "reply_to_message_id", "reply_to", "reactions", "created_at", "edited_at", "deleted_at", "deleted")
    ID_FIELD_NUMBER: _ClassVar[int]
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    SENDER_ID_FIELD_NUMBER: _ClassVar[int]
    SENDER_FIELD_NUMBER: _ClassVar[int]
    CLIENT_MSG_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_FIELD_NUMBER: _ClassVar[int]
    REACTIONS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EDITED_AT_FIELD_NUMBER: _ClassVar[int]
    DELETED_AT_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    id: str
    room_id: str
    seq: int
    sender_id: str
    sender: _user_pb2.UserProfile
    client_msg_id: str
    body: str
    reply_to_message_id: str
    reply_to: MessagePreview
    reactions: _containers.RepeatedCompositeFieldContainer[ReactionCount]
    created_at: _timestamp_pb2.Timestamp
    edited_at: _timestamp_pb2.Timestamp
    deleted_at: _timestamp_pb2.Timestamp
    deleted: bool
    def __init__(self, id: _Optional[str] = ..., room_id: _Optional[str] = ..., seq: _Optional[int] = ..., sender_id: _Optional[str] = ..., sender: _Optional[_Union[_user_pb2.UserProfile, _Mapping]] = ..., client_msg_id: _Optional[str] = ..., body: _Optional[str] = ..., reply_to_message_id: _Optional[str] = ..., reply_to: _Optional[_Union[MessagePreview, _Mapping]] = ..., reactions: _Optional[_Iterable[_Union[ReactionCount, _Mapping]]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., edited_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deleted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deleted: _Optional[bool] = ...) -> None: ...

class MessagePreview(_message.Message):
    __slots__ = ("id", "sender_id", "body", "deleted", "seq")
    ID_FIELD_NUMBER: _ClassVar[int]
    SENDER_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    id: str
    sender_id: str
    body: str
    deleted: bool
    seq: int
    def __init__(self, id: _Optional[str] = ..., sender_id: _Optional[str] = ..., body: _Optional[str] = ..., deleted: _Optional[bool] = ..., seq: _Optional[int] = ...) -> None: ...

class ReactionCount(_message.Message):
    __slots__ = ("emoji", "count", "reacted_by_me")
    EMOJI_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    REACTED_BY_ME_FIELD_NUMBER: _ClassVar[int]
    emoji: str
    count: int
    reacted_by_me: bool
    def __init__(self, emoji: _Optional[str] = ..., count: _Optional[int] = ..., reacted_by_me: _Optional[bool] = ...) -> None: ...
