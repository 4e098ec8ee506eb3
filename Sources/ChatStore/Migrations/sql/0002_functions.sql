-- Write paths as functions: each runs in one round trip, so the room row lock (the seq
-- allocator) is held only for the statements, never across network round trips.
-- Errors: P0002 = not found (or not a member), 42501 = not allowed, 22023 = invalid argument.
--
-- Ordering: every function that appends room events takes the room's transaction-level
-- advisory lock before its first write. A transaction id is assigned at the first write, so
-- per room, transaction ids then grow in the same order as seqs: the firehose, which reads
-- in transaction id order, delivers each room's events in seq order. (A row lock would not
-- do: SELECT ... FOR UPDATE assigns the transaction id before it waits.)

CREATE FUNCTION chat_lock_room(p_room uuid) RETURNS void LANGUAGE sql AS $$
  SELECT pg_advisory_xact_lock(7, hashtext(p_room::text))
$$;

-- Appends the next event of a room: locks the room row, takes last_seq + 1, NOTIFYs.
CREATE FUNCTION chat_room_event(
  p_room uuid, p_kind smallint, p_actor text, p_message uuid, p_subject text, p_value bigint,
  p_activity boolean
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE v_seq bigint;
BEGIN
  PERFORM chat_lock_room(p_room);
  UPDATE rooms SET last_seq = last_seq + 1,
    last_activity_at = CASE WHEN p_activity THEN now() ELSE last_activity_at END
  WHERE id = p_room RETURNING last_seq INTO v_seq;
  IF NOT FOUND THEN RAISE EXCEPTION 'room not found' USING ERRCODE = 'P0002'; END IF;
  INSERT INTO room_events (room_id, seq, kind, actor_id, message_id, subject_user_id, value)
  VALUES (p_room, v_seq, p_kind, p_actor, p_message, p_subject, p_value);
  PERFORM pg_notify('chat_room_events', p_room::text || ':' || v_seq);
  RETURN v_seq;
END $$;

-- Appends the next notification of a user under the user's row lock, NOTIFYs.
CREATE FUNCTION chat_notify(
  p_user text, p_kind smallint, p_actor text, p_room uuid, p_link text
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE v_seq bigint;
BEGIN
  UPDATE users SET notification_seq = notification_seq + 1 WHERE id = p_user
  RETURNING notification_seq INTO v_seq;
  IF NOT FOUND THEN RETURN 0; END IF;
  INSERT INTO notifications (user_id, seq, kind, actor_id, room_id, deep_link)
  VALUES (p_user, v_seq, p_kind, p_actor, p_room, p_link);
  PERFORM pg_notify('chat_user_events', p_user || ':' || v_seq);
  RETURN v_seq;
END $$;

CREATE FUNCTION chat_require_member(p_room uuid, p_user text) RETURNS smallint
LANGUAGE plpgsql AS $$
DECLARE v_role smallint;
BEGIN
  SELECT role INTO v_role FROM room_members WHERE room_id = p_room AND user_id = p_user;
  IF NOT FOUND THEN RAISE EXCEPTION 'not a member' USING ERRCODE = 'P0002'; END IF;
  RETURN v_role;
END $$;

-- SendMessage. Idempotent on (sender, client_msg_id): a retry returns the original id with
-- created = false. The room lock is taken first, so concurrent retries serialize and the
-- later ones see the committed original (each statement here takes a fresh snapshot).
CREATE FUNCTION chat_append_message(
  p_room uuid, p_sender text, p_client_msg_id text, p_body text, p_reply_to uuid
) RETURNS TABLE (message_id uuid, created boolean) LANGUAGE plpgsql AS $$
DECLARE v_id uuid; v_seq bigint;
BEGIN
  PERFORM chat_require_member(p_room, p_sender);
  PERFORM chat_lock_room(p_room);
  SELECT id INTO v_id FROM messages WHERE sender_id = p_sender AND client_msg_id = p_client_msg_id;
  IF FOUND THEN RETURN QUERY SELECT v_id, false; RETURN; END IF;
  IF p_reply_to IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM messages WHERE id = p_reply_to AND room_id = p_room) THEN
    RAISE EXCEPTION 'reply_to is not in this room' USING ERRCODE = '22023';
  END IF;
  v_id := gen_random_uuid();
  UPDATE rooms SET last_seq = last_seq + 1, last_activity_at = now(), last_message_id = v_id
  WHERE id = p_room RETURNING last_seq INTO v_seq;
  INSERT INTO messages (id, room_id, seq, sender_id, client_msg_id, body, reply_to_id)
  VALUES (v_id, p_room, v_seq, p_sender, p_client_msg_id, p_body, p_reply_to);
  INSERT INTO room_events (room_id, seq, kind, actor_id, message_id)
  VALUES (p_room, v_seq, 1, p_sender, v_id);
  UPDATE room_members SET last_read_seq = v_seq, last_delivered_seq = v_seq
  WHERE room_id = p_room AND user_id = p_sender;
  INSERT INTO push_outbox (user_id, room_id, message_id)
  SELECT m.user_id, p_room, v_id FROM room_members m
  WHERE m.room_id = p_room AND m.user_id <> p_sender AND NOT m.muted
    AND NOT EXISTS (
      SELECT 1 FROM presence p JOIN instances i ON i.id = p.instance_id
      WHERE p.user_id = m.user_id AND i.lease_expires_at > now());
  PERFORM pg_notify('chat_room_events', p_room::text || ':' || v_seq);
  RETURN QUERY SELECT v_id, true;
END $$;

-- EditMessage (sender only) and DeleteMessage (sender, room owner/admin, or a moderator).
CREATE FUNCTION chat_change_message(
  p_message uuid, p_user text, p_body text, p_delete boolean, p_moderator boolean
) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE v_room uuid; v_sender text; v_deleted timestamptz; v_role smallint;
BEGIN
  SELECT room_id, sender_id, deleted_at INTO v_room, v_sender, v_deleted
  FROM messages WHERE id = p_message;
  IF NOT FOUND THEN RAISE EXCEPTION 'message not found' USING ERRCODE = 'P0002'; END IF;
  PERFORM chat_lock_room(v_room);
  IF p_moderator THEN
    v_role := 1;
  ELSE
    v_role := chat_require_member(v_room, p_user);
  END IF;
  IF v_sender IS DISTINCT FROM p_user AND NOT (p_delete AND v_role IN (1, 2)) THEN
    RAISE EXCEPTION 'not the sender' USING ERRCODE = '42501';
  END IF;
  IF v_deleted IS NOT NULL THEN
    IF p_delete THEN RETURN v_room; END IF;
    RAISE EXCEPTION 'message deleted' USING ERRCODE = 'P0002';
  END IF;
  IF p_delete THEN
    UPDATE messages SET deleted_at = now(), body = '' WHERE id = p_message;
    DELETE FROM reactions WHERE message_id = p_message;
  ELSE
    UPDATE messages SET body = p_body, edited_at = now() WHERE id = p_message;
  END IF;
  PERFORM chat_room_event(v_room, CASE WHEN p_delete THEN 3 ELSE 2 END::smallint, p_user,
    p_message, NULL, 0, false);
  RETURN v_room;
END $$;

-- AddReaction / RemoveReaction. Returns whether anything changed.
CREATE FUNCTION chat_react(p_message uuid, p_user text, p_emoji text, p_add boolean)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE v_room uuid; v_count integer;
BEGIN
  SELECT room_id INTO v_room FROM messages WHERE id = p_message AND deleted_at IS NULL;
  IF NOT FOUND THEN RAISE EXCEPTION 'message not found' USING ERRCODE = 'P0002'; END IF;
  PERFORM chat_require_member(v_room, p_user);
  PERFORM chat_lock_room(v_room);
  IF p_add THEN
    INSERT INTO reactions (message_id, user_id, emoji) VALUES (p_message, p_user, p_emoji)
    ON CONFLICT DO NOTHING;
  ELSE
    DELETE FROM reactions WHERE message_id = p_message AND user_id = p_user AND emoji = p_emoji;
  END IF;
  GET DIAGNOSTICS v_count = ROW_COUNT;
  IF v_count = 0 THEN RETURN false; END IF;
  PERFORM chat_room_event(v_room, 4::smallint, p_user, p_message, NULL, 0, false);
  RETURN true;
END $$;

-- Unread messages of a member: others' live messages after the read pointer.
CREATE FUNCTION chat_unread(p_room uuid, p_user text, p_after bigint) RETURNS integer
LANGUAGE sql STABLE AS $$
  SELECT count(*)::integer FROM messages
  WHERE room_id = p_room AND seq > p_after AND deleted_at IS NULL
    AND sender_id IS DISTINCT FROM p_user
$$;

-- MarkRead: the pointer never moves backwards nor past the room's last seq.
CREATE FUNCTION chat_mark_read(p_room uuid, p_user text, p_up_to bigint)
RETURNS TABLE (last_read_seq bigint, unread_count integer) LANGUAGE plpgsql AS $$
DECLARE v_old bigint; v_new bigint; v_last bigint;
BEGIN
  PERFORM chat_lock_room(p_room);
  SELECT m.last_read_seq, r.last_seq INTO v_old, v_last
  FROM room_members m JOIN rooms r ON r.id = m.room_id
  WHERE m.room_id = p_room AND m.user_id = p_user;
  IF NOT FOUND THEN RAISE EXCEPTION 'not a member' USING ERRCODE = 'P0002'; END IF;
  v_new := GREATEST(v_old, LEAST(p_up_to, v_last));
  IF v_new > v_old THEN
    UPDATE room_members SET last_read_seq = v_new,
      last_delivered_seq = GREATEST(room_members.last_delivered_seq, v_new)
    WHERE room_id = p_room AND user_id = p_user;
    PERFORM chat_room_event(p_room, 5::smallint, p_user, NULL, p_user, v_new, false);
  END IF;
  RETURN QUERY SELECT v_new, chat_unread(p_room, p_user, v_new);
END $$;

-- Delivered pointer (batched by the real-time layer): forward only; emits `delivered`.
CREATE FUNCTION chat_mark_delivered(p_room uuid, p_user text, p_up_to bigint)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE v_old bigint; v_new bigint; v_last bigint;
BEGIN
  PERFORM chat_lock_room(p_room);
  SELECT m.last_delivered_seq, r.last_seq INTO v_old, v_last
  FROM room_members m JOIN rooms r ON r.id = m.room_id
  WHERE m.room_id = p_room AND m.user_id = p_user;
  IF NOT FOUND THEN RAISE EXCEPTION 'not a member' USING ERRCODE = 'P0002'; END IF;
  v_new := GREATEST(v_old, LEAST(p_up_to, v_last));
  IF v_new > v_old THEN
    UPDATE room_members SET last_delivered_seq = v_new WHERE room_id = p_room AND user_id = p_user;
    PERFORM chat_room_event(p_room, 6::smallint, p_user, NULL, p_user, v_new, false);
  END IF;
  RETURN v_new;
END $$;

-- StartChat: get-or-create the one direct room of a pair. Concurrent callers meet on the
-- unique index; the loser reads the winner's room.
CREATE FUNCTION chat_start_direct(p_user text, p_peer text)
RETURNS TABLE (room_id uuid, created boolean) LANGUAGE plpgsql AS $$
DECLARE v_low text := LEAST(p_user, p_peer); v_high text := GREATEST(p_user, p_peer);
  v_room uuid;
BEGIN
  IF p_user = p_peer THEN RAISE EXCEPTION 'chat with self' USING ERRCODE = '22023'; END IF;
  PERFORM 1 FROM users WHERE id = p_peer;
  IF NOT FOUND THEN RAISE EXCEPTION 'peer not found' USING ERRCODE = 'P0002'; END IF;
  INSERT INTO rooms (kind, direct_user_low, direct_user_high) VALUES (1, v_low, v_high)
  ON CONFLICT (direct_user_low, direct_user_high) WHERE kind = 1 DO NOTHING
  RETURNING id INTO v_room;
  IF v_room IS NULL THEN
    SELECT id INTO v_room FROM rooms
    WHERE kind = 1 AND direct_user_low = v_low AND direct_user_high = v_high;
    RETURN QUERY SELECT v_room, false;
    RETURN;
  END IF;
  INSERT INTO room_members (room_id, user_id, role) VALUES (v_room, v_low, 3), (v_room, v_high, 3);
  PERFORM chat_room_event(v_room, 7::smallint, p_user, NULL, p_user, 0, true);
  PERFORM chat_room_event(v_room, 7::smallint, p_user, NULL, p_peer, 0, true);
  PERFORM chat_notify(p_peer, 2::smallint, p_user, v_room, 'chatd://rooms/' || v_room);
  RETURN QUERY SELECT v_room, true;
END $$;

-- AddMembers (owner/admin of a group; also used by CreateGroup). Returns how many joined.
CREATE FUNCTION chat_add_members(p_room uuid, p_actor text, p_users text[], p_check boolean)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE v_role smallint; v_kind smallint; v_user text; v_added integer := 0;
BEGIN
  PERFORM chat_lock_room(p_room);
  SELECT kind INTO v_kind FROM rooms WHERE id = p_room;
  IF NOT FOUND THEN RAISE EXCEPTION 'room not found' USING ERRCODE = 'P0002'; END IF;
  IF p_check THEN
    v_role := chat_require_member(p_room, p_actor);
    IF v_kind = 1 THEN RAISE EXCEPTION 'direct room' USING ERRCODE = '22023'; END IF;
    IF v_role NOT IN (1, 2) THEN RAISE EXCEPTION 'not an admin' USING ERRCODE = '42501'; END IF;
  END IF;
  FOREACH v_user IN ARRAY p_users LOOP
    INSERT INTO room_members (room_id, user_id, role) VALUES (p_room, v_user, 3)
    ON CONFLICT DO NOTHING;
    IF FOUND THEN
      v_added := v_added + 1;
      PERFORM chat_room_event(p_room, 7::smallint, p_actor, NULL, v_user, 0, true);
      IF v_user <> p_actor THEN
        PERFORM chat_notify(v_user, 2::smallint, p_actor, p_room, 'chatd://rooms/' || p_room);
      END IF;
    END IF;
  END LOOP;
  RETURN v_added;
END $$;

-- CreateGroup: the creator is the owner; members must exist.
CREATE FUNCTION chat_create_group(p_owner text, p_title text, p_members text[])
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE v_room uuid;
BEGIN
  INSERT INTO rooms (kind, title) VALUES (2, p_title) RETURNING id INTO v_room;
  INSERT INTO room_members (room_id, user_id, role) VALUES (v_room, p_owner, 1);
  PERFORM chat_room_event(v_room, 7::smallint, p_owner, NULL, p_owner, 0, true);
  PERFORM chat_add_members(v_room, p_owner,
    ARRAY(SELECT DISTINCT u FROM unnest(p_members) u WHERE u <> p_owner), false);
  RETURN v_room;
END $$;

-- RemoveMember: self = leave; owners remove anyone, admins remove members. Returns changed.
CREATE FUNCTION chat_remove_member(p_room uuid, p_actor text, p_user text, p_moderator boolean)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE v_actor_role smallint; v_role smallint; v_kind smallint;
BEGIN
  PERFORM chat_lock_room(p_room);
  SELECT kind INTO v_kind FROM rooms WHERE id = p_room;
  IF NOT FOUND THEN RAISE EXCEPTION 'room not found' USING ERRCODE = 'P0002'; END IF;
  v_actor_role := CASE WHEN p_moderator THEN 1 ELSE chat_require_member(p_room, p_actor) END;
  IF v_kind = 1 THEN RAISE EXCEPTION 'direct room' USING ERRCODE = '22023'; END IF;
  SELECT role INTO v_role FROM room_members WHERE room_id = p_room AND user_id = p_user;
  IF NOT FOUND THEN RETURN false; END IF;
  IF p_actor <> p_user AND NOT (v_actor_role = 1 OR (v_actor_role = 2 AND v_role = 3)) THEN
    RAISE EXCEPTION 'not allowed' USING ERRCODE = '42501';
  END IF;
  DELETE FROM room_members WHERE room_id = p_room AND user_id = p_user;
  PERFORM chat_room_event(p_room, 8::smallint, p_actor, NULL, p_user, 0, true);
  PERFORM chat_notify(p_user, 3::smallint, p_actor, p_room, 'chatd://rooms/' || p_room);
  RETURN true;
END $$;

-- UpdateRoom: owner/admin of a group.
CREATE FUNCTION chat_update_room(p_room uuid, p_actor text, p_title text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE v_role smallint; v_kind smallint;
BEGIN
  PERFORM chat_lock_room(p_room);
  SELECT kind INTO v_kind FROM rooms WHERE id = p_room;
  IF NOT FOUND THEN RAISE EXCEPTION 'room not found' USING ERRCODE = 'P0002'; END IF;
  v_role := chat_require_member(p_room, p_actor);
  IF v_kind = 1 THEN RAISE EXCEPTION 'direct room' USING ERRCODE = '22023'; END IF;
  IF v_role NOT IN (1, 2) THEN RAISE EXCEPTION 'not an admin' USING ERRCODE = '42501'; END IF;
  UPDATE rooms SET title = p_title WHERE id = p_room;
  RETURN chat_room_event(p_room, 9::smallint, p_actor, NULL, NULL, 0, true);
END $$;

-- Follow: idempotent; the first follow writes a FOLLOWED notification for the followee.
CREATE FUNCTION chat_follow(p_follower text, p_followee text, p_link text)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF p_follower = p_followee THEN RAISE EXCEPTION 'follow self' USING ERRCODE = '22023'; END IF;
  PERFORM 1 FROM users WHERE id = p_followee;
  IF NOT FOUND THEN RAISE EXCEPTION 'user not found' USING ERRCODE = 'P0002'; END IF;
  INSERT INTO follows (follower_id, followee_id) VALUES (p_follower, p_followee)
  ON CONFLICT DO NOTHING;
  IF NOT FOUND THEN RETURN false; END IF;
  PERFORM chat_notify(p_followee, 1::smallint, p_follower, NULL, p_link);
  RETURN true;
END $$;

-- DeleteUser: memberships (with member_left events), follows, notifications, pushes and
-- presence go by cascade; messages become tombstones so others' history stays whole.
CREATE FUNCTION chat_delete_user(p_user text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE v_room uuid;
BEGIN
  -- Every room lock first, in one order (no deadlock with single-room writers).
  PERFORM chat_lock_room(r.room_id) FROM (
    SELECT room_id FROM room_members WHERE user_id = p_user ORDER BY room_id) r;
  PERFORM 1 FROM users WHERE id = p_user FOR UPDATE;
  IF NOT FOUND THEN RETURN false; END IF;
  FOR v_room IN SELECT room_id FROM room_members WHERE user_id = p_user ORDER BY room_id LOOP
    DELETE FROM room_members WHERE room_id = v_room AND user_id = p_user;
    PERFORM chat_room_event(v_room, 8::smallint, p_user, NULL, p_user, 0, false);
  END LOOP;
  UPDATE messages SET body = '', deleted_at = COALESCE(deleted_at, now())
  WHERE sender_id = p_user;
  DELETE FROM users WHERE id = p_user;
  RETURN true;
END $$;
