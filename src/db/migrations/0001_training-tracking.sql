ALTER TABLE "training_jobs" ADD COLUMN "checkpoints" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "training_jobs" ADD COLUMN "poll_token" uuid;