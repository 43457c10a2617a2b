-- A document keeps the chunking it is processed with, so that the same file sent again after the project's
-- chunking changed is a new version, chunked anew. Stored documents were most likely processed with their
-- project's chunking as it stands: they take that.
ALTER TABLE "documents" ADD COLUMN "chunk_target_tokens" integer;--> statement-breakpoint
ALTER TABLE "documents" ADD COLUMN "chunk_overlap_tokens" integer;--> statement-breakpoint
ALTER TABLE "documents" ADD COLUMN "duplicate_threshold" real;--> statement-breakpoint
UPDATE "documents" AS d SET "chunk_target_tokens" = p."chunk_target_tokens",
  "chunk_overlap_tokens" = p."chunk_overlap_tokens", "duplicate_threshold" = p."duplicate_threshold"
FROM "projects" AS p WHERE p."id" = d."project_id";--> statement-breakpoint
ALTER TABLE "documents" ALTER COLUMN "chunk_target_tokens" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "documents" ALTER COLUMN "chunk_overlap_tokens" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "documents" ALTER COLUMN "duplicate_threshold" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "documents" DROP CONSTRAINT "documents_project_name_hash_key";--> statement-breakpoint
ALTER TABLE "documents" ADD CONSTRAINT "documents_project_name_hash_chunking_key" UNIQUE("project_id","name","content_hash","chunk_target_tokens","chunk_overlap_tokens","duplicate_threshold");
