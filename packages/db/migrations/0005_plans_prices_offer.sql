ALTER TABLE "payment_sessions" ADD COLUMN "offer_version" text;--> statement-breakpoint
ALTER TABLE "payment_sessions" ADD COLUMN "offer_accepted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "offer_version" text;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "offer_accepted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "renewal_price" bigint;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "new_renewal_price" bigint;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "new_price_set_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "new_price_notice_sent_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "new_price_from" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "subscriptions_price_notice_due_idx" ON "subscriptions" USING btree ("id") WHERE new_renewal_price is not null and new_price_notice_sent_at is null;