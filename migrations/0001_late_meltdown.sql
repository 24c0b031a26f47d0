ALTER TABLE "items" ADD COLUMN "tags" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "items" ADD COLUMN "archived" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "replies_external_ids_idx" ON "replies" USING gin ("external_ids" jsonb_path_ops);--> statement-breakpoint
-- Rows raced in twice before the key existed: keep the first of each (source, value).
DELETE FROM "stream_rules" AS "later" USING "stream_rules" AS "first" WHERE "later"."source_id" = "first"."source_id" AND "later"."value" = "first"."value" AND "later"."id" > "first"."id";--> statement-breakpoint
CREATE UNIQUE INDEX "stream_rules_source_value_key" ON "stream_rules" USING btree ("source_id","value");