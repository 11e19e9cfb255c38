CREATE TYPE "public"."user_language" AS ENUM('uz', 'ru', 'en');--> statement-breakpoint
ALTER TABLE "payment_sessions" ADD COLUMN "offer_version" text;--> statement-breakpoint
ALTER TABLE "payment_sessions" ADD COLUMN "offer_accepted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "receipt_url" text;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "offer_version" text;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "offer_accepted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "plans" ADD COLUMN "ikpu_code" text DEFAULT '00000000000000000' NOT NULL;--> statement-breakpoint
ALTER TABLE "plans" ADD COLUMN "package_code" text DEFAULT '0000000' NOT NULL;--> statement-breakpoint
ALTER TABLE "plans" ADD COLUMN "vat_percent" integer DEFAULT 12 NOT NULL;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "renewal_price" bigint;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "new_renewal_price" bigint;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "new_price_set_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "new_price_notice_sent_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "new_price_from" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "language" "user_language";--> statement-breakpoint
CREATE INDEX "payments_success_without_receipt_idx" ON "payments" USING btree ("created_at") WHERE status = 'success' and receipt_url is null;--> statement-breakpoint
CREATE INDEX "subscriptions_price_notice_due_idx" ON "subscriptions" USING btree ("id") WHERE new_renewal_price is not null and new_price_notice_sent_at is null;--> statement-breakpoint
ALTER TABLE "plans" ADD CONSTRAINT "plans_ikpu_code_format" CHECK ("plans"."ikpu_code" ~ '^[0-9]{17}$');--> statement-breakpoint
ALTER TABLE "plans" ADD CONSTRAINT "plans_package_code_format" CHECK ("plans"."package_code" ~ '^[0-9]{1,20}$');--> statement-breakpoint
ALTER TABLE "plans" ADD CONSTRAINT "plans_vat_percent_range" CHECK ("plans"."vat_percent" between 0 and 100);