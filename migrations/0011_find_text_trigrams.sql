-- `/earshot find <words>` matches customers' text anywhere (ILIKE '%…%'), which no b-tree serves:
-- on a million items every search read the whole table, 0.4 s on PostgreSQL with two parallel
-- workers and 0.7 s with one (PGlite has none). A trigram GIN index answers it in under 10 ms.
-- Partial on ticket_id: find searches tickets, and an item is indexed once, by the update that attaches
-- it to its ticket, rather than on receipt and again on that update.
-- pg_trgm ships with PostgreSQL (contrib) and is a trusted extension: a database owner without
-- superuser can create it. PGlite loads it at start (src/db/client.ts). Like 0007, 0008 and 0010, the
-- index is built inside the migration's transaction, not CONCURRENTLY: on a large items table the
-- deploy that applies it holds writes to items while it builds (17 s for a million short posts here).
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
CREATE INDEX "items_text_trgm_idx" ON "items" USING gin ("text" gin_trgm_ops) WHERE "items"."ticket_id" is not null;
