-- Three costs of SendMessage (docs/benchmarks.md, "session 6").
--
-- 1. The foreign keys of messages (room, sender) and room_events (room) were checked once per
--    new row: PostgreSQL queues a trigger per row and runs one locking lookup per trigger, so
--    a batch of 32 messages ran 96 of them, a third of the append. The same guarantees now
--    hold per statement: a trigger on each table looks up the distinct parents of the rows a
--    statement added, once each, with the lock a foreign key takes (FOR KEY SHARE, so a
--    parent cannot go while the child's transaction is open), and fails with the foreign
--    key's SQLSTATE (23503). What the keys did on the parent's side is done by triggers on the
--    parents: deleting a room deletes its messages and events, deleting a user leaves their
--    messages without a sender. Only these three keys change; every other key stays.
--
-- 2. SendMessage's reply was read back after the append with one idempotency-key probe and
--    one chat_messages read (reactions included) per send. chat_send_messages appends and
--    returns the replies in one statement: a new message is read by its id with its sender's
--    profile and its reply-to preview (it has no reactions yet); a duplicate, which may have
--    reactions and edits by now, through chat_messages.
--
-- 3. The announcements of separate rooms' batches queued on PostgreSQL's notification lock,
--    one transaction per batch, and held the pool's connections while they waited:
--    chat_announce_seqs announces any number of rooms' seqs in one transaction.
--
-- chatd 12's statements (chat_append_messages_unannounced, chat_sent_messages,
-- chat_announce_messages) keep their contracts for a rolling upgrade; the first runs
-- chat_send_messages.

ALTER TABLE messages DROP CONSTRAINT messages_room_id_fkey;
ALTER TABLE messages DROP CONSTRAINT messages_sender_id_fkey;
ALTER TABLE room_events DROP CONSTRAINT room_events_room_id_fkey;

-- The rooms of a statement's new rows (`new_rows`, messages or room_events) exist; locked.
CREATE FUNCTION chat_require_rooms() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE v_missing uuid;
BEGIN
  SELECT n.room_id INTO v_missing FROM (SELECT DISTINCT room_id FROM new_rows) n
  WHERE NOT EXISTS (SELECT FROM rooms r WHERE r.id = n.room_id FOR KEY SHARE)
  LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'room % does not exist', v_missing
      USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME;
  END IF;
  RETURN NULL;
END $$;

-- The senders of a statement's new messages exist (or are NULL); locked.
CREATE FUNCTION chat_require_senders() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE v_missing text;
BEGIN
  SELECT n.sender_id INTO v_missing
  FROM (SELECT DISTINCT sender_id FROM new_rows WHERE sender_id IS NOT NULL) n
  WHERE NOT EXISTS (SELECT FROM users u WHERE u.id = n.sender_id FOR KEY SHARE)
  LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'user % does not exist', v_missing
      USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER messages_rooms_exist AFTER INSERT ON messages
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION chat_require_rooms();
CREATE TRIGGER messages_senders_exist AFTER INSERT ON messages
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION chat_require_senders();
CREATE TRIGGER room_events_rooms_exist AFTER INSERT ON room_events
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION chat_require_rooms();

-- chatd never moves a message or an event to another room or sender; an UPDATE that does is
-- checked per row (a trigger with a column list cannot see a transition table). The WHEN
-- clauses keep every other update free of them, clearing a deleted user's messages' sender
-- included.
CREATE FUNCTION chat_require_room_of_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM FROM rooms r WHERE r.id = NEW.room_id FOR KEY SHARE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'room % does not exist', NEW.room_id
      USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME;
  END IF;
  RETURN NEW;
END $$;

CREATE FUNCTION chat_require_sender_of_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM FROM users u WHERE u.id = NEW.sender_id FOR KEY SHARE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'user % does not exist', NEW.sender_id
      USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME;
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER messages_room_on_update BEFORE UPDATE OF room_id ON messages
  FOR EACH ROW WHEN (NEW.room_id IS DISTINCT FROM OLD.room_id)
  EXECUTE FUNCTION chat_require_room_of_row();
CREATE TRIGGER messages_sender_on_update BEFORE UPDATE OF sender_id ON messages
  FOR EACH ROW WHEN (NEW.sender_id IS NOT NULL AND NEW.sender_id IS DISTINCT FROM OLD.sender_id)
  EXECUTE FUNCTION chat_require_sender_of_row();
CREATE TRIGGER room_events_room_on_update BEFORE UPDATE OF room_id ON room_events
  FOR EACH ROW WHEN (NEW.room_id IS DISTINCT FROM OLD.room_id)
  EXECUTE FUNCTION chat_require_room_of_row();

-- The parents' side: ON DELETE CASCADE (rooms) and ON DELETE SET NULL (users), as before.
CREATE FUNCTION chat_delete_room_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM messages m WHERE m.room_id = OLD.id;
  DELETE FROM room_events e WHERE e.room_id = OLD.id;
  RETURN NULL;
END $$;

CREATE TRIGGER rooms_delete_history AFTER DELETE ON rooms
  FOR EACH ROW EXECUTE FUNCTION chat_delete_room_history();

CREATE FUNCTION chat_forget_sender() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE messages m SET sender_id = NULL WHERE m.sender_id = OLD.id;
  RETURN NULL;
END $$;

CREATE TRIGGER users_forget_sender AFTER DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION chat_forget_sender();

-- SendMessage's batch: 0012's append (chat_append_messages_unannounced, whose body moves
-- here), then every send's outcome with its message as its sender sees it (chat_messages'
-- columns; NULL for a refused send). `use_column`: the result's column names (id, seq, body,
-- ...) are also the tables' and mean the tables' wherever both could.
CREATE FUNCTION chat_send_messages(
  p_room uuid, p_senders text[], p_client_msg_ids text[], p_bodies text[], p_reply_tos uuid[]
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
    SELECT array_agg(e.message_id ORDER BY e.idx), array_agg(e.created ORDER BY e.idx),
      array_agg(e.error_code ORDER BY e.idx)
    INTO v_ids, v_created, v_errors
    FROM chat_append_messages_each(p_room, p_senders, p_client_msg_ids, p_bodies, p_reply_tos) e;
  END;

  -- New messages (and refusals): each row, its sender and its reply-to by primary key; a new
  -- message has no reactions yet. Each lookup is a LIMIT 1 lateral probe: as a join, a
  -- generic plan made on small tables hashes them instead (QueryPlanTests).
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
  -- Duplicates, as they are now (edited, reacted to): in a statement of their own, which a
  -- batch without duplicates (nearly every one) does not start.
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

-- chatd 12's append, now the same statement without the replies.
CREATE OR REPLACE FUNCTION chat_append_messages_unannounced(
  p_room uuid, p_senders text[], p_client_msg_ids text[], p_bodies text[], p_reply_tos uuid[]
) RETURNS TABLE (idx integer, message_id uuid, created boolean, error_code text)
LANGUAGE sql AS $$
  SELECT s.idx, s.id, s.created, s.error_code
  FROM chat_send_messages(p_room, p_senders, p_client_msg_ids, p_bodies, p_reply_tos) s
  ORDER BY s.idx
$$;

-- The NOTIFYs of committed sends, for any number of rooms: one per (room, seq) pair, in the
-- order given (RoomEventAnnouncer: one such transaction at a time per chatd instead of one per
-- batch, which queued on PostgreSQL's notification lock). Committed asynchronously, as
-- chat_announce_messages: it writes nothing durable.
CREATE FUNCTION chat_announce_seqs(p_rooms uuid[], p_seqs bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_i integer;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  FOR v_i IN 1 .. coalesce(cardinality(p_seqs), 0) LOOP
    PERFORM pg_notify('chat_room_events', p_rooms[v_i]::text || ':' || p_seqs[v_i]);
  END LOOP;
END $$;
