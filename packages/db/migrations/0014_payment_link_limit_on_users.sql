ALTER TABLE "users" ADD COLUMN "links_window_start" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "links_in_window" integer DEFAULT 0 NOT NULL;