import { type FormEvent, useCallback, useEffect, useState } from "react";
import { api, type Project } from "./api";
import { submitForm } from "./forms";
import { BudgetFields, ChunkingFields, settingsError, settingsFrom } from "./ProjectSettings";

const budgetText = (p: Project) =>
  p.monthlyBudgetUsd === null
    ? "no budget"
    : `$${p.monthlyBudgetUsd.toFixed(2)}/month (${p.budgetEnforcement})`;

export function ProjectsPage() {
  const [projects, setProjects] = useState<Project[]>([]);
  const [error, setError] = useState("");

  const load = useCallback(async () => {
    setProjects((await api<{ projects: Project[] }>("GET", "/api/projects")).projects);
  }, []);

  useEffect(() => {
    load().catch((caught) => setError((caught as Error).message));
  }, [load]);

  const create = (event: FormEvent<HTMLFormElement>) =>
    submitForm(
      event,
      (form) => api("POST", "/api/projects", settingsFrom(form)),
      () => {
        setError("");
        return load();
      },
      (caught) => setError(settingsError(caught)),
    );

  return (
    <main>
      <h1>Projects</h1>
      {projects.length === 0 ? (
        <p className="muted">No projects yet.</p>
      ) : (
        <ul className="projects">
          {projects.map((p) => (
            <li key={p.id}>
              <a href={`#project/${p.id}`}>
                <strong>{p.name}</strong>
              </a>{" "}
              <span className="muted">{budgetText(p)}</span>
            </li>
          ))}
        </ul>
      )}
      <h2>New project</h2>
      <form onSubmit={create} aria-label="New project">
        <label>
          Name <input name="name" required maxLength={100} />
        </label>
        <BudgetFields />
        <ChunkingFields />
        <button type="submit">Create project</button>
        {error && <p role="alert">{error}</p>}
      </form>
    </main>
  );
}
