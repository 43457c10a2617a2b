-- The service checked overlap against target before writing, so two changes at once, each valid alone, could
-- store an overlap of half a chunk or more. Such a row (none is expected) keeps the largest overlap allowed.
UPDATE "projects" SET "chunk_overlap_tokens" = ("chunk_target_tokens" - 1) / 2 WHERE "chunk_overlap_tokens" * 2 >= "chunk_target_tokens";--> statement-breakpoint
ALTER TABLE "projects" ADD CONSTRAINT "projects_chunk_overlap_check" CHECK ("projects"."chunk_overlap_tokens" * 2 < "projects"."chunk_target_tokens");
