-- The NOTIFY of a new message leaves the message's transaction. PostgreSQL serializes the
-- commits of every transaction that has called NOTIFY, cluster-wide: PreCommit_Notify takes
-- one lock on the notification queue and holds it through the commit, fsync included. So
-- sends in different rooms, which the room locks let run in parallel, committed one at a
-- time, each paying its own fsync: with 32 writers in 32 rooms, 30 backends waited on
-- `Lock:object` while one flushed, and the store did 1,500-1,900 sends/s whatever the cores
-- (docs/benchmarks.md). chatd now appends with chat_append_messages_unannounced, which is
-- 0010's set-based append without the NOTIFYs, and announces the new seqs right after the
-- commit with chat_announce_messages, in a transaction of its own that does not wait for
-- its commit record to reach the disk (the messages are durable already; a notification is
-- never persisted anyway). The appends' commits share fsyncs again (WAL group commit).
--
-- An announcement lost between the two (chatd killed right after the commit) is what the
-- bus already tolerates from a listener reconnect: every instance's periodic position check
-- (--position-check-interval) and resync read the new seqs from the tables.
--
-- chat_append_messages keeps its contract for an older chatd during a rolling upgrade: the
-- same append, then its NOTIFYs in its own transaction, as before.

CREATE FUNCTION chat_append_messages_unannounced(
  p_room uuid, p_senders text[], p_client_msg_ids text[], p_bodies text[], p_reply_tos uuid[]
) RETURNS TABLE (idx integer, message_id uuid, created boolean, error_code text)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  -- The outcome of every send, in input order.
  v_ids uuid[]; v_created boolean[]; v_errors text[];
  -- The sends that create a message, in arrival order, and their new ids.
  v_new integer[]; v_new_ids uuid[];
  v_count integer; v_last bigint; v_first bigint;
  v_grace interval := chat_push_grace();
BEGIN
  PERFORM chat_lock_room(p_room);
  BEGIN
    -- Every check in one statement, each a primary or unique key probe per send (scalar
    -- subqueries, so no plan can turn one into a scan of the room's members or messages).
    -- `creator` is the first send of its (sender, client_msg_id) that can be appended: it
    -- creates the message, later sends of the pair are its duplicates, earlier ones were
    -- refused for their reply-to.
    WITH input AS MATERIALIZED (
      SELECT x.n::integer AS n, x.sender, x.client_msg_id, x.reply_to,
        (SELECT true FROM room_members rm WHERE rm.room_id = p_room AND rm.user_id = x.sender)
          IS NOT NULL AS member,
        (SELECT m.id FROM messages m
         WHERE m.sender_id = x.sender AND m.client_msg_id = x.client_msg_id) AS existing,
        x.reply_to IS NULL OR (
          SELECT true FROM messages r WHERE r.id = x.reply_to AND r.room_id = p_room
        ) IS NOT NULL AS reply_ok
      FROM unnest(p_senders, p_client_msg_ids, p_reply_tos) WITH ORDINALITY
        AS x (sender, client_msg_id, reply_to, n)
    ), ranked AS (
      SELECT i.*, min(i.n) FILTER (WHERE i.member AND i.existing IS NULL AND i.reply_ok)
          OVER (PARTITION BY i.sender, i.client_msg_id) AS creator
      FROM input i
    ), fresh AS MATERIALIZED (
      SELECT r.n, gen_random_uuid() AS id FROM ranked r WHERE r.creator = r.n
    )
    SELECT
      array_agg(CASE WHEN r.member THEN coalesce(r.existing, f.id) END ORDER BY r.n),
      array_agg(coalesce(r.creator = r.n, false) ORDER BY r.n),
      array_agg(CASE
          WHEN NOT r.member THEN 'P0002'
          WHEN r.existing IS NULL AND f.id IS NULL THEN '22023'
        END ORDER BY r.n),
      array_agg(r.n ORDER BY r.n) FILTER (WHERE r.creator = r.n),
      array_agg(f.id ORDER BY r.n) FILTER (WHERE r.creator = r.n)
    INTO v_ids, v_created, v_errors, v_new, v_new_ids
    FROM ranked r LEFT JOIN fresh f ON f.n = r.creator AND r.creator <= r.n;

    v_count := coalesce(cardinality(v_new), 0);
    IF v_count > 0 THEN
      -- One seq bump for the batch: the room's row gets one new version, not one per message.
      UPDATE rooms SET last_seq = last_seq + v_count, last_activity_at = now(),
        last_message_id = v_new_ids[v_count]
      WHERE id = p_room RETURNING last_seq INTO v_last;
      v_first := v_last - v_count + 1;

      -- The messages and their room events, in seq order (the room events' identity, the
      -- firehose's order inside a transaction, follows it).
      WITH added AS (
        INSERT INTO messages (id, room_id, seq, sender_id, client_msg_id, body, reply_to_id)
        SELECT c.id, p_room, v_first + c.k - 1, p_senders[c.n], p_client_msg_ids[c.n],
          p_bodies[c.n], p_reply_tos[c.n]
        FROM unnest(v_new, v_new_ids) WITH ORDINALITY AS c (n, id, k)
        RETURNING id, seq, sender_id
      )
      INSERT INTO room_events (room_id, seq, kind, actor_id, message_id)
      SELECT p_room, a.seq, 1, a.sender_id, a.id FROM added a ORDER BY a.seq;

      -- Each sender's read and delivered pointers move to their last message of the batch.
      -- `user_id = ANY` keeps it a primary-key lookup per sender whatever the estimates.
      WITH last AS (
        SELECT p_senders[c.n] AS sender, max(v_first + c.k - 1) AS seq
        FROM unnest(v_new) WITH ORDINALITY AS c (n, k) GROUP BY 1
      )
      UPDATE room_members rm SET last_read_seq = l.seq, last_delivered_seq = l.seq
      FROM last l
      WHERE rm.room_id = p_room AND rm.user_id = ANY (p_senders) AND rm.user_id = l.sender;

      -- Push rows as chat_append_message writes them, for every message of the batch; whether
      -- a member is online is looked up once per member, not once per message.
      IF v_grace IS NOT NULL THEN
        WITH m AS MATERIALIZED (
          SELECT rm.user_id, chat_member_online(rm.user_id) AS online FROM room_members rm
          WHERE rm.room_id = p_room AND NOT rm.muted
        )
        INSERT INTO push_outbox (kind, user_id, room_id, message_id, seq, next_attempt_at)
        SELECT 1, m.user_id, p_room, c.id, v_first + c.k - 1,
          CASE WHEN m.online THEN now() + v_grace ELSE now() END
        FROM unnest(v_new, v_new_ids) WITH ORDINALITY AS c (n, id, k)
        JOIN m ON m.user_id <> p_senders[c.n]
        ORDER BY c.k, m.user_id;
      END IF;

    END IF;
  EXCEPTION WHEN OTHERS THEN
    RETURN QUERY SELECT * FROM chat_append_messages_each(
      p_room, p_senders, p_client_msg_ids, p_bodies, p_reply_tos);
    RETURN;
  END;
  RETURN QUERY SELECT x.n::integer, x.id, x.created, x.error_code
    FROM unnest(v_ids, v_created, v_errors) WITH ORDINALITY AS x (id, created, error_code, n);
END $$;


-- 0010's contract, for an older chatd during a rolling upgrade: the same append, and its
-- NOTIFYs inside its transaction.
CREATE OR REPLACE FUNCTION chat_append_messages(
  p_room uuid, p_senders text[], p_client_msg_ids text[], p_bodies text[], p_reply_tos uuid[]
) RETURNS TABLE (idx integer, message_id uuid, created boolean, error_code text)
LANGUAGE plpgsql AS $$
DECLARE
  v_row record;
  v_ids uuid[] := '{}';
  v_seq bigint;
BEGIN
  FOR v_row IN SELECT * FROM chat_append_messages_unannounced(
      p_room, p_senders, p_client_msg_ids, p_bodies, p_reply_tos) LOOP
    idx := v_row.idx;
    message_id := v_row.message_id;
    created := v_row.created;
    error_code := v_row.error_code;
    RETURN NEXT;
    IF v_row.created THEN v_ids := v_ids || v_row.message_id; END IF;
  END LOOP;
  FOR v_seq IN SELECT m.seq FROM messages m WHERE m.id = ANY (v_ids) ORDER BY m.seq LOOP
    PERFORM pg_notify('chat_room_events', p_room::text || ':' || v_seq);
  END LOOP;
END $$;

-- The NOTIFYs of new messages, after their transaction committed: one per seq, in order
-- (SubscribeUser's room activity reads each announced seq). Its own transaction commits
-- without waiting for the disk: it wrote nothing durable, and holding the notification
-- queue's lock through an fsync is what this migration removes.
CREATE FUNCTION chat_announce_messages(p_room uuid, p_seqs bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_seq bigint;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  FOREACH v_seq IN ARRAY p_seqs LOOP
    PERFORM pg_notify('chat_room_events', p_room::text || ':' || v_seq);
  END LOOP;
END $$;
