-- Group commit for SendMessage: the sends that queue up behind one room's lock are appended
-- in one transaction, so they share one commit (one WAL flush) instead of waiting for one
-- each. Each element runs chat_append_message in its own subtransaction: one refused send
-- (not a member, a reply-to elsewhere) fails alone, with its SQLSTATE, and the rest commit.
CREATE FUNCTION chat_append_messages(
  p_room uuid, p_senders text[], p_client_msg_ids text[], p_bodies text[], p_reply_tos uuid[]
) RETURNS TABLE (idx integer, message_id uuid, created boolean, error_code text)
LANGUAGE plpgsql AS $$
DECLARE i integer;
BEGIN
  PERFORM chat_lock_room(p_room);
  FOR i IN 1 .. coalesce(array_length(p_senders, 1), 0) LOOP
    BEGIN
      RETURN QUERY SELECT i, a.message_id, a.created, NULL::text
        FROM chat_append_message(
          p_room, p_senders[i], p_client_msg_ids[i], p_bodies[i], p_reply_tos[i]) a;
    EXCEPTION WHEN OTHERS THEN
      RETURN QUERY SELECT i, NULL::uuid, false, SQLSTATE::text;
    END;
  END LOOP;
END $$;
