DROP INDEX "tickets_open_queue_idx";--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "role_set_by" text;--> statement-breakpoint
CREATE INDEX "job_runs_running_idx" ON "job_runs" USING btree ("job","started_at") WHERE "job_runs"."status" = 'running';--> statement-breakpoint
CREATE INDEX "tickets_open_queue_idx" ON "tickets" USING btree (("assignee" is not null),"priority","created_at") WHERE "tickets"."status" in ('new', 'claimed', 'waiting') and "tickets"."spam" = 0;