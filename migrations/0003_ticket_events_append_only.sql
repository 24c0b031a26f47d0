-- ticket_events is the audit log and the card's history: a row is written once and never changed.
-- Two ways out, both for privacy (retention, forget a customer):
--   * a ticket's events go with the ticket: deleting the ticket (or its source or author) cascades;
--   * a transaction that must anonymize or delete events in place says so first, with
--     `select set_config('earshot.allow_event_rewrite', 'on', true)` (allowEventRewrite in src/tickets/timeline.ts).
CREATE FUNCTION "earshot_ticket_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_LEVEL = 'ROW' THEN
    IF coalesce(current_setting('earshot.allow_event_rewrite', true), '') = 'on' THEN
      IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
      RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
      IF NOT EXISTS (SELECT 1 FROM "tickets" WHERE "id" = OLD."ticket_id") THEN RETURN OLD; END IF;
    END IF;
  ELSIF coalesce(current_setting('earshot.allow_event_rewrite', true), '') = 'on' THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'ticket_events is append-only: % refused', TG_OP
    USING ERRCODE = 'restrict_violation',
          HINT = 'Delete the ticket, or set earshot.allow_event_rewrite = on in the transaction (privacy only).';
END
$$;--> statement-breakpoint
CREATE TRIGGER "ticket_events_append_only_rows" BEFORE UPDATE OR DELETE ON "ticket_events"
  FOR EACH ROW EXECUTE FUNCTION "earshot_ticket_events_append_only"();--> statement-breakpoint
CREATE TRIGGER "ticket_events_append_only_truncate" BEFORE TRUNCATE ON "ticket_events"
  FOR EACH STATEMENT EXECUTE FUNCTION "earshot_ticket_events_append_only"();
