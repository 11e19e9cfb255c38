CREATE TYPE "public"."subscription_rail" AS ENUM('card', 'stars');--> statement-breakpoint
ALTER TYPE "public"."payment_provider" ADD VALUE 'telegram_stars';--> statement-breakpoint
ALTER TABLE "payment_sessions" ADD COLUMN "stars_amount" integer;--> statement-breakpoint
ALTER TABLE "payment_sessions" ADD COLUMN "stars_subscription" boolean;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "telegram_payment_charge_id" text;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "stars_amount" integer;--> statement-breakpoint
ALTER TABLE "plans" ADD COLUMN "stars_price" integer;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "rail" "subscription_rail" DEFAULT 'card' NOT NULL;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "stars_charge_id" text;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "stars_expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "stars_canceled_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "payments" ADD CONSTRAINT "payments_telegramPaymentChargeId_unique" UNIQUE("telegram_payment_charge_id");--> statement-breakpoint
ALTER TABLE "plans" ADD CONSTRAINT "plans_stars_price_range" CHECK ("plans"."stars_price" is null or "plans"."stars_price" between 1 and 100000);