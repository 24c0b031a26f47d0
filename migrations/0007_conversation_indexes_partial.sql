DROP INDEX "items_conversation_idx";--> statement-breakpoint
DROP INDEX "tickets_conversation_idx";--> statement-breakpoint
CREATE INDEX "items_conversation_idx" ON "items" USING btree ("source_id","conversation_id") WHERE "items"."conversation_id" is not null;--> statement-breakpoint
CREATE INDEX "tickets_conversation_idx" ON "tickets" USING btree ("source_id","conversation_id") WHERE "tickets"."conversation_id" is not null;