ALTER TABLE "payment_sessions" ADD COLUMN "bind_card_id" bigint;--> statement-breakpoint
ALTER TABLE "payment_sessions" ADD COLUMN "bind_card_token" text;--> statement-breakpoint
ALTER TABLE "payment_sessions" ADD COLUMN "bind_card_masked" text;--> statement-breakpoint
ALTER TABLE "payment_sessions" ADD COLUMN "bind_card_expiry" char(4);--> statement-breakpoint
ALTER TABLE "payment_sessions" ADD COLUMN "bind_card_type" "card_type";--> statement-breakpoint
ALTER TABLE "payment_sessions" ADD COLUMN "card_entry_until" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "bound_cards_card_id_idx" ON "bound_cards" USING btree ("card_id");--> statement-breakpoint
CREATE INDEX "payment_sessions_bind_card_token_idx" ON "payment_sessions" USING btree ("updated_at") WHERE "payment_sessions"."bind_card_token" is not null;