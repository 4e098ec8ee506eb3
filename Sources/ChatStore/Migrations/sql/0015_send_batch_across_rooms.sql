-- SendMessage's group commit across rooms. Until now a batch held one room's sends: with
-- sends spread over many rooms (a chat service's usual load) each was a batch, a transaction
-- and a commit of its own, and the database spent about 0.7 ms of CPU on each against about
-- 0.1 ms per send in a batch of 16 (docs/benchmarks.md, "session 6"): 32 writers in 32 rooms
-- ran at a fifth of the rate of 32 writers in one room. chat_send_batch takes the room of each
-- send, so chatd's batches gather the sends of every idle room:
-- - each room's lock is taken before anything is checked, in one order (the lock's key) for
--   every batch, so two batches that share rooms wait for each other and never deadlock;
-- - every statement is the set-based one of migration 13 with the room per send: the checks
--   (membership in the send's room, a reply-to in the send's room), one seq bump per room
--   (each room's new messages take its next seqs in arrival order), the messages and their
--   events, each sender's pointers per room, the push rows of each room's members;
-- - idempotency on (sender, client_msg_id) is the table's, so it spans rooms as before: the
--   first send of a pair that can be appended creates the message, later ones in the batch
--   (in any room) get its id with created = false;
-- - anything the checks cannot foresee reruns the batch one send at a time in arrival order
--   through 0006's loop, as migration 13 did, so such a send fails alone.
-- chat_send_messages keeps its contract for chatd 14 during a rolling upgrade: a batch whose
-- sends are all in its room.

CREATE FUNCTION chat_send_batch(
  p_rooms uuid[], p_senders text[], p_client_msg_ids text[], p_bodies text[], p_reply_tos uuid[]
) RETURNS TABLE (
  idx integer, created boolean, error_code text,
  id uuid, room_id uuid, seq bigint, sender_id text, sender_name text, sender_avatar text,
  client_msg_id text, body text, reply_to_id uuid, reply_sender_id text, reply_body text,
  reply_deleted boolean, reactions json, created_at timestamptz, edited_at timestamptz,
  deleted_at timestamptz
) LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
  -- The outcome of every send, in input order.
  v_ids uuid[]; v_created boolean[]; v_errors text[];
  -- The sends that create a message, in arrival order, their new ids and their seqs.
  v_new integer[]; v_new_ids uuid[]; v_seqs bigint[];
  -- Each room's seq before the batch.
  v_bumped_rooms uuid[] := '{}'; v_bases bigint[] := '{}';
  v_room uuid; v_added bigint; v_last_id uuid; v_base bigint;
  v_room_senders text[]; v_room_ranks bigint[];
  v_i integer;
  v_id uuid; v_made boolean; v_error text;
  v_grace interval := chat_push_grace();
BEGIN
  FOR v_room IN
    SELECT r.room FROM (SELECT DISTINCT x.room FROM unnest(p_rooms) AS x (room)) r
    ORDER BY hashtext(r.room::text), r.room
  LOOP
    PERFORM chat_lock_room(v_room);
  END LOOP;
  BEGIN
    -- Every check in one statement, each a primary or unique key probe per send, as in
    -- migration 13, in the send's own room.
    WITH input AS MATERIALIZED (
      SELECT x.n::integer AS n, x.room, x.sender, x.client_msg_id, x.reply_to,
        (SELECT true FROM room_members rm WHERE rm.room_id = x.room AND rm.user_id = x.sender)
          IS NOT NULL AS member,
        (SELECT m.id FROM messages m
         WHERE m.sender_id = x.sender AND m.client_msg_id = x.client_msg_id) AS existing,
        x.reply_to IS NULL OR (
          SELECT true FROM messages r WHERE r.id = x.reply_to AND r.room_id = x.room
        ) IS NOT NULL AS reply_ok
      FROM unnest(p_rooms, p_senders, p_client_msg_ids, p_reply_tos) WITH ORDINALITY
        AS x (room, sender, client_msg_id, reply_to, n)
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

    IF coalesce(cardinality(v_new), 0) > 0 THEN
      -- Per room, by primary key: one seq bump (the room's row gets one new version, not one
      -- per message; its new messages take the seqs after its old last_seq in arrival order),
      -- and each sender's read and delivered pointers to their last message of the batch. A
      -- statement per room rather than one for all rooms: planned generically while the
      -- tables were small, a join of the batch against rooms scans the table
      -- (QueryPlanTests), and `room_id = ANY (rooms) AND user_id = ANY (senders)` probes
      -- every pair of the two lists.
      FOR v_room, v_added, v_last_id, v_room_senders, v_room_ranks IN
        WITH c AS (
          SELECT x.n, x.id, p_rooms[x.n] AS room, p_senders[x.n] AS sender,
            row_number() OVER (PARTITION BY p_rooms[x.n] ORDER BY x.n) AS k
          FROM unnest(v_new, v_new_ids) AS x (n, id)
        ), per_sender AS (
          SELECT c.room, c.sender, max(c.k) AS k FROM c GROUP BY 1, 2
        )
        SELECT c.room, count(*), (array_agg(c.id ORDER BY c.n DESC))[1],
          (SELECT array_agg(p.sender) FROM per_sender p WHERE p.room = c.room),
          (SELECT array_agg(p.k) FROM per_sender p WHERE p.room = c.room)
        FROM c GROUP BY c.room
      LOOP
        UPDATE rooms SET last_seq = last_seq + v_added, last_activity_at = now(),
          last_message_id = v_last_id
        WHERE id = v_room RETURNING last_seq - v_added INTO v_base;
        UPDATE room_members rm SET last_read_seq = v_base + s.k, last_delivered_seq = v_base + s.k
        FROM unnest(v_room_senders, v_room_ranks) AS s (sender, k)
        WHERE rm.room_id = v_room AND rm.user_id = ANY (v_room_senders) AND rm.user_id = s.sender;
        v_bumped_rooms := v_bumped_rooms || v_room;
        v_bases := v_bases || v_base;
      END LOOP;
      SELECT array_agg(b.base + c.k ORDER BY c.n) INTO v_seqs
      FROM (
        SELECT c.n, row_number() OVER (PARTITION BY p_rooms[c.n] ORDER BY c.n) AS k
        FROM unnest(v_new) AS c (n)
      ) c
      JOIN unnest(v_bumped_rooms, v_bases) AS b (room, base) ON b.room = p_rooms[c.n];

      -- The messages and their room events, each room's in seq order (the room events'
      -- identity, the firehose's order inside a transaction, follows it).
      WITH added AS (
        INSERT INTO messages (id, room_id, seq, sender_id, client_msg_id, body, reply_to_id)
        SELECT c.id, p_rooms[c.n], c.seq, p_senders[c.n], p_client_msg_ids[c.n],
          p_bodies[c.n], p_reply_tos[c.n]
        FROM unnest(v_new, v_new_ids, v_seqs) AS c (n, id, seq)
        RETURNING id, room_id, seq, sender_id
      )
      INSERT INTO room_events (room_id, seq, kind, actor_id, message_id)
      SELECT a.room_id, a.seq, 1, a.sender_id, a.id FROM added a ORDER BY a.room_id, a.seq;

      -- Push rows for every message of the batch; whether a member is online is looked up
      -- once per membership, not once per message.
      IF v_grace IS NOT NULL THEN
        WITH m AS MATERIALIZED (
          SELECT rm.room_id, rm.user_id, chat_member_online(rm.user_id) AS online
          FROM room_members rm
          WHERE rm.room_id = ANY (p_rooms) AND NOT rm.muted
        )
        INSERT INTO push_outbox (kind, user_id, room_id, message_id, seq, next_attempt_at)
        SELECT 1, m.user_id, m.room_id, c.id, c.seq,
          CASE WHEN m.online THEN now() + v_grace ELSE now() END
        FROM unnest(v_new, v_new_ids, v_seqs) AS c (n, id, seq)
        JOIN m ON m.room_id = p_rooms[c.n] AND m.user_id <> p_senders[c.n]
        ORDER BY m.room_id, c.seq, m.user_id;
      END IF;
    END IF;
  EXCEPTION WHEN OTHERS THEN
    -- One send at a time, in arrival order, each in a subtransaction of its own (0006).
    v_ids := '{}'; v_created := '{}'; v_errors := '{}';
    FOR v_i IN 1 .. coalesce(cardinality(p_senders), 0) LOOP
      SELECT e.message_id, e.created, e.error_code INTO v_id, v_made, v_error
      FROM chat_append_messages_each(p_rooms[v_i], p_senders[v_i:v_i],
        p_client_msg_ids[v_i:v_i], p_bodies[v_i:v_i], p_reply_tos[v_i:v_i]) e;
      v_ids := v_ids || v_id;
      v_created := v_created || v_made;
      v_errors := v_errors || v_error;
    END LOOP;
  END;

  -- The replies, as migration 13 reads them: new messages (and refusals) by primary key,
  -- duplicates through chat_messages in a statement that a batch without them never starts.
  RETURN QUERY
  SELECT x.n::integer, x.created, x.error_code, m.id, m.room_id, m.seq, m.sender_id,
    u.display_name, u.avatar_url, m.client_msg_id, m.body, m.reply_to_id, r.sender_id,
    CASE WHEN r.deleted_at IS NULL THEN left(r.body, 200) ELSE '' END,
    r.deleted_at IS NOT NULL, CASE WHEN m.id IS NOT NULL THEN '[]'::json END, m.created_at,
    m.edited_at, m.deleted_at
  FROM unnest(v_ids, v_created, v_errors) WITH ORDINALITY AS x (id, created, error_code, n)
  LEFT JOIN LATERAL (
    SELECT m1.id, m1.room_id, m1.seq, m1.sender_id, m1.client_msg_id, m1.body, m1.reply_to_id,
      m1.created_at, m1.edited_at, m1.deleted_at
    FROM messages m1 WHERE x.created AND m1.id = x.id LIMIT 1
  ) m ON true
  LEFT JOIN LATERAL (
    SELECT u1.display_name, u1.avatar_url FROM users u1 WHERE u1.id = m.sender_id LIMIT 1
  ) u ON true
  LEFT JOIN LATERAL (
    SELECT r1.sender_id, r1.body, r1.deleted_at FROM messages r1
    WHERE r1.id = m.reply_to_id LIMIT 1
  ) r ON true
  WHERE x.created OR x.id IS NULL;
  IF EXISTS (
    SELECT FROM unnest(v_ids, v_created) AS d (id, created) WHERE d.id IS NOT NULL AND NOT d.created
  ) THEN
    RETURN QUERY
    SELECT x.n::integer, false, NULL::text, c.*
    FROM unnest(v_ids, v_created) WITH ORDINALITY AS x (id, created, n)
    CROSS JOIN LATERAL chat_messages(p_senders[x.n], ARRAY[x.id]) c
    WHERE x.id IS NOT NULL AND NOT x.created;
  END IF;
END $$;

-- chatd 14's batch: every send in one room. The append and its replies live in one place.
CREATE OR REPLACE FUNCTION chat_send_messages(
  p_room uuid, p_senders text[], p_client_msg_ids text[], p_bodies text[], p_reply_tos uuid[]
) RETURNS TABLE (
  idx integer, created boolean, error_code text,
  id uuid, room_id uuid, seq bigint, sender_id text, sender_name text, sender_avatar text,
  client_msg_id text, body text, reply_to_id uuid, reply_sender_id text, reply_body text,
  reply_deleted boolean, reactions json, created_at timestamptz, edited_at timestamptz,
  deleted_at timestamptz
) LANGUAGE sql AS $$
  SELECT * FROM chat_send_batch(
    array_fill(p_room, ARRAY[coalesce(cardinality(p_senders), 0)]), p_senders,
    p_client_msg_ids, p_bodies, p_reply_tos)
$$;
