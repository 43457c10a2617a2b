import { useCallback, useEffect, useState } from "react";
import { api, type Dataset, type Project } from "./api";
import { JobsList, useLiveJobs } from "./JobsList";
import { KeysPanel } from "./KeysPanel";
import { StartTrainingForm } from "./StartTrainingForm";

const TERMINAL = new Set(["completed", "failed", "cancelled"]);

/** Training: the provider keys, the start form with its Cost Preview, and the jobs, live. */
export function TrainingPage() {
  const [datasets, setDatasets] = useState<Dataset[]>([]);
  const [projects, setProjects] = useState<Project[]>([]);
  const [error, setError] = useState("");
  const { jobs, live, upsert } = useLiveJobs();

  const loadDatasets = useCallback(async () => {
    const [d, p] = await Promise.all([
      api<{ datasets: Dataset[] }>("GET", "/api/datasets"),
      api<{ projects: Project[] }>("GET", "/api/projects"),
    ]);
    setDatasets(d.datasets);
    setProjects(p.projects);
  }, []);

  // A dataset is "training" while a job runs on it: reload when a job starts or ends to show it ready again.
  const running = jobs
    .filter((job) => !TERMINAL.has(job.status))
    .map((job) => job.id)
    .join(",");
  useEffect(() => {
    void running;
    loadDatasets().catch((caught) => setError((caught as Error).message));
  }, [loadDatasets, running]);

  // "Project / dataset": dataset names are unique within a project only.
  const datasetLabel = (id: string) => {
    const dataset = datasets.find((d) => d.id === id);
    if (!dataset) return "a deleted dataset";
    return `${projects.find((p) => p.id === dataset.projectId)?.name ?? "?"} / ${dataset.name}`;
  };

  return (
    <main>
      <h1>Training</h1>
      {error && <p role="alert">{error}</p>}
      <KeysPanel />
      <StartTrainingForm datasets={datasets} datasetLabel={datasetLabel} onStarted={upsert} />
      <JobsList jobs={jobs} live={live} datasetLabel={datasetLabel} onChanged={upsert} />
    </main>
  );
}
