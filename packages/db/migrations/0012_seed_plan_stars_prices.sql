-- Telegram Stars prices (docs/stars.md) for the seeded plans that exist already; a plan an operator
-- priced in Stars keeps its price. Monthly is sold as a native 30-day Stars subscription.
UPDATE "plans" SET "stars_price" = 150 WHERE "slug" = 'monthly' AND "stars_price" IS NULL;--> statement-breakpoint
UPDATE "plans" SET "stars_price" = 400 WHERE "slug" = 'quarterly' AND "stars_price" IS NULL;--> statement-breakpoint
UPDATE "plans" SET "stars_price" = 1500 WHERE "slug" = 'yearly' AND "stars_price" IS NULL;
