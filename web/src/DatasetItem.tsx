import { useState } from "react";
import { counted } from "../../src/core/counted";
import { averageQualityText } from "../../src/core/validation/quality-text";
import { api, type Dataset, EXPORT_FORMATS, type ValidationResult } from "./api";

const count = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 1 });

/** How far generation went: "3/10 chunks, 1 failed, 5 pairs". */
export function progressText(dataset: Dataset): string {
  const p = dataset.progress;
  if (!p) return "";
  const pairs = counted(p.pairs, "pair");
  if (p.totalChunks === 0) return pairs; // imported: no chunks behind it
  const skipped = p.skipped ? `, ${p.skipped} skipped` : "";
  const failed = p.failed ? `, ${p.failed} failed` : "";
  return `${p.done}/${p.totalChunks} chunks${failed}${skipped}, ${pairs}`;
}

/** The seed's validation panel: the verdict, each error and warning, and the token statistics. */
function ValidationPanel({ result }: { result: ValidationResult }) {
  const { stats } = result;
  return (
    <div role="status" aria-label="Validation">
      <p>
        <strong>{result.valid ? "Valid" : "Not valid"}</strong> for {stats.model}: {count(stats.totalPairs)}{" "}
        pairs, {count(stats.uniqueQuestions)} unique questions, {averageQualityText(stats)}; tokens per pair
        p50 {stats.tokens.p50}, max {stats.tokens.max}; {count(stats.billableTokens)} billable tokens an
        epoch, {stats.recommendedEpochs} epochs recommended.
      </p>
      {result.errors.length > 0 && (
        <ul aria-label="Errors">
          {result.errors.map((e) => (
            <li key={e}>{e}</li>
          ))}
        </ul>
      )}
      {result.warnings.length > 0 && (
        <ul aria-label="Warnings" className="muted">
          {result.warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A dataset: its status while it generates; then validation and export. */
export function DatasetItem({ dataset }: { dataset: Dataset }) {
  const [result, setResult] = useState<ValidationResult>();
  const [format, setFormat] = useState<string>(dataset.format);
  const [error, setError] = useState("");
  const usable = dataset.status === "ready" || dataset.status === "training";

  async function validate() {
    try {
      setResult(await api<ValidationResult>("POST", `/api/datasets/${dataset.id}/validate`));
      setError("");
    } catch (caught) {
      setError((caught as Error).message);
    }
  }

  return (
    <li aria-label={`Dataset ${dataset.name}`}>
      <a href={`#dataset/${dataset.id}`}>
        <strong>{dataset.name}</strong>
      </a>{" "}
      <span className="muted">{dataset.mode}</span> — {dataset.status}
      {dataset.progress && <span className="muted"> ({progressText(dataset)})</span>}
      {dataset.error && <p role="alert">{dataset.error}</p>}
      {usable && (
        <p className="actions">
          {/* Named with the dataset: each dataset of the list has these, and a screen reader lists them apart. */}
          <button type="button" aria-label={`Validate ${dataset.name}`} onClick={validate}>
            Validate
          </button>
          <label>
            Export format
            <select
              aria-label={`Export format of ${dataset.name}`}
              value={format}
              onChange={(event) => setFormat(event.target.value)}
            >
              {EXPORT_FORMATS.map((f) => (
                <option key={f}>{f}</option>
              ))}
            </select>
          </label>
          {/* A plain link: the browser downloads the stream with the session cookie, under the server's name. */}
          <a
            href={`/api/datasets/${dataset.id}/export?format=${format}`}
            download
            aria-label={`Download JSONL of ${dataset.name}`}
          >
            Download JSONL
          </a>
        </p>
      )}
      {error && <p role="alert">{error}</p>}
      {result && <ValidationPanel result={result} />}
    </li>
  );
}
