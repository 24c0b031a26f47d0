CREATE TABLE "report_day_agent_durations" (
	"day" date NOT NULL,
	"agent" text NOT NULL,
	"bucket" integer NOT NULL,
	"count" integer NOT NULL,
	CONSTRAINT "report_day_agent_durations_day_agent_bucket_pk" PRIMARY KEY("day","agent","bucket")
);
--> statement-breakpoint
CREATE TABLE "report_day_agents" (
	"day" date NOT NULL,
	"source_id" integer NOT NULL,
	"channel" text NOT NULL,
	"agent" text NOT NULL,
	"claimed" integer NOT NULL,
	"replied" integer NOT NULL,
	"resolved" integer NOT NULL,
	CONSTRAINT "report_day_agents_day_source_id_channel_agent_pk" PRIMARY KEY("day","source_id","channel","agent")
);
--> statement-breakpoint
CREATE TABLE "report_day_authors" (
	"day" date NOT NULL,
	"source_id" integer NOT NULL,
	"channel" text NOT NULL,
	"authors" integer[] NOT NULL,
	"answered" integer[] NOT NULL,
	CONSTRAINT "report_day_authors_day_source_id_channel_pk" PRIMARY KEY("day","source_id","channel")
);
--> statement-breakpoint
CREATE TABLE "report_day_counts" (
	"day" date NOT NULL,
	"source_id" integer NOT NULL,
	"channel" text NOT NULL,
	"metric" text NOT NULL,
	"key" text NOT NULL,
	"count" integer NOT NULL,
	CONSTRAINT "report_day_counts_day_source_id_channel_metric_key_pk" PRIMARY KEY("day","source_id","channel","metric","key")
);
--> statement-breakpoint
CREATE TABLE "report_day_durations" (
	"day" date NOT NULL,
	"source_id" integer NOT NULL,
	"channel" text NOT NULL,
	"metric" text NOT NULL,
	"bucket" integer NOT NULL,
	"count" integer NOT NULL,
	CONSTRAINT "report_day_durations_day_source_id_channel_metric_bucket_pk" PRIMARY KEY("day","source_id","channel","metric","bucket")
);
--> statement-breakpoint
CREATE TABLE "report_hour_volume" (
	"day" date NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"source_id" integer NOT NULL,
	"channel" text NOT NULL,
	"total" integer NOT NULL,
	"negative" integer NOT NULL,
	"neutral" integer NOT NULL,
	"positive" integer NOT NULL,
	CONSTRAINT "report_hour_volume_day_hour_source_id_channel_pk" PRIMARY KEY("day","hour","source_id","channel")
);
--> statement-breakpoint
CREATE TABLE "report_rollup_days" (
	"day" date PRIMARY KEY NOT NULL,
	"version" integer NOT NULL,
	"built_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "report_rollup_marks" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "report_rollup_marks_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"day" date NOT NULL
);
--> statement-breakpoint
CREATE INDEX "report_rollup_marks_day_idx" ON "report_rollup_marks" USING btree ("day");--> statement-breakpoint
CREATE INDEX "tickets_first_response_bucket_idx" ON "tickets" USING btree ((floor(ln(greatest(extract(epoch from ("first_response_at" - "created_at"))::float8, 1)) * 16)::int),"created_at","first_response_at","assignee") WHERE "tickets"."spam" = 0 and "tickets"."first_response_at" is not null;--> statement-breakpoint
CREATE INDEX "tickets_resolution_bucket_idx" ON "tickets" USING btree ((floor(ln(greatest(extract(epoch from ("resolved_at" - "created_at"))::float8, 1)) * 16)::int),"created_at","resolved_at") WHERE "tickets"."spam" = 0 and "tickets"."resolved_at" is not null;