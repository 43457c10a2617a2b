-- Every change to a training job is announced on the `training_jobs` channel (the seed's realtime
-- `postgres_changes` subscription); listeners load the row themselves, scoped to its owner.
CREATE OR REPLACE FUNCTION fineflow_notify_training_job() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('training_jobs', json_build_object('id', NEW.id, 'userId', NEW.user_id)::text);
  RETURN NEW;
END
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER training_jobs_notify AFTER INSERT OR UPDATE ON training_jobs
  FOR EACH ROW EXECUTE FUNCTION fineflow_notify_training_job();
