-- chat_append_messages as in 0006, but set-based: one statement per table for the whole batch
-- instead of chat_append_message (about ten statements) per send, each in a subtransaction of
-- its own. With group commit the commits were shared already; what remained was the server's
-- CPU per message (docs/benchmarks.md, "Store"): a subtransaction and ten statements per send,
-- and the room's row and each sender's membership row updated once per message, each update
-- walking a longer HOT chain of the transaction's own versions and firing the foreign-key
-- checks again (PostgreSQL skips them only for rows another transaction wrote). Same
-- signature and results: an older chatd calls it unchanged, and the outcome of every send is
-- what 0006 gave:
-- - each send is checked on its own (membership of its sender, its reply-to), and a refused
--   one fails alone with its SQLSTATE (P0002 not a member, 22023 reply-to elsewhere);
-- - idempotency on (sender, client_msg_id), against the table (a retry of a committed send,
--   created = false) and inside the batch (the first send of a pair that can be appended
--   creates the message, the later ones get its id with created = false; an earlier one that
--   was refused does not count, as in 0006 where its subtransaction was rolled back);
-- - the new messages take gap-free seqs in arrival order, and their room events, push rows
--   and NOTIFYs (still one per message: SubscribeUser's room activity reads each announced
--   seq) come in that order too.
-- Anything the checks cannot foresee (a unique violation against a concurrent send of the
-- same (sender, client_msg_id) to another room, which the room lock does not serialize) rolls
-- the set-based attempt back and reruns the batch through 0006's loop, kept for that under
-- another name, so such a send still fails alone.
ALTER FUNCTION chat_append_messages(uuid, text[], text[], text[], uuid[])
  RENAME TO chat_append_messages_each;

-- Generic plans, made once per session: for a small batch the planner prefers a custom plan
-- (its generic estimate is 100 rows per array) and would plan every statement again on every
-- call, which cost a one-send batch more than running it. The generic plans probe keys
-- whatever the table sizes (QueryPlanTests plans them on empty tables).
CREATE FUNCTION chat_append_messages(
  p_room uuid, p_senders text[], p_client_msg_ids text[], p_bodies text[], p_reply_tos uuid[]
) RETURNS TABLE (idx integer, message_id uuid, created boolean, error_code text)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  -- The outcome of every send, in input order.
  v_ids uuid[]; v_created boolean[]; v_errors text[];
  -- The sends that create a message, in arrival order, and their new ids.
  v_new integer[]; v_new_ids uuid[];
  v_count integer; v_last bigint; v_first bigint; v_seq bigint;
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

      -- A loop of simple expressions: a statement over generate_series would be planned
      -- again on every call (its generic plan expects 1,000 rows).
      FOR v_seq IN v_first .. v_last LOOP
        PERFORM pg_notify('chat_room_events', p_room::text || ':' || v_seq);
      END LOOP;
    END IF;
  EXCEPTION WHEN OTHERS THEN
    RETURN QUERY SELECT * FROM chat_append_messages_each(
      p_room, p_senders, p_client_msg_ids, p_bodies, p_reply_tos);
    RETURN;
  END;
  RETURN QUERY SELECT x.n::integer, x.id, x.created, x.error_code
    FROM unnest(v_ids, v_created, v_errors) WITH ORDINALITY AS x (id, created, error_code, n);
END $$;

-- SendMessage's reply: the message of each send of a batch, by (sender, client_msg_id), as
-- its sender sees it (chat_messages). The statement used to be sent on its own with every
-- batch and planned each time, which cost the server several times its execution; in a
-- function its generic plan stays cached in the session (forced, as above).
CREATE FUNCTION chat_sent_messages(p_senders text[], p_client_msg_ids text[])
RETURNS TABLE (
  idx integer, id uuid, room_id uuid, seq bigint, sender_id text, sender_name text,
  sender_avatar text, client_msg_id text, body text, reply_to_id uuid, reply_sender_id text,
  reply_body text, reply_deleted boolean, reactions json, created_at timestamptz,
  edited_at timestamptz, deleted_at timestamptz
) LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
  -- The LIMIT keeps the lookup a probe of the idempotency key per send: as a join, the
  -- session's cached generic plan (made for the sixth call, maybe while the table was empty)
  -- hashed the sends and read every message.
  RETURN QUERY SELECT x.n::integer, v.*
    FROM unnest(p_senders, p_client_msg_ids) WITH ORDINALITY AS x (sender, msg, n)
    CROSS JOIN LATERAL (
      SELECT m.id FROM messages m WHERE m.sender_id = x.sender AND m.client_msg_id = x.msg
      LIMIT 1
    ) m
    CROSS JOIN LATERAL chat_messages(x.sender, ARRAY[m.id]) v;
END $$;
