"""Editing, deleting, reactions, typing and search through grpcio."""

import uuid

import grpc
import pytest

from chatd_interop import protos
from chatd_interop.users import User, violations


def M(name, **fields):
    return protos.message(name)(**fields)


def error_of(call, request) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        call(request)
    return info.value


@pytest.fixture
def chat(channel):
    alice, bob, stranger = (User(channel, n) for n in ("Alice", "Bob", "Stranger"))
    for user in (alice, bob, stranger):
        user.me()
    room = alice.chat.StartChat(M("chat.v1.StartChatRequest", peer_user_id=bob.id))
    return alice, bob, stranger, room


def send(user, room, body):
    return user.chat.SendMessage(M("chat.v1.SendMessageRequest", room_id=room.id, body=body,
                                   client_msg_id=uuid.uuid4().hex))


def test_only_the_sender_edits(chat):
    alice, bob, stranger, room = chat
    message = send(alice, room, "helo")
    edited = alice.chat.EditMessage(M("chat.v1.EditMessageRequest", message_id=message.id,
                                      body="hello"))
    assert edited.body == "hello" and edited.HasField("edited_at") and edited.seq == message.seq
    error = error_of(bob.chat.EditMessage, M("chat.v1.EditMessageRequest",
                                             message_id=message.id, body="hacked"))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    error = error_of(stranger.chat.EditMessage, M("chat.v1.EditMessageRequest",
                                                  message_id=message.id, body="hacked"))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    error = error_of(alice.chat.EditMessage, M("chat.v1.EditMessageRequest",
                                               message_id=message.id, body=" "))
    assert violations(error) == [("body", "must not be empty")]


def test_delete_leaves_a_tombstone(chat):
    alice, bob, stranger, room = chat
    message = send(alice, room, "oops")
    error = error_of(bob.chat.DeleteMessage, M("chat.v1.DeleteMessageRequest",
                                               message_id=message.id))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    tombstone = alice.chat.DeleteMessage(M("chat.v1.DeleteMessageRequest",
                                           message_id=message.id))
    assert tombstone.deleted and tombstone.body == "" and tombstone.HasField("deleted_at")
    again = alice.chat.DeleteMessage(M("chat.v1.DeleteMessageRequest", message_id=message.id))
    assert again.deleted
    history = bob.chat.GetMessages(M("chat.v1.GetMessagesRequest", room_id=room.id))
    assert [(m.id, m.deleted, m.body) for m in history.messages] == [(message.id, True, "")]


def test_admins_may_delete_any_message(channel, chat):
    alice, bob, _, room = chat
    message = send(bob, room, "spam")
    admin = User(channel, "Moderator", role="admin")
    assert admin.chat.DeleteMessage(M("chat.v1.DeleteMessageRequest",
                                      message_id=message.id)).deleted


def test_reactions_aggregate(chat):
    alice, bob, stranger, room = chat
    message = send(alice, room, "party")
    react = lambda user, emoji, add=True: (user.chat.AddReaction if add
                                           else user.chat.RemoveReaction)(
        M("chat.v1.ReactionRequest", message_id=message.id, emoji=emoji))
    react(alice, "🎉")
    react(alice, "🎉")  # idempotent
    seen = react(bob, "🎉")
    assert [(r.emoji, r.count, r.reacted_by_me) for r in seen.reactions] == [("🎉", 2, True)]
    seen = react(bob, "👍🏽")
    assert {(r.emoji, r.count) for r in seen.reactions} == {("🎉", 2), ("👍🏽", 1)}
    after = react(alice, "🎉", add=False)
    assert {(r.emoji, r.count, r.reacted_by_me) for r in after.reactions} == {
        ("🎉", 1, False), ("👍🏽", 1, False)}
    for bad in ["", "ab", "🎉🎉", "1"]:
        error = error_of(alice.chat.AddReaction, M("chat.v1.ReactionRequest",
                                                   message_id=message.id, emoji=bad))
        assert violations(error) == [("emoji", "must be a single emoji")], bad
    error = error_of(stranger.chat.AddReaction, M("chat.v1.ReactionRequest",
                                                  message_id=message.id, emoji="🎉"))
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_typing_is_for_members(chat):
    alice, _, stranger, room = chat
    reply = alice.chat.SendTyping(M("chat.v1.SendTypingRequest", room_id=room.id, typing=True))
    assert reply.expires_at.seconds > 0
    error = error_of(stranger.chat.SendTyping, M("chat.v1.SendTypingRequest", room_id=room.id,
                                                 typing=True))
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_search_covers_the_callers_rooms_only(chat):
    alice, bob, stranger, room = chat
    send(alice, room, "the quick brown fox")
    send(bob, room, "a lazy dog")
    send(alice, room, "fox and dog together")
    other = stranger.chat.StartChat(M("chat.v1.StartChatRequest", peer_user_id=alice.id))
    send(stranger, other, "secret fox")
    search = lambda user, **f: user.chat.SearchMessages(M("chat.v1.SearchMessagesRequest", **f))
    found = search(bob, query="fox")
    assert sorted(m.body for m in found.messages) == ["fox and dog together",
                                                      "the quick brown fox"]
    page = search(bob, query="fox", page_size=1)
    assert len(page.messages) == 1 and page.next_page_token
    rest = search(bob, query="fox", page_size=1, page_token=page.next_page_token)
    assert len(rest.messages) == 1 and rest.messages[0].id != page.messages[0].id
    assert len(search(alice, query="fox", room_id=room.id).messages) == 2
    error = error_of(lambda r: search(bob, query="fox", room_id=other.id), None)
    assert error.code() == grpc.StatusCode.NOT_FOUND
    error = error_of(lambda r: search(bob, query="  "), None)
    assert violations(error) == [("query", "must not be empty")]


def test_a_service_principal_searches_any_room_it_names(channel, chat):
    """A service is a member of nothing: it searches the room it names, and only a room
    that exists."""
    alice, bob, stranger, room = chat
    send(alice, room, "indexed pineapple")
    service = User(channel, "Indexer", role="service")
    search = lambda **f: service.chat.SearchMessages(M("chat.v1.SearchMessagesRequest", **f))
    assert [m.body for m in search(query="pineapple", room_id=room.id).messages] == [
        "indexed pineapple"]
    assert search(query="pineapple").messages == []
    error = error_of(lambda r: search(query="pineapple", room_id=str(uuid.uuid4())), None)
    assert error.code() == grpc.StatusCode.NOT_FOUND
