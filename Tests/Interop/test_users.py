"""social.v1.UserService through grpcio: profiles, deletion, notifications."""

import grpc
import pytest

from chatd_interop import protos
from chatd_interop.users import User, violations


def M(name):
    return protos.message(name)


@pytest.fixture
def alice(channel):
    user = User(channel, "Alice")
    user.me()
    return user


@pytest.fixture
def bob(channel):
    user = User(channel, "Bob")
    user.me()
    return user


def rpc_error(call, *args) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        call(*args)
    return info.value


def test_get_me(alice):
    me = alice.me()
    assert (me.id, me.display_name, me.follower_count, me.following_count) == (
        alice.id, "Alice", 0, 0)


def test_update_me_changes_only_the_fields_set(alice):
    updated = alice.users.UpdateMe(M("social.v1.UpdateMeRequest")(display_name="  Alice B  "))
    assert updated.display_name == "Alice B"
    assert updated.avatar_url == ""
    updated = alice.users.UpdateMe(
        M("social.v1.UpdateMeRequest")(avatar_url="https://example.org/a.png"))
    assert (updated.display_name, updated.avatar_url) == ("Alice B", "https://example.org/a.png")
    assert alice.me().display_name == "Alice B"


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"display_name": "   "}, "display_name"),
        ({"display_name": "x" * 65}, "display_name"),
        ({"display_name": "bell\x07"}, "display_name"),
        ({"avatar_url": "http://example.org/a.png"}, "avatar_url"),
    ],
)
def test_update_me_validation(alice, fields, field):
    error = rpc_error(alice.users.UpdateMe, M("social.v1.UpdateMeRequest")(**fields))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [f for f, _ in violations(error)] == [field]


def test_get_user(alice, bob):
    bob.me()
    profile = alice.users.GetUser(M("social.v1.GetUserRequest")(user_id=bob.id))
    assert (profile.id, profile.display_name) == (bob.id, "Bob")


def test_get_unknown_user_is_not_found(alice):
    error = rpc_error(alice.users.GetUser, M("social.v1.GetUserRequest")(user_id="nobody-here"))
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_get_user_needs_an_id(alice):
    error = rpc_error(alice.users.GetUser, M("social.v1.GetUserRequest")())
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(error) == [("user_id", "is required")]


def test_delete_someone_else_is_denied(alice, bob):
    bob.me()
    error = rpc_error(alice.users.DeleteUser, M("social.v1.DeleteUserRequest")(user_id=bob.id))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert bob.me().id == bob.id


def test_delete_self(channel, alice, bob):
    bob.follows.Follow(M("social.v1.FollowRequest")(user_id=alice.id))
    reply = alice.users.DeleteUser(M("social.v1.DeleteUserRequest")(user_id=alice.id))
    assert reply.user_id == alice.id
    error = rpc_error(bob.users.GetUser, M("social.v1.GetUserRequest")(user_id=alice.id))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert bob.me().following_count == 0


def test_admin_deletes_anyone(channel, bob):
    admin = User(channel, "Admin", role="admin")
    bob.me()
    admin.users.DeleteUser(M("social.v1.DeleteUserRequest")(user_id=bob.id))
    error = rpc_error(admin.users.GetUser, M("social.v1.GetUserRequest")(user_id=bob.id))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    error = rpc_error(
        admin.users.DeleteUser, M("social.v1.DeleteUserRequest")(user_id="never-existed"))
    assert error.code() == grpc.StatusCode.NOT_FOUND


def test_follow_notifications_list_and_mark_read(channel, alice):
    followers = [User(channel, f"Follower {i}") for i in range(3)]
    for follower in followers:
        follower.follows.Follow(M("social.v1.FollowRequest")(user_id=alice.id))
    page = alice.users.ListNotifications(M("social.v1.ListNotificationsRequest")(page_size=2))
    assert page.unread_count == 3
    assert [n.actor.id for n in page.notifications] == [followers[2].id, followers[1].id]
    first = page.notifications[0]
    assert first.kind == M("social.v1.Notification").DESCRIPTOR.fields_by_name[
        "kind"].enum_type.values_by_name["NOTIFICATION_KIND_FOLLOWED"].number
    assert first.actor.display_name == "Follower 2"
    assert first.deep_link == f"chatd://users/{followers[2].id}"
    assert not first.read and first.seq == 3
    assert page.next_page_token
    rest = alice.users.ListNotifications(
        M("social.v1.ListNotificationsRequest")(page_size=2, page_token=page.next_page_token))
    assert [n.seq for n in rest.notifications] == [1]
    assert rest.next_page_token == ""

    marked = alice.users.MarkNotificationsRead(
        M("social.v1.MarkNotificationsReadRequest")(up_to_seq=2))
    assert marked.unread_count == 1
    # Never backwards.
    marked = alice.users.MarkNotificationsRead(
        M("social.v1.MarkNotificationsReadRequest")(up_to_seq=1))
    assert marked.unread_count == 1
    unread = alice.users.ListNotifications(
        M("social.v1.ListNotificationsRequest")(unread_only=True))
    assert [n.seq for n in unread.notifications] == [3]


def test_unread_only_pages_hold_only_unread_notifications(channel, alice):
    """unread_only filters in the query: full pages, and no page token once the unread ones
    are all shown, however many read ones lie behind them."""
    for i in range(5):
        follower = User(channel, f"Follower {i}")
        follower.follows.Follow(M("social.v1.FollowRequest")(user_id=alice.id))
    alice.users.MarkNotificationsRead(M("social.v1.MarkNotificationsReadRequest")(up_to_seq=2))
    Request = M("social.v1.ListNotificationsRequest")
    pages = []
    token = ""
    while True:
        page = alice.users.ListNotifications(
            Request(unread_only=True, page_size=2, page_token=token))
        assert page.unread_count == 3
        pages.append([n.seq for n in page.notifications])
        token = page.next_page_token
        if not token:
            break
    assert pages == [[5, 4], [3]]


def test_list_notifications_validation(alice):
    error = rpc_error(
        alice.users.ListNotifications, M("social.v1.ListNotificationsRequest")(page_size=201))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(error) == [("page_size", "must be at most 200")]
    error = rpc_error(
        alice.users.ListNotifications, M("social.v1.ListNotificationsRequest")(page_token="zz"))
    assert [f for f, _ in violations(error)] == ["page_token"]
