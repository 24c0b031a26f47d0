-- Every replica caches the routing rules and the settings rows it reads per item (src/triage/).
-- A change made through one replica must reach the others at once, not when their cache expires,
-- so a committed change to either table says what changed on the `earshot_settings` channel:
-- `routing_rules`, or `settings:<key>` (`settings` after a truncate). Only the key is sent, never
-- a value (a settings row may hold a sealed token). NOTIFY is delivered at commit and only if the
-- transaction commits, and one transaction's repeats of a payload reach listeners once.
CREATE FUNCTION "earshot_notify_settings_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_LEVEL = 'ROW' THEN
    PERFORM pg_notify('earshot_settings',
      TG_TABLE_NAME || ':' || (CASE WHEN TG_OP = 'DELETE' THEN OLD.key ELSE NEW.key END));
  ELSE
    PERFORM pg_notify('earshot_settings', TG_TABLE_NAME);
  END IF;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER "routing_rules_notify_change"
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "routing_rules"
  FOR EACH STATEMENT EXECUTE FUNCTION "earshot_notify_settings_change"();--> statement-breakpoint
CREATE TRIGGER "settings_notify_change" AFTER INSERT OR UPDATE OR DELETE ON "settings"
  FOR EACH ROW EXECUTE FUNCTION "earshot_notify_settings_change"();--> statement-breakpoint
CREATE TRIGGER "settings_notify_truncate" AFTER TRUNCATE ON "settings"
  FOR EACH STATEMENT EXECUTE FUNCTION "earshot_notify_settings_change"();
