import { useCallback, useEffect, useState } from "react";
import { formatUsd } from "../../src/core/money";
import { api, type TrainingJob, type TrainingJobStatus } from "./api";
import { LossCurve } from "./LossCurve";

const CANCELLABLE: ReadonlySet<TrainingJobStatus> = new Set([
  "pending",
  "uploading",
  "validating",
  "queued",
  "training",
]);

type Live = "connecting" | "live" | "closed";

const LIVE_TEXT: Record<Live, string> = {
  connecting: "Connecting to live updates…",
  live: "Live: updates appear as they happen.",
  closed: "Live updates stopped: reload the page (you may need to sign in again).",
};

/**
 * The user's training jobs, live: the stream sends each job's current state first, then every update of
 * any of them. EventSource reconnects by itself and the stream starts again with the current state.
 */
export function useLiveJobs() {
  const [jobs, setJobs] = useState<TrainingJob[]>([]);
  const [live, setLive] = useState<Live>("connecting");

  const upsert = useCallback((job: TrainingJob) => {
    setJobs((current) => {
      const existing = current.find((j) => j.id === job.id);
      // An older state (a POST's answer arriving after the stream's update) never replaces a newer one.
      if (existing && existing.updatedAt > job.updatedAt) return current;
      const others = current.filter((j) => j.id !== job.id);
      return [...others, job].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    });
  }, []);

  useEffect(() => {
    const source = new EventSource("/api/training-jobs/stream");
    source.addEventListener("job", (event) => upsert(JSON.parse((event as MessageEvent<string>).data)));
    source.onopen = () => setLive("live");
    // CONNECTING: it retries by itself; CLOSED: the server refused (signed out), it will not retry.
    source.onerror = () => setLive(source.readyState === EventSource.CLOSED ? "closed" : "connecting");
    return () => source.close();
  }, [upsert]);

  return { jobs, live, upsert };
}

function JobItem({
  job,
  datasetName,
  onChanged,
}: {
  job: TrainingJob;
  datasetName: string;
  onChanged: (job: TrainingJob) => void;
}) {
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function act(action: "cancel" | "resume") {
    setBusy(true);
    try {
      onChanged(await api<TrainingJob>("POST", `/api/training-jobs/${job.id}/${action}`));
      setError("");
    } catch (caught) {
      setError((caught as Error).message);
    } finally {
      setBusy(false);
    }
  }

  const headingId = `job-${job.id}`;
  return (
    <li aria-labelledby={headingId} data-status={job.status}>
      <h3 id={headingId}>
        {job.baseModel} <span className="muted">on {datasetName}</span>
      </h3>
      <p>
        <span className={`status status-${job.status}`}>{job.status}</span>
        {job.providerStatus && <span className="muted"> (provider: {job.providerStatus})</span>}{" "}
        <span className="muted">{job.provider}</span>
      </p>
      <p className="progress">
        <progress max={100} value={job.progressPercent} aria-label="Progress" />{" "}
        <span>{job.progressPercent}%</span>
      </p>
      {job.currentStep && <p>{job.currentStep}</p>}
      <p>
        Cost: estimated {formatUsd(job.estimatedCostUsd)}
        {job.actualCostUsd !== null && `, actual ${formatUsd(job.actualCostUsd)}`}
      </p>
      {job.fineTunedModel && (
        <p>
          Fine-tuned model: <code>{job.fineTunedModel}</code>
        </p>
      )}
      {job.errorMessage && <p className="job-error">{job.errorMessage}</p>}
      {job.trackingPaused && (
        <p className="muted">
          Tracking paused: FineFlow stopped polling the provider.{" "}
          <button type="button" disabled={busy} onClick={() => act("resume")}>
            Resume tracking
          </button>
        </p>
      )}
      {CANCELLABLE.has(job.status) && (
        <button type="button" disabled={busy} onClick={() => act("cancel")}>
          Cancel
        </button>
      )}
      {(job.status === "training" || job.status === "completed") && (
        <LossCurve jobId={job.id} version={job.updatedAt} />
      )}
      {error && <p role="alert">{error}</p>}
    </li>
  );
}

export function JobsList({
  jobs,
  live,
  datasetLabel,
  onChanged,
}: {
  jobs: TrainingJob[];
  live: Live;
  datasetLabel: (id: string) => string;
  onChanged: (job: TrainingJob) => void;
}) {
  return (
    <section aria-labelledby="jobs-heading">
      <h2 id="jobs-heading">Jobs</h2>
      <p className="muted">{LIVE_TEXT[live]}</p>
      {jobs.length === 0 ? (
        <p className="muted">No training jobs yet.</p>
      ) : (
        <ul className="projects jobs" aria-label="Training jobs">
          {jobs.map((job) => (
            <JobItem key={job.id} job={job} datasetName={datasetLabel(job.datasetId)} onChanged={onChanged} />
          ))}
        </ul>
      )}
    </section>
  );
}
