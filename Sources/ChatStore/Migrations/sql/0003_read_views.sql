-- Read helpers shared by the repositories.

-- Messages by id as the API shows them to p_viewer: sender profile, reply preview, reaction
-- counts (JSON), tombstones without body. Ordered by room and seq.
CREATE FUNCTION chat_messages(p_viewer text, p_ids uuid[])
RETURNS TABLE (
  id uuid, room_id uuid, seq bigint, sender_id text, sender_name text, sender_avatar text,
  client_msg_id text, body text, reply_to_id uuid, reply_sender_id text, reply_body text,
  reply_deleted boolean, reactions json, created_at timestamptz, edited_at timestamptz,
  deleted_at timestamptz
) LANGUAGE sql STABLE AS $$
  SELECT m.id, m.room_id, m.seq, m.sender_id, u.display_name, u.avatar_url, m.client_msg_id,
    CASE WHEN m.deleted_at IS NULL THEN m.body ELSE '' END,
    m.reply_to_id, r.sender_id,
    CASE WHEN r.deleted_at IS NULL THEN left(r.body, 200) ELSE '' END,
    r.deleted_at IS NOT NULL,
    COALESCE((
      SELECT json_agg(json_build_object('emoji', x.emoji, 'count', x.n, 'mine', x.mine)
        ORDER BY x.first_at, x.emoji)
      FROM (
        SELECT emoji, count(*) AS n, bool_or(user_id = p_viewer) AS mine, min(created_at) AS first_at
        FROM reactions WHERE message_id = m.id GROUP BY emoji
      ) x), '[]'::json),
    m.created_at, m.edited_at, m.deleted_at
  FROM messages m
  LEFT JOIN users u ON u.id = m.sender_id
  LEFT JOIN messages r ON r.id = m.reply_to_id
  WHERE m.id = ANY (p_ids)
  ORDER BY m.room_id, m.seq
$$;

-- Members of rooms with profile and presence (online = a live stream on a leased instance).
CREATE FUNCTION chat_members(p_rooms uuid[])
RETURNS TABLE (
  room_id uuid, user_id text, display_name text, avatar_url text, role smallint,
  last_read_seq bigint, last_delivered_seq bigint, muted boolean, joined_at timestamptz,
  online boolean, last_seen_at timestamptz
) LANGUAGE sql STABLE AS $$
  SELECT m.room_id, m.user_id, u.display_name, u.avatar_url, m.role, m.last_read_seq,
    m.last_delivered_seq, m.muted, m.joined_at,
    EXISTS (
      SELECT 1 FROM presence p JOIN instances i ON i.id = p.instance_id
      WHERE p.user_id = m.user_id AND i.lease_expires_at > now()),
    u.last_seen_at
  FROM room_members m JOIN users u ON u.id = m.user_id
  WHERE m.room_id = ANY (p_rooms)
  ORDER BY m.room_id, m.joined_at, m.user_id
$$;
