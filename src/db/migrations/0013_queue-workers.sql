CREATE TABLE "queue_workers" (
	"id" uuid PRIMARY KEY NOT NULL,
	"beat_at" timestamp with time zone NOT NULL,
	"job_ids" uuid[] NOT NULL
);
