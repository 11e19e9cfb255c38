CREATE TABLE "admin_sessions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"actor" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "payment_sessions" ADD COLUMN "bind_card_id" bigint;--> statement-breakpoint
ALTER TABLE "payment_sessions" ADD COLUMN "bind_card_token" text;--> statement-breakpoint
ALTER TABLE "payment_sessions" ADD COLUMN "bind_card_masked" text;--> statement-breakpoint
ALTER TABLE "payment_sessions" ADD COLUMN "bind_card_expiry" char(4);--> statement-breakpoint
ALTER TABLE "payment_sessions" ADD COLUMN "bind_card_type" "card_type";--> statement-breakpoint
ALTER TABLE "payment_sessions" ADD COLUMN "card_entry_until" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "admin_sessions_expires_at_idx" ON "admin_sessions" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "atmos_callbacks_received_at_idx" ON "atmos_callbacks" USING btree ("received_at");--> statement-breakpoint
CREATE INDEX "bound_cards_card_id_idx" ON "bound_cards" USING btree ("card_id");--> statement-breakpoint
CREATE INDEX "payment_sessions_bind_card_token_idx" ON "payment_sessions" USING btree ("updated_at") WHERE "payment_sessions"."bind_card_token" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "payments_one_success_per_session_key" ON "payments" USING btree ("session_id") WHERE status = 'success' and session_id is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "payments_one_success_per_renewal_period_key" ON "payments" USING btree ("subscription_id","period_start") WHERE status = 'success' and kind = 'renewal';