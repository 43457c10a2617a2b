import { type FormEvent, type ReactNode, useState } from "react";
import { inTermsOf } from "../../src/core/in-terms-of";
import { api, type Project } from "./api";
import { submitForm } from "./forms";

type Field = FormDataEntryValue | null;

/** A number field's value, or `empty` when it was left blank. */
function numberOr<T>(value: Field, empty: T): number | T {
  const text = String(value ?? "").trim();
  return text === "" ? empty : Number(text);
}

/** Left blank (only a new project's form allows it), a chunking field is not sent: the server picks its value. */
const numberOrDefault = (value: Field) => numberOr(value, undefined);

/** How each setting is read from the field of its name. */
const READERS = {
  name: String,
  description: String,
  monthlyBudgetUsd: (value: Field) => numberOr(value, null),
  budgetEnforcement: String,
  chunkTargetTokens: numberOrDefault,
  chunkOverlapTokens: numberOrDefault,
  duplicateThreshold: numberOrDefault,
} satisfies Partial<Record<keyof Project, (value: Field) => unknown>>;

type Setting = keyof typeof READERS;

/** Each setting as its field is labelled: the API's messages name the JSON fields instead. */
const LABELS: Record<Setting, string> = {
  name: "Name",
  description: "Description",
  monthlyBudgetUsd: "Monthly budget",
  budgetEnforcement: "When over budget",
  chunkTargetTokens: "Chunk target",
  chunkOverlapTokens: "Chunk overlap",
  duplicateThreshold: "Near-duplicate threshold",
};

/** A refusal of a project's settings, in the form's words. */
export const settingsError = (caught: unknown) => inTermsOf((caught as Error).message, LABELS);

/** The settings a form has fields for, as the API takes them. */
export function settingsFrom(form: FormData): Partial<Record<Setting, unknown>> {
  return Object.fromEntries(
    Object.entries(READERS)
      .filter(([field]) => form.has(field))
      .map(([field, read]) => [field, read(form.get(field))]),
  );
}

/** Only what the user changed: the rest, sent back as loaded, would undo a change made meanwhile elsewhere. */
const changedSettings = (project: Project, form: FormData) =>
  Object.fromEntries(
    Object.entries(settingsFrom(form)).filter(([field, value]) => value !== project[field as Setting]),
  );

/** A project's budget and what happens past it; empty when none is given yet. */
export function BudgetFields({ project }: { project?: Project }) {
  return (
    <>
      <label>
        {LABELS.monthlyBudgetUsd} (USD), empty for none
        <input
          name="monthlyBudgetUsd"
          type="number"
          min="0"
          step="any"
          defaultValue={project?.monthlyBudgetUsd ?? ""}
        />
      </label>
      <label>
        {LABELS.budgetEnforcement}
        <select name="budgetEnforcement" defaultValue={project?.budgetEnforcement ?? "warn"}>
          <option value="warn">warn</option>
          <option value="block">block</option>
        </select>
      </label>
    </>
  );
}

type ChunkingSetting = "chunkTargetTokens" | "chunkOverlapTokens" | "duplicateThreshold";

/** A number field of a chunking setting: required once the project exists, blank for the default before. */
function ChunkingField({
  project,
  name,
  step,
  min,
  children,
}: {
  project?: Project;
  name: ChunkingSetting;
  step: string;
  min?: string;
  children: ReactNode;
}) {
  return (
    <label>
      {children}
      <input
        name={name}
        type="number"
        step={step}
        min={min}
        required={project !== undefined}
        defaultValue={project?.[name]}
      />
    </label>
  );
}

/** How a project cuts documents into chunks and marks near-duplicates; a new project may leave them blank. */
export function ChunkingFields({ project }: { project?: Project }) {
  return (
    <>
      <p className="muted">
        {project
          ? "Chunking applies to documents processed from now on: those already processed keep their chunks " +
            "until they are uploaded again."
          : "Chunking left blank takes the defaults; a blank overlap is derived from the target."}
      </p>
      <ChunkingField project={project} name="chunkTargetTokens" step="1">
        {LABELS.chunkTargetTokens} (tokens)
      </ChunkingField>
      <ChunkingField project={project} name="chunkOverlapTokens" step="1" min="0">
        {LABELS.chunkOverlapTokens} (tokens), less than half the target
      </ChunkingField>
      <ChunkingField project={project} name="duplicateThreshold" step="any">
        {LABELS.duplicateThreshold} (Jaccard similarity)
      </ChunkingField>
    </>
  );
}

/** A project's settings form: it sends only what was changed, and shows what the server then holds. */
export function ProjectSettings({
  project,
  onSaved,
}: {
  project: Project;
  onSaved: (project: Project) => void;
}) {
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");

  const save = async (form: FormData) => {
    const patch = changedSettings(project, form);
    // The server refuses an empty change, as a mistake: here it is only a Save with nothing edited.
    if (Object.keys(patch).length === 0) return setNotice("Nothing to save: no setting was changed.");
    onSaved(await api<Project>("PATCH", `/api/projects/${project.id}`, patch));
    setNotice("Saved.");
  };

  const submit = (event: FormEvent<HTMLFormElement>) =>
    submitForm(
      event,
      save,
      () => setError(""),
      (caught) => {
        setNotice("");
        setError(settingsError(caught));
      },
    );

  return (
    <section aria-label="Settings">
      <h2>Settings</h2>
      {/* Keyed by the saved version: a save shows the server's values, a refresh of the page leaves an edit be. */}
      <form aria-label="Project settings" key={project.updatedAt} onSubmit={submit}>
        <label>
          {LABELS.name} <input name="name" required maxLength={100} defaultValue={project.name} />
        </label>
        <label>
          {LABELS.description}
          <textarea name="description" rows={2} maxLength={2000} defaultValue={project.description} />
        </label>
        <BudgetFields project={project} />
        <ChunkingFields project={project} />
        <button type="submit">Save settings</button>
        {error && <p role="alert">{error}</p>}
        {notice && <p role="status">{notice}</p>}
      </form>
    </section>
  );
}
