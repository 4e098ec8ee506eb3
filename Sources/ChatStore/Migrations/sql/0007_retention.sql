-- Retention of the room event log. Old room events may be deleted (messages stay: they are the
-- history GetMessages serves); rooms.pruned_seq records how far, so SubscribeRoom answers
-- OUT_OF_RANGE to a resume point whose following events are gone instead of replaying a log
-- with a silent hole. Adding a column with a constant default is backward compatible: the
-- previous chatd neither reads nor writes it.
ALTER TABLE rooms ADD COLUMN pruned_seq bigint NOT NULL DEFAULT 0;

-- Deletes the room events created before p_before, room by room, each room in its own
-- transaction (CALL it outside a transaction block): the room's row lock (taken by the
-- UPDATE, as a send takes it) is held only while its own events go. Every event with
-- seq <= rooms.pruned_seq may be gone afterwards.
CREATE PROCEDURE chat_prune_room_events(p_before timestamptz)
LANGUAGE plpgsql AS $$
DECLARE v_room record;
BEGIN
  FOR v_room IN
    SELECT e.room_id, max(e.seq) AS seq FROM room_events e
    WHERE e.created_at < p_before GROUP BY e.room_id
  LOOP
    UPDATE rooms SET pruned_seq = GREATEST(pruned_seq, v_room.seq) WHERE id = v_room.room_id;
    DELETE FROM room_events WHERE room_id = v_room.room_id AND seq <= v_room.seq;
    COMMIT;
  END LOOP;
END $$;
