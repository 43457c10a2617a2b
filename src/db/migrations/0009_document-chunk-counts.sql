ALTER TABLE "documents" ADD COLUMN "duplicate_chunks" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "documents" ADD COLUMN "flagged_chunks" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Documents processed before this migration get their counts from their chunks.
UPDATE "documents" SET "duplicate_chunks" = counts.duplicates, "flagged_chunks" = counts.flagged
FROM (
  SELECT "document_id", count(*) FILTER (WHERE "is_duplicate") AS duplicates,
    count(*) FILTER (WHERE "injection_flagged") AS flagged
  FROM "chunks" GROUP BY "document_id"
) AS counts
WHERE "documents"."id" = counts."document_id";
