-- The real-time layer's needs: membership changes announced on their own channel (a user's
-- live streams learn about rooms they join or leave), viewer-neutral messages for fan-out,
-- and delivered pointers moved in batches.

-- chat_room_event as before, plus NOTIFY chat_memberships 'kind:room:user' for joins (7) and
-- leaves (8): the room's own announcement cannot reach a user who is not yet in its index.
CREATE OR REPLACE FUNCTION chat_room_event(
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
  IF p_kind IN (7, 8) AND p_subject IS NOT NULL THEN
    PERFORM pg_notify('chat_memberships', p_kind || ':' || p_room::text || ':' || p_subject);
  END IF;
  RETURN v_seq;
END $$;

-- chat_messages as before, but a NULL viewer (fan-out to everyone) gets reacted_by_me false
-- instead of NULL.
CREATE OR REPLACE FUNCTION chat_messages(p_viewer text, p_ids uuid[])
RETURNS TABLE (
  id uuid, room_id uuid, seq bigint, sender_id text, sender_name text, sender_avatar text,
  client_msg_id text, body text, reply_to_id uuid, reply_sender_id text, reply_body text,
  reply_deleted boolean, reactions json, created_at timestamptz, edited_at timestamptz,
  deleted_at timestamptz
) LANGUAGE sql STABLE AS $$
  SELECT m.id, m.room_id, m.seq, m.sender_id, u.display_name, u.avatar_url, m.client_msg_id,
    CASE WHEN m.deleted_at IS NULL THEN m.body ELSE '' END,
    m.reply_to_id, r.sender_id,
    CASE WHEN r.deleted_at IS NULL THEN left(r.body, 200) ELSE '' END,
    r.deleted_at IS NOT NULL,
    COALESCE((
      SELECT json_agg(json_build_object('emoji', x.emoji, 'count', x.n, 'mine', x.mine)
        ORDER BY x.first_at, x.emoji)
      FROM (
        SELECT emoji, count(*) AS n, COALESCE(bool_or(user_id = p_viewer), false) AS mine,
          min(created_at) AS first_at
        FROM reactions WHERE message_id = m.id GROUP BY emoji
      ) x), '[]'::json),
    m.created_at, m.edited_at, m.deleted_at
  FROM messages m
  LEFT JOIN users u ON u.id = m.sender_id
  LEFT JOIN messages r ON r.id = m.reply_to_id
  WHERE m.id = ANY (p_ids)
  ORDER BY m.room_id, m.seq
$$;

-- Delivered pointers of many (room, user) pairs at once: each moves forward only, never
-- past the room's last seq, and only for current members. Rooms are locked in one order (no
-- deadlock with single-room writers). A `delivered` event is emitted only in rooms of at most
-- p_event_max_members members: in a big room one event per member and message would flood
-- every subscriber, so there only the pointer moves. Returns the pairs that moved.
CREATE FUNCTION chat_mark_delivered_many(
  p_rooms uuid[], p_users text[], p_seqs bigint[], p_event_max_members integer
) RETURNS TABLE (room_id uuid, user_id text, last_delivered_seq bigint)
LANGUAGE plpgsql AS $$
DECLARE v_pair record; v_old bigint; v_new bigint; v_last bigint;
BEGIN
  FOR v_pair IN
    SELECT x.room, x.usr, x.seq FROM unnest(p_rooms, p_users, p_seqs) AS x (room, usr, seq)
    ORDER BY x.room, x.usr
  LOOP
    PERFORM chat_lock_room(v_pair.room);
    SELECT m.last_delivered_seq, r.last_seq INTO v_old, v_last
    FROM room_members m JOIN rooms r ON r.id = m.room_id
    WHERE m.room_id = v_pair.room AND m.user_id = v_pair.usr;
    CONTINUE WHEN NOT FOUND;
    v_new := GREATEST(v_old, LEAST(v_pair.seq, v_last));
    CONTINUE WHEN v_new <= v_old;
    UPDATE room_members SET last_delivered_seq = v_new
    WHERE room_members.room_id = v_pair.room AND room_members.user_id = v_pair.usr;
    IF (SELECT count(*) FROM room_members c WHERE c.room_id = v_pair.room)
        <= p_event_max_members THEN
      PERFORM chat_room_event(v_pair.room, 6::smallint, v_pair.usr, NULL, v_pair.usr, v_new, false);
    END IF;
    room_id := v_pair.room; user_id := v_pair.usr; last_delivered_seq := v_new;
    RETURN NEXT;
  END LOOP;
END $$;
