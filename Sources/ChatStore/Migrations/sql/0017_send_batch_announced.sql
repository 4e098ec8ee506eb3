-- SendMessage's batches NOTIFY inside their own transaction again, as every write did before
-- migration 12. PostgreSQL lets one notifying transaction commit at a time, cluster-wide, its
-- WAL flush included; migration 12 moved the sends' NOTIFYs after their commits because
-- then every send was a transaction of its own, and thirty-two of them queued on that lock,
-- one flush each. Since migrations 6 and 15 a send shares its transaction with every send
-- waiting beside it, in any room, and an instance runs at most two batches at once: a
-- batch's flush under the lock is one flush for up to 64 sends, and the batch that waits
-- for it grows meanwhile. What migration 12's announcement cost instead is a second
-- transaction, beside the batches, on the same two cores: without it, 32 writers in 32 rooms
-- append about 1.3x as fast (1.0-1.8x in ten alternated rounds; one room unchanged:
-- docs/benchmarks.md, "session 14"), and a subscriber hears of a message at its commit, not
-- one round trip after its sender did. No announcement of a send is lost between its commit
-- and a killed chatd any more.
--
-- chatd now calls chat_send_batch_announced: chat_send_batch (migration 16), then one NOTIFY
-- per new message, each room's in seq order. chat_send_batch keeps its contract for an older
-- chatd during a rolling upgrade, which announces its sends itself (chat_announce_seqs): with
-- NOTIFYs in chat_send_batch, their second announcement would reach SubscribeUser streams as
-- a second room_activity.

-- The rows of chat_send_batch, as a type: chat_send_batch_announced keeps them in an array
-- while it announces them.
CREATE TYPE chat_sent_message AS (
  idx integer, created boolean, error_code text,
  id uuid, room_id uuid, seq bigint, sender_id text, sender_name text, sender_avatar text,
  client_msg_id text, body text, reply_to_id uuid, reply_sender_id text, reply_body text,
  reply_deleted boolean, reactions json, created_at timestamptz, edited_at timestamptz,
  deleted_at timestamptz
);

CREATE FUNCTION chat_send_batch_announced(
  p_rooms uuid[], p_senders text[], p_client_msg_ids text[], p_bodies text[], p_reply_tos uuid[]
) RETURNS SETOF chat_sent_message LANGUAGE plpgsql AS $$
DECLARE
  v_sent chat_sent_message[] := ARRAY(
    SELECT ROW(s.*)::chat_sent_message
    FROM chat_send_batch(p_rooms, p_senders, p_client_msg_ids, p_bodies, p_reply_tos) s
  );
BEGIN
  -- Here rather than in the batch's statements: a failed set-based attempt's NOTIFYs go with
  -- its subtransaction. (The fallback, 0006's loop, NOTIFYs too; PostgreSQL delivers
  -- identical notifications of one transaction once.) The sort comes before the calls.
  PERFORM pg_notify('chat_room_events', s.room_id::text || ':' || s.seq)
  FROM unnest(v_sent) s WHERE s.created ORDER BY s.room_id, s.seq;
  RETURN QUERY SELECT * FROM unnest(v_sent);
END $$;
