-- SendMessage's group commit across rooms, with a statement per batch instead of per room.
-- Migration 15 took each room's lock, bumped its seq and moved its senders' pointers in
-- statements of their own, three per room: each statement's start-up in the function cost
-- about as much as the work, so every room in a batch added about 0.1 ms of database time
-- (docs/benchmarks.md, "session 8"), and sends spread over many rooms (a chat service's
-- usual load) ran at half the rate of sends in one room. Now:
-- - every room's lock is taken by one statement, in the same order (the lock's key) as
--   before, so batches that share rooms still wait for each other and never deadlock;
-- - one statement bumps every room's seq and moves every sender's pointers, by primary key,
--   and gives the new messages their seqs (its updates join the batch to `rooms` and
--   `room_members`: the function plans without hash and merge joins, so that a generic plan
--   made while the tables were small still probes their keys once they are large);
-- - the push rows are read per room through laterals (see there);
-- - everything else, its checks, its fallback and its replies, is migration 15's.
-- And every function that locks several rooms now takes their locks in one order (below).

CREATE OR REPLACE FUNCTION chat_send_batch(
  p_rooms uuid[], p_senders text[], p_client_msg_ids text[], p_bodies text[], p_reply_tos uuid[]
) RETURNS TABLE (
  idx integer, created boolean, error_code text,
  id uuid, room_id uuid, seq bigint, sender_id text, sender_name text, sender_avatar text,
  client_msg_id text, body text, reply_to_id uuid, reply_sender_id text, reply_body text,
  reply_deleted boolean, reactions json, created_at timestamptz, edited_at timestamptz,
  deleted_at timestamptz
) LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan SET enable_hashjoin = off
  SET enable_mergejoin = off AS $$
#variable_conflict use_column
DECLARE
  -- The outcome of every send, in input order.
  v_ids uuid[]; v_created boolean[]; v_errors text[];
  -- The sends that create a message, in arrival order, their new ids and their seqs.
  v_new integer[]; v_new_ids uuid[]; v_seqs bigint[];
  v_i integer;
  v_id uuid; v_made boolean; v_error text;
  v_grace interval := chat_push_grace();
BEGIN
  -- Every room's lock in one statement, in the lock's key order (the subquery's order is the
  -- order of the calls).
  PERFORM chat_lock_room(r.room)
  FROM (
    SELECT d.room FROM (SELECT DISTINCT x.room FROM unnest(p_rooms) AS x (room)) d
    ORDER BY hashtext(d.room::text), d.room
  ) r;
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
      -- Every room's seq bump and its senders' pointers in one statement: each room's row gets
      -- one new version (its new messages take the seqs after its old last_seq in arrival
      -- order), and each sender's read and delivered pointers move to their last message of
      -- the batch. Both updates probe primary keys per room and per (room, sender); the
      -- function's settings keep generic plans from joining them as hashes over whole tables.
      WITH c AS (
        SELECT x.n, x.id, p_rooms[x.n] AS room, p_senders[x.n] AS sender,
          row_number() OVER (PARTITION BY p_rooms[x.n] ORDER BY x.n) AS k
        FROM unnest(v_new, v_new_ids) AS x (n, id)
      ), per_room AS (
        SELECT c.room, count(*) AS added, (array_agg(c.id ORDER BY c.n DESC))[1] AS last_id
        FROM c GROUP BY c.room
      ), bumped AS (
        UPDATE rooms r SET last_seq = r.last_seq + p.added, last_activity_at = now(),
          last_message_id = p.last_id
        FROM per_room p WHERE r.id = p.room
        RETURNING r.id AS room, r.last_seq - p.added AS base
      ), pointers AS (
        UPDATE room_members rm SET last_read_seq = b.base + s.k, last_delivered_seq = b.base + s.k
        FROM (SELECT c.room, c.sender, max(c.k) AS k FROM c GROUP BY 1, 2) s
        JOIN bumped b ON b.room = s.room
        WHERE rm.room_id = s.room AND rm.user_id = s.sender
      )
      -- A left join keeps the seqs aligned with v_new: a room that is gone leaves a NULL seq,
      -- which the insert below refuses, and the batch goes one send at a time.
      SELECT array_agg(b.base + c.k ORDER BY c.n) INTO v_seqs
      FROM c LEFT JOIN bumped b ON b.room = c.room;

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

      -- Push rows for every message of the batch: per room, its members (a key probe), each
      -- one's presence looked up once per membership, then the room's new messages. Laterals,
      -- not a join of the messages against the members: the function plans without hash
      -- joins, and a nested loop over both lists would cost messages x memberships.
      IF v_grace IS NOT NULL THEN
        INSERT INTO push_outbox (kind, user_id, room_id, message_id, seq, next_attempt_at)
        SELECT 1, m.user_id, g.room, x.id, x.seq,
          CASE WHEN m.online THEN now() + v_grace ELSE now() END
        FROM (
          SELECT p_rooms[c.n] AS room, array_agg(c.id ORDER BY c.seq) AS ids,
            array_agg(c.seq ORDER BY c.seq) AS seqs,
            array_agg(p_senders[c.n] ORDER BY c.seq) AS senders
          FROM unnest(v_new, v_new_ids, v_seqs) AS c (n, id, seq) GROUP BY 1
        ) g
        CROSS JOIN LATERAL (
          -- OFFSET 0 keeps the presence lookup here, once per member, instead of letting the
          -- planner pull it up to every row below.
          SELECT rm.user_id, chat_member_online(rm.user_id) AS online
          FROM room_members rm WHERE rm.room_id = g.room AND NOT rm.muted OFFSET 0
        ) m
        CROSS JOIN LATERAL unnest(g.ids, g.seqs, g.senders) AS x (id, seq, sender)
        WHERE m.user_id <> x.sender
        ORDER BY g.room, x.seq, m.user_id;
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

-- The other functions that lock several rooms took them in the rooms' id order, and the send
-- batch (since migration 15) in the lock's key order: a batch and a delivered-pointer batch
-- or a user's deletion over two rooms whose orders differ could deadlock, and PostgreSQL then
-- failed one of them (for a send batch, every send in it). Both now lock in key order, which
-- stays deadlock-free when two rooms share a key. Otherwise as in 0008 and 0002.
CREATE OR REPLACE FUNCTION chat_mark_delivered_many(
  p_rooms uuid[], p_users text[], p_seqs bigint[], p_event_max_members integer
) RETURNS TABLE (room_id uuid, user_id text, last_delivered_seq bigint)
LANGUAGE plpgsql AS $$
DECLARE v_pair record; v_old bigint; v_new bigint; v_last bigint;
  v_counted uuid; v_small boolean;
BEGIN
  FOR v_pair IN
    SELECT x.room, x.usr, x.seq FROM unnest(p_rooms, p_users, p_seqs) AS x (room, usr, seq)
    ORDER BY hashtext(x.room::text), x.room, x.usr
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
    -- Pairs come sorted by room and the room's lock is held: its members cannot change
    -- between its pairs.
    IF v_counted IS DISTINCT FROM v_pair.room THEN
      v_counted := v_pair.room;
      v_small := (SELECT count(*) FROM (
          SELECT 1 FROM room_members c WHERE c.room_id = v_pair.room
          LIMIT p_event_max_members + 1) c) <= p_event_max_members;
    END IF;
    IF v_small THEN
      PERFORM chat_room_event(v_pair.room, 6::smallint, v_pair.usr, NULL, v_pair.usr, v_new, false);
    END IF;
    room_id := v_pair.room; user_id := v_pair.usr; last_delivered_seq := v_new;
    RETURN NEXT;
  END LOOP;
END $$;

CREATE OR REPLACE FUNCTION chat_delete_user(p_user text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE v_room uuid;
BEGIN
  -- Every room lock first, in the lock's key order, as every function that locks rooms.
  PERFORM chat_lock_room(r.room_id) FROM (
    SELECT room_id FROM room_members WHERE user_id = p_user
    ORDER BY hashtext(room_id::text), room_id) r;
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
