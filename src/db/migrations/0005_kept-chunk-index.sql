DROP TABLE "chunk_lsh_buckets" CASCADE;--> statement-breakpoint
ALTER TABLE "chunks" ADD COLUMN "seq" bigserial NOT NULL;--> statement-breakpoint
CREATE INDEX "chunks_project_seq_idx" ON "chunks" USING btree ("project_id","seq");