CREATE TYPE "public"."user_language" AS ENUM('uz', 'ru', 'en');--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "language" "user_language";