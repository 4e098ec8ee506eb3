-- Whether a member is online, as a scalar subquery with LIMIT 1: one probe of presence's
-- primary key per member. Written as EXISTS (as chat_members had it), the planner may turn
-- it into a hashed subplan that reads every presence row of every instance for a page of
-- rooms (QueryPlanTests caught it); the LIMIT keeps it a per-member lookup. Inlined.
CREATE FUNCTION chat_member_online(p_user text) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT COALESCE((
    SELECT true FROM presence p JOIN instances i ON i.id = p.instance_id
    WHERE p.user_id = p_user AND i.lease_expires_at > now() LIMIT 1), false)
$$;

-- chat_members as in 0003, with chat_member_online.
CREATE OR REPLACE FUNCTION chat_members(p_rooms uuid[])
RETURNS TABLE (
  room_id uuid, user_id text, display_name text, avatar_url text, role smallint,
  last_read_seq bigint, last_delivered_seq bigint, muted boolean, joined_at timestamptz,
  online boolean, last_seen_at timestamptz
) LANGUAGE sql STABLE AS $$
  SELECT m.room_id, m.user_id, u.display_name, u.avatar_url, m.role, m.last_read_seq,
    m.last_delivered_seq, m.muted, m.joined_at, chat_member_online(m.user_id), u.last_seen_at
  FROM room_members m JOIN users u ON u.id = m.user_id
  WHERE m.room_id = ANY (p_rooms)
  ORDER BY m.room_id, m.joined_at, m.user_id
$$;

-- The members among p_users of the rooms p_rooms, as chat_members shows them. The detail
-- statement of a page of room events (the users its join/leave events name) called
-- chat_members for the whole room and filtered afterwards: its arguments are subqueries, so
-- PostgreSQL cannot inline the function and push the filter in. Every page read of a room of
-- 250 members, on every instance, read 250 members and their presence to return the few
-- (usually none) the page names (docs/scaling.md). A new function: older chatd is unaffected.
CREATE FUNCTION chat_members_of(p_rooms uuid[], p_users text[])
RETURNS TABLE (
  room_id uuid, user_id text, display_name text, avatar_url text, role smallint,
  last_read_seq bigint, last_delivered_seq bigint, muted boolean, joined_at timestamptz,
  online boolean, last_seen_at timestamptz
) LANGUAGE sql STABLE AS $$
  SELECT m.room_id, m.user_id, u.display_name, u.avatar_url, m.role, m.last_read_seq,
    m.last_delivered_seq, m.muted, m.joined_at, chat_member_online(m.user_id), u.last_seen_at
  FROM room_members m JOIN users u ON u.id = m.user_id
  WHERE m.room_id = ANY (p_rooms) AND m.user_id = ANY (p_users)
  ORDER BY m.room_id, m.joined_at, m.user_id
$$;
