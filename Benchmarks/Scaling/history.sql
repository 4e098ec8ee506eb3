-- History for the store workload of Benchmarks/scaling.sh, written straight into chatd's
-- migrated schema in bulk (generate_series), consistent with its invariants: gap-free seqs
-- 1..rooms.last_seq with one message_created event per message, rooms.last_message_id the
-- last message, read pointers at or below last_seq, unique (sender, client_msg_id).
--
--   psql URL -v rooms=100000 -v sizes='{1000,10000,100000,1000000}' -f history.sql
--
-- Users: `bench` (the reader measured), s1..s9 (senders), f1..f<rooms+1> (filler members).
-- Rooms: <rooms> small group rooms of two filler users with one message each, `bench` in the
-- first 1,000 of them; and one room per size (title h<size>) of ten members (bench, s1..s9)
-- holding <size> messages, bench having 50 of them unread.
SET session_replication_role = replica; -- no per-row FK triggers: the rows are consistent
SET synchronous_commit = off;

INSERT INTO users (id, display_name)
  SELECT id, id FROM unnest(ARRAY['bench', 's1', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9']) id
  UNION ALL SELECT 'f' || i, 'filler ' || i FROM generate_series(1, :rooms + 1) i;

-- The small rooms: one message each, by their first member.
INSERT INTO rooms (id, kind, title, last_seq, last_message_id, created_at, last_activity_at)
  SELECT md5('small' || i)::uuid, 2, 'small ' || i, 3, md5('smallmsg' || i)::uuid,
    now() - interval '30 days', now() - interval '30 days' + i * interval '1 second'
  FROM generate_series(1, :rooms) i;
INSERT INTO room_members (room_id, user_id, role, last_read_seq, last_delivered_seq)
  SELECT md5('small' || i)::uuid, 'f' || (i + k), CASE k WHEN 0 THEN 1 ELSE 3 END, 3, 3
  FROM generate_series(1, :rooms) i, generate_series(0, 1) k;
INSERT INTO room_members (room_id, user_id, role, last_read_seq, last_delivered_seq)
  SELECT md5('small' || i)::uuid, 'bench', 3, 0, 0 FROM generate_series(1, least(:rooms, 1000)) i;
INSERT INTO messages (id, room_id, seq, sender_id, client_msg_id, body, created_at)
  SELECT md5('smallmsg' || i)::uuid, md5('small' || i)::uuid, 3, 'f' || i, 'small-' || i,
    'hello from room ' || i, now() - interval '30 days'
  FROM generate_series(1, :rooms) i;
INSERT INTO room_events (room_id, seq, kind, actor_id, subject_user_id, created_at)
  SELECT md5('small' || i)::uuid, k + 1, 7, 'f' || i, 'f' || (i + k), now() - interval '30 days'
  FROM generate_series(1, :rooms) i, generate_series(0, 1) k;
INSERT INTO room_events (room_id, seq, kind, actor_id, message_id, created_at)
  SELECT md5('small' || i)::uuid, 3, 1, 'f' || i, md5('smallmsg' || i)::uuid, now() - interval '30 days'
  FROM generate_series(1, :rooms) i;

-- The history rooms.
CREATE TEMP TABLE sizes AS SELECT unnest(:'sizes'::bigint[]) AS n;
INSERT INTO rooms (id, kind, title, last_seq, last_message_id, created_at, last_activity_at)
  SELECT md5('h' || n)::uuid, 2, 'h' || n, n, md5('h' || n || ':' || n)::uuid,
    now() - interval '60 days', now()
  FROM sizes;
INSERT INTO room_members (room_id, user_id, role, last_read_seq, last_delivered_seq)
  SELECT md5('h' || n)::uuid, u, CASE u WHEN 'bench' THEN 1 ELSE 3 END,
    CASE u WHEN 'bench' THEN greatest(n - 50, 0) ELSE n END, n
  FROM sizes, unnest(ARRAY['bench', 's1', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9']) u;
INSERT INTO messages (id, room_id, seq, sender_id, client_msg_id, body, created_at)
  SELECT md5('h' || n || ':' || s)::uuid, md5('h' || n)::uuid, s, 's' || (1 + s % 9),
    'h' || n || '-' || s, 'message ' || s || ' of a long history',
    now() - interval '60 days' + s * interval '1 second'
  FROM sizes, generate_series(1, n) s;
INSERT INTO room_events (room_id, seq, kind, actor_id, message_id, created_at)
  SELECT md5('h' || n)::uuid, s, 1, 's' || (1 + s % 9), md5('h' || n || ':' || s)::uuid,
    now() - interval '60 days' + s * interval '1 second'
  FROM sizes, generate_series(1, n) s;

RESET session_replication_role;
VACUUM ANALYZE;
