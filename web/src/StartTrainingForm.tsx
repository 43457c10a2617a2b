import { type FormEvent, useState } from "react";
import { RANGES } from "../../src/core/ranges";
import {
  ApiError,
  api,
  type CostPreview,
  type Dataset,
  type TrainingJob,
  type TrainingProvider,
  type TrainingRequest,
} from "./api";
import { CostPreviewDialog } from "./CostPreviewDialog";

const KNOWN_MODELS = [
  "gpt-4o-mini-2024-07-18",
  "gpt-4.1-mini-2025-04-14",
  "gpt-4.1-nano-2025-04-14",
  "gpt-4o-2024-08-06",
  "gpt-4.1-2025-04-14",
  "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference",
  "Qwen/Qwen2.5-7B-Instruct",
];

function readRequest(form: FormData): TrainingRequest {
  const text = (name: string) => String(form.get(name) ?? "").trim();
  const request: TrainingRequest = {
    datasetId: text("datasetId"),
    provider: text("provider") as TrainingProvider,
    model: text("model"),
  };
  if (text("epochs")) request.epochs = Number(text("epochs"));
  if (text("validationSplit")) request.validationSplit = Number(text("validationSplit"));
  if (text("suffix")) request.suffix = text("suffix");
  return request;
}

/** Start a fine-tuning job: the form, then the Cost Preview, then the start. */
export function StartTrainingForm({
  datasets,
  datasetLabel,
  onStarted,
}: {
  datasets: Dataset[];
  datasetLabel: (id: string) => string;
  onStarted: (job: TrainingJob) => void;
}) {
  const [request, setRequest] = useState<TrainingRequest | null>(null);
  const [preview, setPreview] = useState<CostPreview | null>(null);
  const [error, setError] = useState("");
  const [dialogError, setDialogError] = useState("");
  const [busy, setBusy] = useState(false);

  const usable = datasets.filter((d) => d.status === "ready" || d.status === "training");

  async function estimate(next: TrainingRequest) {
    const result = await api<CostPreview>("POST", "/api/training/estimate", next);
    setRequest(next);
    setPreview(result);
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    try {
      setDialogError("");
      await estimate(readRequest(new FormData(event.currentTarget)));
      setError("");
    } catch (caught) {
      setError((caught as Error).message);
    } finally {
      setBusy(false);
    }
  }

  async function start(confirmOverBudget: boolean) {
    if (!request) return;
    setBusy(true);
    try {
      const job = await api<TrainingJob>("POST", "/api/training-jobs", { ...request, confirmOverBudget });
      setPreview(null);
      setDialogError("");
      onStarted(job);
    } catch (caught) {
      setDialogError((caught as Error).message);
      // The budget moved since the preview (another job, a new budget): show the verdict as it is now.
      const code = caught instanceof ApiError ? caught.code : undefined;
      if (code === "budget_exceeded" || code === "confirmation_required") {
        await estimate(request).catch(() => undefined);
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="start-heading">
      <h2 id="start-heading">Start training</h2>
      {usable.length === 0 ? (
        <p className="muted">No ready datasets yet: generate or import one in a project first.</p>
      ) : (
        <form onSubmit={submit} aria-label="Start training">
          <label>
            Dataset
            <select name="datasetId" required>
              {usable.map((d) => (
                <option key={d.id} value={d.id} disabled={d.status !== "ready"}>
                  {datasetLabel(d.id)}
                  {d.status === "training" ? " (training)" : ""}
                </option>
              ))}
            </select>
          </label>
          <label>
            Provider
            <select name="provider" defaultValue="openai">
              <option value="openai">openai</option>
              <option value="together">together</option>
            </select>
          </label>
          <label>
            Base model
            <input name="model" list="known-base-models" required defaultValue={KNOWN_MODELS[0]} />
            <datalist id="known-base-models">
              {KNOWN_MODELS.map((model) => (
                <option key={model} value={model} />
              ))}
            </datalist>
          </label>
          <label>
            Epochs (optional)
            <input
              name="epochs"
              type="number"
              min={RANGES.epochs.min}
              max={RANGES.epochs.max}
              step="1"
              placeholder="auto"
            />
          </label>
          <label>
            Validation split (optional)
            <input
              name="validationSplit"
              type="number"
              min={RANGES.validationSplit.min}
              max={RANGES.validationSplit.max}
              step="0.01"
              placeholder="none"
            />
          </label>
          <label>
            Model name suffix (optional)
            <input name="suffix" maxLength={40} />
          </label>
          <button type="submit" disabled={busy}>
            Preview cost
          </button>
          {error && <p role="alert">{error}</p>}
        </form>
      )}
      {preview && request && (
        <CostPreviewDialog
          preview={preview}
          model={request.model}
          busy={busy}
          error={dialogError}
          onStart={start}
          onClose={() => setPreview(null)}
        />
      )}
    </section>
  );
}
