-- The lead report reads a day's rollups (src/reports/rollups.ts) only while the day has no mark.
-- Every change that can move a figure of a day's tickets appends a mark for that day (the UTC day
-- the ticket was created) in the transaction that makes the change, whoever makes it (ticket actions,
-- ingest, SLA sweep, privacy, imports, cascades); the report-rollups job rebuilds marked days and
-- deletes the marks its snapshot saw. Inserts only: no row is shared, so writers never wait on it.
-- The columns, event types and reply states below are those the rollup row builders read.
CREATE FUNCTION "earshot_report_mark_tickets"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_LEVEL = 'ROW' THEN
    INSERT INTO "report_rollup_marks" ("day")
    SELECT DISTINCT (at AT TIME ZONE 'UTC')::date FROM (VALUES (OLD."created_at"), (NEW."created_at")) AS v(at);
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO "report_rollup_marks" ("day") SELECT DISTINCT ("created_at" AT TIME ZONE 'UTC')::date FROM new_rows;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO "report_rollup_marks" ("day") SELECT DISTINCT ("created_at" AT TIME ZONE 'UTC')::date FROM old_rows;
  ELSE
    -- TRUNCATE: every built day is void.
    DELETE FROM "report_rollup_days";
  END IF;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER "report_marks_tickets_insert" AFTER INSERT ON "tickets"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "earshot_report_mark_tickets"();--> statement-breakpoint
CREATE TRIGGER "report_marks_tickets_delete" AFTER DELETE ON "tickets"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "earshot_report_mark_tickets"();--> statement-breakpoint
CREATE TRIGGER "report_marks_tickets_truncate" AFTER TRUNCATE ON "tickets"
  FOR EACH STATEMENT EXECUTE FUNCTION "earshot_report_mark_tickets"();--> statement-breakpoint
CREATE TRIGGER "report_marks_tickets_update" AFTER UPDATE ON "tickets" FOR EACH ROW WHEN (
  OLD."created_at" IS DISTINCT FROM NEW."created_at" OR OLD."source_id" IS DISTINCT FROM NEW."source_id"
  OR OLD."channel" IS DISTINCT FROM NEW."channel" OR OLD."spam" IS DISTINCT FROM NEW."spam"
  OR OLD."author_id" IS DISTINCT FROM NEW."author_id" OR OLD."assignee" IS DISTINCT FROM NEW."assignee"
  OR OLD."category" IS DISTINCT FROM NEW."category" OR OLD."sentiment" IS DISTINCT FROM NEW."sentiment"
  OR OLD."topics" IS DISTINCT FROM NEW."topics"
  OR OLD."first_response_at" IS DISTINCT FROM NEW."first_response_at" OR OLD."resolved_at" IS DISTINCT FROM NEW."resolved_at"
  OR OLD."first_response_sla" IS DISTINCT FROM NEW."first_response_sla"
  OR OLD."resolution_sla" IS DISTINCT FROM NEW."resolution_sla"
) EXECUTE FUNCTION "earshot_report_mark_tickets"();--> statement-breakpoint
CREATE FUNCTION "earshot_report_mark_ticket_events"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_LEVEL = 'ROW' THEN
    INSERT INTO "report_rollup_marks" ("day")
    SELECT DISTINCT ("created_at" AT TIME ZONE 'UTC')::date FROM "tickets" WHERE "id" IN (OLD."ticket_id", NEW."ticket_id");
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO "report_rollup_marks" ("day")
    SELECT DISTINCT (t."created_at" AT TIME ZONE 'UTC')::date FROM "tickets" t
    WHERE t."id" IN (SELECT "ticket_id" FROM new_rows
                     WHERE "actor" NOT LIKE 'system:%' AND "type" IN ('claimed', 'assigned', 'replied', 'resolved'));
  ELSE
    -- A ticket's own delete marks its day; this is for events removed in place (privacy).
    INSERT INTO "report_rollup_marks" ("day")
    SELECT DISTINCT (t."created_at" AT TIME ZONE 'UTC')::date FROM "tickets" t
    WHERE t."id" IN (SELECT "ticket_id" FROM old_rows
                     WHERE "actor" NOT LIKE 'system:%' AND "type" IN ('claimed', 'assigned', 'replied', 'resolved'));
  END IF;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER "report_marks_ticket_events_insert" AFTER INSERT ON "ticket_events"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "earshot_report_mark_ticket_events"();--> statement-breakpoint
CREATE TRIGGER "report_marks_ticket_events_delete" AFTER DELETE ON "ticket_events"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "earshot_report_mark_ticket_events"();--> statement-breakpoint
CREATE TRIGGER "report_marks_ticket_events_update" AFTER UPDATE ON "ticket_events" FOR EACH ROW WHEN (
  OLD."ticket_id" IS DISTINCT FROM NEW."ticket_id" OR OLD."actor" IS DISTINCT FROM NEW."actor"
  OR OLD."type" IS DISTINCT FROM NEW."type" OR OLD."details" IS DISTINCT FROM NEW."details"
) EXECUTE FUNCTION "earshot_report_mark_ticket_events"();--> statement-breakpoint
CREATE FUNCTION "earshot_report_mark_replies"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_LEVEL = 'ROW' THEN
    INSERT INTO "report_rollup_marks" ("day")
    SELECT DISTINCT ("created_at" AT TIME ZONE 'UTC')::date FROM "tickets" WHERE "id" IN (OLD."ticket_id", NEW."ticket_id");
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO "report_rollup_marks" ("day")
    SELECT DISTINCT (t."created_at" AT TIME ZONE 'UTC')::date FROM "tickets" t
    WHERE t."id" IN (SELECT "ticket_id" FROM new_rows WHERE "status" = 'done');
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO "report_rollup_marks" ("day")
    SELECT DISTINCT (t."created_at" AT TIME ZONE 'UTC')::date FROM "tickets" t
    WHERE t."id" IN (SELECT "ticket_id" FROM old_rows WHERE "status" = 'done');
  ELSE
    DELETE FROM "report_rollup_days";
  END IF;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER "report_marks_replies_insert" AFTER INSERT ON "replies"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "earshot_report_mark_replies"();--> statement-breakpoint
CREATE TRIGGER "report_marks_replies_delete" AFTER DELETE ON "replies"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "earshot_report_mark_replies"();--> statement-breakpoint
CREATE TRIGGER "report_marks_replies_truncate" AFTER TRUNCATE ON "replies"
  FOR EACH STATEMENT EXECUTE FUNCTION "earshot_report_mark_replies"();--> statement-breakpoint
CREATE TRIGGER "report_marks_replies_update" AFTER UPDATE ON "replies" FOR EACH ROW WHEN (
  OLD."ticket_id" IS DISTINCT FROM NEW."ticket_id"
  OR (OLD."status" = 'done') IS DISTINCT FROM (NEW."status" = 'done')
) EXECUTE FUNCTION "earshot_report_mark_replies"();
