-- chat_mark_delivered_many as in 0004, but the size of a room (whether it gets `delivered`
-- events) is counted once per room in the batch, and only up to p_event_max_members + 1.
-- It was counted for every pair: a batch for the 250 online members of a 250-member room
-- counted 250 rows 250 times, and cost the database twice what the room's appends did
-- (docs/scaling.md). Same signature and results: an older chatd calls it unchanged.
CREATE OR REPLACE FUNCTION chat_mark_delivered_many(
  p_rooms uuid[], p_users text[], p_seqs bigint[], p_event_max_members integer
) RETURNS TABLE (room_id uuid, user_id text, last_delivered_seq bigint)
LANGUAGE plpgsql AS $$
DECLARE v_pair record; v_old bigint; v_new bigint; v_last bigint;
  v_counted uuid; v_small boolean;
BEGIN
  FOR v_pair IN
    SELECT x.room, x.usr, x.seq FROM unnest(p_rooms, p_users, p_seqs) AS x (room, usr, seq)
    ORDER BY x.room, x.usr
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
