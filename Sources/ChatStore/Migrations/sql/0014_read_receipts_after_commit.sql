-- MarkRead announces its `read` event after its commit, as SendMessage does since migration
-- 12. PostgreSQL lets one notifying transaction commit at a time, cluster-wide, fsync
-- included: on this project's benchmark machine 32 clients committed 3,400-3,500 one-row
-- transactions a second when each also called NOTIFY, 10,400-11,300 when none did
-- (docs/benchmarks.md, "session 6"). Read receipts are about as frequent as messages (every
-- reader of a conversation marks it read), so each one held that lock through its fsync, and
-- sends' announcements waited behind them.
--
-- chat_mark_read_unannounced is chat_mark_read whose event is appended without NOTIFY and
-- whose seq is returned, for chatd to announce (chat_announce_seqs). chat_mark_read keeps its
-- contract for an older chatd during a rolling upgrade, as this plus its NOTIFY; likewise
-- chat_room_event, so each body lives in one place.

-- chat_room_event without its NOTIFYs: the caller announces the event after its commit (and,
-- for a join or a leave, the membership too). chat_room_event is now this plus its NOTIFYs.
CREATE FUNCTION chat_room_event_unannounced(
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
  RETURN v_seq;
END $$;

CREATE OR REPLACE FUNCTION chat_room_event(
  p_room uuid, p_kind smallint, p_actor text, p_message uuid, p_subject text, p_value bigint,
  p_activity boolean
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE v_seq bigint;
BEGIN
  v_seq := chat_room_event_unannounced(
    p_room, p_kind, p_actor, p_message, p_subject, p_value, p_activity);
  PERFORM pg_notify('chat_room_events', p_room::text || ':' || v_seq);
  IF p_kind IN (7, 8) AND p_subject IS NOT NULL THEN
    PERFORM pg_notify('chat_memberships', p_kind || ':' || p_room::text || ':' || p_subject);
  END IF;
  RETURN v_seq;
END $$;

-- MarkRead: as chat_mark_read, plus the seq of its `read` event (NULL when the pointer did
-- not move, so nothing was appended).
CREATE FUNCTION chat_mark_read_unannounced(p_room uuid, p_user text, p_up_to bigint)
RETURNS TABLE (last_read_seq bigint, unread_count integer, event_seq bigint)
LANGUAGE plpgsql AS $$
DECLARE v_old bigint; v_new bigint; v_last bigint; v_event bigint;
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
    v_event := chat_room_event_unannounced(p_room, 5::smallint, p_user, NULL, p_user, v_new, false);
  END IF;
  RETURN QUERY SELECT v_new, chat_unread(p_room, p_user, v_new), v_event;
END $$;

CREATE OR REPLACE FUNCTION chat_mark_read(p_room uuid, p_user text, p_up_to bigint)
RETURNS TABLE (last_read_seq bigint, unread_count integer) LANGUAGE plpgsql AS $$
DECLARE v_row record;
BEGIN
  SELECT * INTO v_row FROM chat_mark_read_unannounced(p_room, p_user, p_up_to);
  IF v_row.event_seq IS NOT NULL THEN
    PERFORM pg_notify('chat_room_events', p_room::text || ':' || v_row.event_seq);
  END IF;
  RETURN QUERY SELECT v_row.last_read_seq, v_row.unread_count;
END $$;
