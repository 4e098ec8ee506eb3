"""social.v1.FollowService through grpcio: idempotent follows, relationships, lists."""

import grpc
import pytest

from chatd_interop import protos
from chatd_interop.users import User, violations


def M(name):
    return protos.message(name)


def follow(a, b):
    return a.follows.Follow(M("social.v1.FollowRequest")(user_id=b.id))


def test_follow_is_idempotent_and_unfollow_undoes_it(channel):
    alice, bob = User(channel, "Alice"), User(channel, "Bob")
    bob.me()
    first = follow(alice, bob)
    assert first.changed
    assert (first.relationship.user_id, first.relationship.following,
            first.relationship.followed_by) == (bob.id, True, False)
    assert not follow(alice, bob).changed
    assert bob.me().follower_count == 1 and alice.me().following_count == 1

    seen = bob.follows.GetRelationship(M("social.v1.GetRelationshipRequest")(user_id=alice.id))
    assert (seen.user_id, seen.following, seen.followed_by) == (alice.id, False, True)

    undone = alice.follows.Unfollow(M("social.v1.UnfollowRequest")(user_id=bob.id))
    assert undone.changed and not undone.relationship.following
    again = alice.follows.Unfollow(M("social.v1.UnfollowRequest")(user_id=bob.id))
    assert not again.changed
    assert bob.me().follower_count == 0


def test_follow_self_is_invalid(channel):
    alice = User(channel)
    with pytest.raises(grpc.RpcError) as info:
        follow(alice, alice)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(info.value) == [("user_id", "must not be the caller")]


def test_follow_unknown_user_is_not_found(channel):
    alice = User(channel)
    with pytest.raises(grpc.RpcError) as info:
        alice.follows.Follow(M("social.v1.FollowRequest")(user_id="nobody-at-all"))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


def test_follow_needs_a_well_formed_id(channel):
    alice = User(channel)
    with pytest.raises(grpc.RpcError) as info:
        alice.follows.Follow(M("social.v1.FollowRequest")(user_id="has space"))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [f for f, _ in violations(info.value)] == ["user_id"]


def test_lists_page_with_totals(channel):
    star = User(channel, "Star")
    star.me()
    fans = [User(channel, f"Fan {i}") for i in range(5)]
    for fan in fans:
        follow(fan, star)
    follow(star, fans[0])

    request = M("social.v1.ListFollowsRequest")
    seen, token = [], ""
    while True:
        page = fans[1].follows.ListFollowers(request(user_id=star.id, page_size=2,
                                                     page_token=token))
        assert page.total_count == 5
        assert len(page.users) <= 2
        seen += [u.id for u in page.users]
        token = page.next_page_token
        if not token:
            break
    assert seen == [f.id for f in reversed(fans)]

    following = star.follows.ListFollowing(request())
    assert [u.id for u in following.users] == [fans[0].id]
    assert following.total_count == 1
    assert following.users[0].follower_count == 1

    with pytest.raises(grpc.RpcError) as info:
        star.follows.ListFollowers(request(user_id="nobody-at-all"))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as info:
        star.follows.ListFollowers(request(page_size=500))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
