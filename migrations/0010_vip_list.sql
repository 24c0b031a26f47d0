-- The VIP list (`/earshot vip`), and the authors' handle index on lower(handle): every lookup by
-- handle ignores case (find @handle, forget, the VIP list), so the plain index served none of them.
-- Like 0007 and 0008, the index is built inside the migration's transaction, not CONCURRENTLY: on a
-- large authors table the deploy that applies it holds writes to authors while it builds.
CREATE TABLE "vip_authors" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "vip_authors_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"handle" text NOT NULL,
	"source_id" integer,
	"note" text,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "vip_authors_handle_source_key" UNIQUE NULLS NOT DISTINCT("handle","source_id")
);
--> statement-breakpoint
DROP INDEX "authors_handle_idx";--> statement-breakpoint
ALTER TABLE "vip_authors" ADD CONSTRAINT "vip_authors_source_id_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."sources"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "authors_handle_lower_idx" ON "authors" USING btree (lower("handle"));