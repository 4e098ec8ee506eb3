"""One conversation end to end, as two app users would have it: grpcio clients with tokens
minted by PyJWT start a chat, talk, read, react, edit, delete, search, follow each other, and
one of them deletes their account."""

import uuid

from chatd_interop import protos
from chatd_interop.users import User


def M(name, **fields):
    return protos.message(name)(**fields)


def test_a_conversation(channel):
    ana, ben = User(channel, "Ana"), User(channel, "Ben")
    ana.me(), ben.me()

    room = ana.chat.StartChat(M("chat.v1.StartChatRequest", peer_user_id=ben.id))
    say = lambda user, body, **f: user.chat.SendMessage(M(
        "chat.v1.SendMessageRequest", room_id=room.id, body=body,
        client_msg_id=str(uuid.uuid4()), **f))
    hi = say(ana, "Hi Ben! Lunch tomorrow?")
    yes = say(ben, "Yes, pizza at noon", reply_to_message_id=hi.id)
    typo = say(ana, "Great, see you tmorrow")

    inbox = ben.chat.ListRooms(M("chat.v1.ListRoomsRequest")).rooms[0]
    # Sending moved his read pointer past "hi": only the last message is unread.
    assert inbox.room.id == room.id and inbox.unread_count == 1
    assert inbox.last_message.id == typo.id
    read = ben.chat.MarkRead(M("chat.v1.MarkReadRequest", room_id=room.id, up_to_seq=typo.seq))
    assert read.unread_count == 0

    ben.chat.AddReaction(M("chat.v1.ReactionRequest", message_id=typo.id, emoji="👍"))
    fixed = ana.chat.EditMessage(M("chat.v1.EditMessageRequest", message_id=typo.id,
                                   body="Great, see you tomorrow"))
    assert fixed.body.endswith("tomorrow") and fixed.reactions[0].emoji == "👍"
    ana.chat.DeleteMessage(M("chat.v1.DeleteMessageRequest", message_id=hi.id))

    history = ben.chat.GetMessages(M("chat.v1.GetMessagesRequest", room_id=room.id)).messages
    assert [(m.sender_id, m.deleted) for m in history] == [
        (ana.id, True), (ben.id, False), (ana.id, False)]
    assert history[1].reply_to.id == hi.id and history[1].reply_to.deleted

    found = ana.chat.SearchMessages(M("chat.v1.SearchMessagesRequest", query="pizza"))
    assert [m.id for m in found.messages] == [yes.id]

    ana.follows.Follow(M("social.v1.FollowRequest", user_id=ben.id))
    ben.follows.Follow(M("social.v1.FollowRequest", user_id=ana.id))
    mutual = ana.follows.GetRelationship(M("social.v1.GetRelationshipRequest", user_id=ben.id))
    assert mutual.following and mutual.followed_by
    followers = ben.follows.ListFollowers(M("social.v1.ListFollowsRequest"))
    assert [u.id for u in followers.users] == [ana.id] and followers.total_count == 1
    note = ben.users.ListNotifications(M("social.v1.ListNotificationsRequest")).notifications[0]
    assert note.actor.id == ana.id and note.actor.display_name == "Ana"

    ana.users.DeleteUser(M("social.v1.DeleteUserRequest", user_id=ana.id))
    after = ben.chat.GetMessages(M("chat.v1.GetMessagesRequest", room_id=room.id)).messages
    assert [m.id for m in after] == [hi.id, yes.id, typo.id]
    assert [m.body for m in after] == ["", "Yes, pizza at noon", ""]
    assert all(m.deleted for m in (after[0], after[2]))
    assert ben.me().follower_count == 0 and ben.me().following_count == 0
    room_now = ben.chat.GetRoom(M("chat.v1.GetRoomRequest", room_id=room.id)).room
    assert [m.user.id for m in room_now.members] == [ben.id]
