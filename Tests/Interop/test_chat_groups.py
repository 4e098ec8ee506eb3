"""Group management through grpcio: owners and admins manage members, everyone may leave,
direct chats keep their two people, mute is per member."""

import grpc
import pytest

from chatd_interop import protos
from chatd_interop.users import User, violations

OWNER, ADMIN, MEMBER = 1, 2, 3


def M(name, **fields):
    return protos.message(name)(**fields)


def error_of(call, request) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        call(request)
    return info.value


@pytest.fixture
def people(channel):
    users = [User(channel, name) for name in ("Owner", "Member", "Newcomer", "Stranger")]
    for user in users:
        user.me()
    return users


def test_owner_adds_and_removes_members(people):
    owner, member, newcomer, stranger = people
    group = owner.chat.CreateGroup(M("chat.v1.CreateGroupRequest", title="Team",
                                     member_user_ids=[member.id]))
    grown = owner.chat.AddMembers(M("chat.v1.AddMembersRequest", room_id=group.id,
                                    user_ids=[newcomer.id, member.id]))
    assert {m.user.id: m.role for m in grown.members} == {
        owner.id: OWNER, member.id: MEMBER, newcomer.id: MEMBER}
    # The newcomer was told.
    notes = newcomer.users.ListNotifications(M("social.v1.ListNotificationsRequest"))
    assert notes.notifications[0].room_id == group.id
    assert notes.notifications[0].deep_link == f"chatd://rooms/{group.id}"

    error = error_of(member.chat.AddMembers, M("chat.v1.AddMembersRequest", room_id=group.id,
                                               user_ids=[stranger.id]))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    error = error_of(stranger.chat.AddMembers, M("chat.v1.AddMembersRequest", room_id=group.id,
                                                 user_ids=[stranger.id]))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    error = error_of(owner.chat.AddMembers, M("chat.v1.AddMembersRequest", room_id=group.id,
                                              user_ids=["nobody-at-all"]))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    error = error_of(owner.chat.AddMembers, M("chat.v1.AddMembersRequest", room_id=group.id))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [f for f, _ in violations(error)] == ["user_ids"]

    error = error_of(member.chat.RemoveMember, M("chat.v1.RemoveMemberRequest",
                                                 room_id=group.id, user_id=newcomer.id))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    smaller = owner.chat.RemoveMember(M("chat.v1.RemoveMemberRequest", room_id=group.id,
                                        user_id=newcomer.id))
    assert newcomer.id not in {m.user.id for m in smaller.members}
    error = error_of(newcomer.chat.GetRoom, M("chat.v1.GetRoomRequest", room_id=group.id))
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_members_leave(people):
    owner, member, *_ = people
    group = owner.chat.CreateGroup(M("chat.v1.CreateGroupRequest", title="Club",
                                     member_user_ids=[member.id]))
    left = member.chat.RemoveMember(M("chat.v1.RemoveMemberRequest", room_id=group.id,
                                      user_id=member.id))
    assert [m.user.id for m in left.members] == [owner.id]
    error = error_of(member.chat.SendMessage, M("chat.v1.SendMessageRequest", room_id=group.id,
                                                client_msg_id="x", body="still here?"))
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_rename_and_direct_room_rules(people):
    owner, member, stranger = people[0], people[1], people[3]
    group = owner.chat.CreateGroup(M("chat.v1.CreateGroupRequest", title="Old",
                                     member_user_ids=[member.id]))
    renamed = owner.chat.UpdateRoom(M("chat.v1.UpdateRoomRequest", room_id=group.id,
                                      title="New"))
    assert renamed.title == "New"
    error = error_of(member.chat.UpdateRoom, M("chat.v1.UpdateRoomRequest", room_id=group.id,
                                               title="Mine"))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    error = error_of(stranger.chat.UpdateRoom, M("chat.v1.UpdateRoomRequest", room_id=group.id,
                                                 title="Mine"))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    error = error_of(owner.chat.UpdateRoom, M("chat.v1.UpdateRoomRequest", room_id=group.id,
                                              title="x" * 201))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT

    direct = owner.chat.StartChat(M("chat.v1.StartChatRequest", peer_user_id=member.id))
    for call, request in [
        (owner.chat.AddMembers, M("chat.v1.AddMembersRequest", room_id=direct.id,
                                  user_ids=[stranger.id])),
        (owner.chat.UpdateRoom, M("chat.v1.UpdateRoomRequest", room_id=direct.id, title="t")),
        (owner.chat.RemoveMember, M("chat.v1.RemoveMemberRequest", room_id=direct.id,
                                    user_id=member.id)),
    ]:
        error = error_of(call, request)
        assert error.code() in (grpc.StatusCode.FAILED_PRECONDITION,
                                grpc.StatusCode.PERMISSION_DENIED), error.details()


def test_mute_is_the_callers_own(people):
    owner, member, *_ , stranger = people
    group = owner.chat.CreateGroup(M("chat.v1.CreateGroupRequest", title="Noisy",
                                     member_user_ids=[member.id]))
    muted = member.chat.UpdateMembership(M("chat.v1.UpdateMembershipRequest", room_id=group.id,
                                           muted=True))
    assert muted.muted and muted.user.id == member.id
    unchanged = member.chat.UpdateMembership(M("chat.v1.UpdateMembershipRequest",
                                               room_id=group.id))
    assert unchanged.muted
    room = owner.chat.GetRoom(M("chat.v1.GetRoomRequest", room_id=group.id)).room
    assert {m.user.id: m.muted for m in room.members} == {owner.id: False, member.id: True}
    error = error_of(stranger.chat.UpdateMembership, M("chat.v1.UpdateMembershipRequest",
                                                       room_id=group.id, muted=True))
    assert error.code() == grpc.StatusCode.NOT_FOUND
