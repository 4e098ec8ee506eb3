-- AddMembers and CreateGroup take their new members in one order (by user id). Each new
-- member's notification locks the member's user row until commit; two groups created at once
-- with the same members listed in different orders locked them in different orders and
-- deadlocked (PostgreSQL aborted one after its deadlock timeout: ABORTED for the client).
-- The member_joined events of one call follow the same order.
CREATE OR REPLACE FUNCTION chat_add_members(p_room uuid, p_actor text, p_users text[], p_check boolean)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE v_role smallint; v_kind smallint; v_user text; v_added integer := 0;
BEGIN
  PERFORM chat_lock_room(p_room);
  SELECT kind INTO v_kind FROM rooms WHERE id = p_room;
  IF NOT FOUND THEN RAISE EXCEPTION 'room not found' USING ERRCODE = 'P0002'; END IF;
  IF p_check THEN
    v_role := chat_require_member(p_room, p_actor);
    IF v_kind = 1 THEN RAISE EXCEPTION 'direct room' USING ERRCODE = '22023'; END IF;
    IF v_role NOT IN (1, 2) THEN RAISE EXCEPTION 'not an admin' USING ERRCODE = '42501'; END IF;
  END IF;
  FOREACH v_user IN ARRAY ARRAY(SELECT DISTINCT u FROM unnest(p_users) AS u ORDER BY u) LOOP
    INSERT INTO room_members (room_id, user_id, role) VALUES (p_room, v_user, 3)
    ON CONFLICT DO NOTHING;
    IF FOUND THEN
      v_added := v_added + 1;
      PERFORM chat_room_event(p_room, 7::smallint, p_actor, NULL, v_user, 0, true);
      IF v_user <> p_actor THEN
        PERFORM chat_notify(v_user, 2::smallint, p_actor, p_room, 'chatd://rooms/' || p_room);
      END IF;
    END IF;
  END LOOP;
  RETURN v_added;
END $$;
