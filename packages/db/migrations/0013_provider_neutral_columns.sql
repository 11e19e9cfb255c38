-- Provider-neutral names: ids a payment provider gives us are text (ATMOS ids keep their digits, as
-- String(n) writes them), and the rows that hold a provider's ids say which provider. Renames and
-- in-place casts, so every existing row keeps its values; `provider` is 'atmos' for all of them.
ALTER TABLE "atmos_callbacks" RENAME TO "provider_callbacks";--> statement-breakpoint
ALTER SEQUENCE "atmos_callbacks_id_seq" RENAME TO "provider_callbacks_id_seq";--> statement-breakpoint
ALTER TABLE "provider_callbacks" RENAME CONSTRAINT "atmos_callbacks_pkey" TO "provider_callbacks_pkey";--> statement-breakpoint
ALTER TABLE "provider_callbacks" RENAME COLUMN "transaction_id" TO "external_id";--> statement-breakpoint
ALTER TABLE "provider_callbacks" ALTER COLUMN "external_id" SET DATA TYPE text USING "external_id"::text;--> statement-breakpoint
ALTER TABLE "provider_callbacks" ADD COLUMN "provider" "payment_provider" DEFAULT 'atmos' NOT NULL;--> statement-breakpoint
ALTER INDEX "atmos_callbacks_transaction_id_idx" RENAME TO "provider_callbacks_external_id_idx";--> statement-breakpoint
ALTER INDEX "atmos_callbacks_received_at_idx" RENAME TO "provider_callbacks_received_at_idx";--> statement-breakpoint
ALTER TABLE "payment_sessions" RENAME COLUMN "transaction_id" TO "external_id";--> statement-breakpoint
ALTER TABLE "payment_sessions" ALTER COLUMN "external_id" SET DATA TYPE text USING "external_id"::text;--> statement-breakpoint
ALTER TABLE "payment_sessions" RENAME CONSTRAINT "payment_sessions_transactionId_unique" TO "payment_sessions_externalId_unique";--> statement-breakpoint
ALTER TABLE "payment_sessions" RENAME COLUMN "atmos_account" TO "provider_reference";--> statement-breakpoint
ALTER TABLE "payment_sessions" RENAME CONSTRAINT "payment_sessions_atmosAccount_unique" TO "payment_sessions_providerReference_unique";--> statement-breakpoint
ALTER TABLE "payment_sessions" RENAME COLUMN "bind_transaction_id" TO "binding_id";--> statement-breakpoint
ALTER TABLE "payment_sessions" ALTER COLUMN "binding_id" SET DATA TYPE text USING "binding_id"::text;--> statement-breakpoint
ALTER TABLE "payment_sessions" RENAME COLUMN "bind_card_id" TO "bind_card_ref";--> statement-breakpoint
ALTER TABLE "payment_sessions" ALTER COLUMN "bind_card_ref" SET DATA TYPE text USING "bind_card_ref"::text;--> statement-breakpoint
ALTER TABLE "payment_sessions" ADD COLUMN "provider" "payment_provider" DEFAULT 'atmos' NOT NULL;--> statement-breakpoint
ALTER TABLE "payments" RENAME COLUMN "transaction_id" TO "external_id";--> statement-breakpoint
ALTER TABLE "payments" ALTER COLUMN "external_id" SET DATA TYPE text USING "external_id"::text;--> statement-breakpoint
ALTER INDEX "payments_transaction_id_idx" RENAME TO "payments_external_id_idx";--> statement-breakpoint
ALTER TABLE "payments" RENAME COLUMN "success_trans_id" TO "settlement_id";--> statement-breakpoint
ALTER TABLE "payments" ALTER COLUMN "settlement_id" SET DATA TYPE text USING "settlement_id"::text;--> statement-breakpoint
ALTER TABLE "renewal_attempts" RENAME COLUMN "transaction_id" TO "external_id";--> statement-breakpoint
ALTER TABLE "renewal_attempts" ALTER COLUMN "external_id" SET DATA TYPE text USING "external_id"::text;--> statement-breakpoint
ALTER TABLE "renewal_attempts" ADD COLUMN "provider" "payment_provider" DEFAULT 'atmos' NOT NULL;--> statement-breakpoint
DROP INDEX "bound_cards_user_id_card_id_key";--> statement-breakpoint
DROP INDEX "bound_cards_card_id_idx";--> statement-breakpoint
ALTER TABLE "bound_cards" RENAME COLUMN "card_id" TO "card_ref";--> statement-breakpoint
ALTER TABLE "bound_cards" ALTER COLUMN "card_ref" SET DATA TYPE text USING "card_ref"::text;--> statement-breakpoint
ALTER TABLE "bound_cards" ADD COLUMN "provider" "payment_provider" DEFAULT 'atmos' NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "bound_cards_user_id_provider_card_ref_key" ON "bound_cards" USING btree ("user_id","provider","card_ref");--> statement-breakpoint
CREATE INDEX "bound_cards_provider_card_ref_idx" ON "bound_cards" USING btree ("provider","card_ref");
