-- The OneSignal bridge (docs/push.md). Push rows are written only when the writing session
-- says push is on: chatd sets `chatd.push_grace_ms` in the startup packet of every pool
-- connection when OneSignal is configured, so the functions learn it without a round trip and
-- without a settings row that could outlive the configuration.

-- Rows written before this version were never sent (there was no worker) and are stale now.
DELETE FROM push_outbox;

-- What a row announces (1 = message, 2 = follow), who caused it (follows), which seq it
-- announces (messages: the worker drops it once the recipient's pointers reach it), the key
-- OneSignal dedupes on (fixed here, reused by every retry) and when it was given up.
ALTER TABLE push_outbox
  ALTER COLUMN room_id DROP NOT NULL,
  ALTER COLUMN message_id DROP NOT NULL,
  ADD COLUMN kind smallint NOT NULL DEFAULT 1,
  ADD COLUMN actor_id text REFERENCES users ON DELETE CASCADE,
  ADD COLUMN seq bigint,
  ADD COLUMN idempotency_key uuid NOT NULL DEFAULT gen_random_uuid(),
  ADD COLUMN failed_at timestamptz;
-- The worker claims pending rows only; given-up rows stay for operators.
DROP INDEX push_outbox_due;
CREATE INDEX push_outbox_due ON push_outbox (next_attempt_at, id) WHERE failed_at IS NULL;
-- FK CASCADE of user deletion (the follower of a follow push).
CREATE INDEX push_outbox_by_actor ON push_outbox (actor_id) WHERE actor_id IS NOT NULL;

-- The grace period of recipients online at send time, NULL when push is off.
CREATE FUNCTION chat_push_grace() RETURNS interval LANGUAGE sql STABLE AS $$
  SELECT make_interval(
    secs => NULLIF(current_setting('chatd.push_grace_ms', true), '')::double precision / 1000)
$$;

-- Whether a user has a SubscribeUser stream on an instance whose lease is current.
CREATE FUNCTION chat_online(p_user text) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT EXISTS (
    SELECT 1 FROM presence p JOIN instances i ON i.id = p.instance_id
    WHERE p.user_id = p_user AND i.lease_expires_at > now())
$$;

-- SendMessage as before; push rows only when push is on, for every member who has not muted
-- the room: due now when offline, after the grace period when online (the worker drops the row
-- if the message reached them meanwhile, which covers a stream that dropped before delivery).
CREATE OR REPLACE FUNCTION chat_append_message(
  p_room uuid, p_sender text, p_client_msg_id text, p_body text, p_reply_to uuid
) RETURNS TABLE (message_id uuid, created boolean) LANGUAGE plpgsql AS $$
DECLARE v_id uuid; v_seq bigint; v_grace interval := chat_push_grace();
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
  IF v_grace IS NOT NULL THEN
    INSERT INTO push_outbox (kind, user_id, room_id, message_id, seq, next_attempt_at)
    SELECT 1, m.user_id, p_room, v_id, v_seq,
      CASE WHEN chat_online(m.user_id) THEN now() + v_grace ELSE now() END
    FROM room_members m
    WHERE m.room_id = p_room AND m.user_id <> p_sender AND NOT m.muted;
  END IF;
  PERFORM pg_notify('chat_room_events', p_room::text || ':' || v_seq);
  RETURN QUERY SELECT v_id, true;
END $$;

-- Follow as before; the followee gets a push row when push is on and they are offline (an
-- online followee sees the FOLLOWED notification on their stream).
CREATE OR REPLACE FUNCTION chat_follow(p_follower text, p_followee text, p_link text)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF p_follower = p_followee THEN RAISE EXCEPTION 'follow self' USING ERRCODE = '22023'; END IF;
  PERFORM 1 FROM users WHERE id = p_followee;
  IF NOT FOUND THEN RAISE EXCEPTION 'user not found' USING ERRCODE = 'P0002'; END IF;
  INSERT INTO follows (follower_id, followee_id) VALUES (p_follower, p_followee)
  ON CONFLICT DO NOTHING;
  IF NOT FOUND THEN RETURN false; END IF;
  PERFORM chat_notify(p_followee, 1::smallint, p_follower, NULL, p_link);
  IF chat_push_grace() IS NOT NULL AND NOT chat_online(p_followee) THEN
    INSERT INTO push_outbox (kind, user_id, actor_id) VALUES (2, p_followee, p_follower);
  END IF;
  RETURN true;
END $$;
