-- The whole chatd schema. Ids of users come from JWT `sub` (opaque text); rooms and messages
-- get UUIDs. Rooms and messages are never hard-deleted by the API (messages become
-- tombstones), so foreign keys pointing at them need no supporting index for deletes.

CREATE TABLE users (
  id text PRIMARY KEY,
  display_name text NOT NULL DEFAULT '',
  avatar_url text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz,
  -- The user's notification log: the last seq handed out and the last one marked read.
  notification_seq bigint NOT NULL DEFAULT 0,
  notifications_read_seq bigint NOT NULL DEFAULT 0
);

CREATE TABLE rooms (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind smallint NOT NULL CHECK (kind IN (1, 2)), -- 1 direct, 2 group
  title text NOT NULL DEFAULT '',
  -- A direct room's two users, ordered, so one pair has one room.
  direct_user_low text REFERENCES users ON DELETE SET NULL,
  direct_user_high text REFERENCES users ON DELETE SET NULL,
  last_seq bigint NOT NULL DEFAULT 0,
  last_message_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_activity_at timestamptz NOT NULL DEFAULT now()
);
-- StartChat's get-or-create; also the FK SET NULL of user deletion (low side).
CREATE UNIQUE INDEX rooms_direct_pair ON rooms (direct_user_low, direct_user_high) WHERE kind = 1;
-- FK SET NULL of user deletion (high side).
CREATE INDEX rooms_direct_high ON rooms (direct_user_high) WHERE kind = 1;

CREATE TABLE room_members (
  room_id uuid NOT NULL REFERENCES rooms ON DELETE CASCADE,
  user_id text NOT NULL REFERENCES users ON DELETE CASCADE,
  role smallint NOT NULL CHECK (role IN (1, 2, 3)), -- 1 owner, 2 admin, 3 member
  last_read_seq bigint NOT NULL DEFAULT 0,
  last_delivered_seq bigint NOT NULL DEFAULT 0,
  muted boolean NOT NULL DEFAULT false,
  joined_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (room_id, user_id)
);
-- ListRooms, search scope, user deletion.
CREATE INDEX room_members_by_user ON room_members (user_id);

CREATE TABLE messages (
  id uuid PRIMARY KEY,
  room_id uuid NOT NULL REFERENCES rooms ON DELETE CASCADE,
  seq bigint NOT NULL,
  sender_id text REFERENCES users ON DELETE SET NULL,
  client_msg_id text NOT NULL,
  body text NOT NULL,
  reply_to_id uuid REFERENCES messages,
  created_at timestamptz NOT NULL DEFAULT now(),
  edited_at timestamptz,
  deleted_at timestamptz,
  search tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED,
  -- GetMessages before/after seq, unread counts.
  CONSTRAINT messages_room_seq UNIQUE (room_id, seq),
  -- SendMessage idempotency; also user deletion's tombstoning and FK SET NULL.
  CONSTRAINT messages_idempotency UNIQUE (sender_id, client_msg_id)
);
-- SearchMessages.
CREATE INDEX messages_search ON messages USING gin (search);

CREATE TABLE reactions (
  message_id uuid NOT NULL REFERENCES messages ON DELETE CASCADE,
  user_id text NOT NULL REFERENCES users ON DELETE CASCADE,
  emoji text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Counts per message (prefix), add/remove.
  PRIMARY KEY (message_id, emoji, user_id)
);
-- FK CASCADE of user deletion.
CREATE INDEX reactions_by_user ON reactions (user_id);

-- The per-room event log. seq is gap-free per room; xid orders commits for the firehose.
CREATE TABLE room_events (
  room_id uuid NOT NULL REFERENCES rooms ON DELETE CASCADE,
  seq bigint NOT NULL,
  kind smallint NOT NULL,
  actor_id text,
  message_id uuid,
  subject_user_id text,
  value bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  id bigint GENERATED ALWAYS AS IDENTITY,
  -- SubscribeRoom replay.
  PRIMARY KEY (room_id, seq)
);
-- SubscribeAllRooms: rows in (xid, id) order below the snapshot's xmin.
CREATE INDEX room_events_firehose ON room_events (xid, id);

CREATE TABLE follows (
  follower_id text NOT NULL REFERENCES users ON DELETE CASCADE,
  followee_id text NOT NULL REFERENCES users ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (follower_id <> followee_id),
  -- Follow/Unfollow, GetRelationship, following count, FK CASCADE (follower side).
  PRIMARY KEY (follower_id, followee_id)
);
-- ListFollowing pages (newest first).
CREATE INDEX follows_following ON follows (follower_id, created_at DESC, followee_id);
-- ListFollowers pages, follower count, FK CASCADE (followee side).
CREATE INDEX follows_followers ON follows (followee_id, created_at DESC, follower_id);

CREATE TABLE notifications (
  user_id text NOT NULL REFERENCES users ON DELETE CASCADE,
  seq bigint NOT NULL,
  kind smallint NOT NULL, -- 1 followed, 2 added to room, 3 removed from room
  actor_id text REFERENCES users ON DELETE SET NULL,
  room_id uuid REFERENCES rooms ON DELETE CASCADE,
  deep_link text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  -- ListNotifications, SubscribeUser replay.
  PRIMARY KEY (user_id, seq)
);
-- FK SET NULL of user deletion (the actor side).
CREATE INDEX notifications_by_actor ON notifications (actor_id);

-- Pushes for offline recipients, written in the message's transaction.
CREATE TABLE push_outbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id text NOT NULL REFERENCES users ON DELETE CASCADE,
  room_id uuid NOT NULL REFERENCES rooms ON DELETE CASCADE,
  message_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error text
);
-- The push worker's claim of due rows.
CREATE INDEX push_outbox_due ON push_outbox (next_attempt_at, id);
-- FK CASCADE of user deletion.
CREATE INDEX push_outbox_by_user ON push_outbox (user_id);

-- Live chatd processes; a process whose lease expired is dead and its presence rows go.
CREATE TABLE instances (
  id text PRIMARY KEY,
  started_at timestamptz NOT NULL DEFAULT now(),
  lease_expires_at timestamptz NOT NULL
);
-- Open SubscribeUser streams per user and instance.
CREATE TABLE presence (
  user_id text NOT NULL REFERENCES users ON DELETE CASCADE,
  instance_id text NOT NULL REFERENCES instances ON DELETE CASCADE,
  streams integer NOT NULL CHECK (streams > 0),
  -- Online lookups by user.
  PRIMARY KEY (user_id, instance_id)
);
-- FK CASCADE when a dead instance is reaped.
CREATE INDEX presence_by_instance ON presence (instance_id);
