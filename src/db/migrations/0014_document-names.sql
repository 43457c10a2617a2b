-- The same bytes under another name are a document of their own (its chunks duplicates of the first's), not
-- "unchanged": otherwise the copy was never stored, and its text was lost once the first file changed.
ALTER TABLE "documents" DROP CONSTRAINT "documents_project_hash_key";--> statement-breakpoint
DROP INDEX "documents_project_name_idx";--> statement-breakpoint
ALTER TABLE "documents" ADD CONSTRAINT "documents_project_name_hash_key" UNIQUE("project_id","name","content_hash");