import { type MouseEvent, useId, useState } from "react";
import { counted } from "../../src/core/counted";
import { DEFAULT_MODEL, FINE_TUNABLE_MODELS } from "../../src/core/models";
import { averageQualityText } from "../../src/core/validation/quality-text";
import { api, type Dataset, download, EXPORT_FORMATS, type ValidationResult } from "./api";
import { inFormTerms } from "./forms";

const count = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 1 });

/** A pair's id as validation's messages print it: its first eight hex digits and "…" (src/core/ids.ts). */
const SHORT_ID = /([0-9a-f]{8}…)/;

/** A validation message, each pair id in it a button that finds that pair, when the page can. */
function IssueText({ text, onFindPair }: { text: string; onFindPair?: (id: string) => void }) {
  if (!onFindPair) return text;
  // split() with a capturing group puts each id at an odd index; the text between needs no key.
  return text.split(SHORT_ID).map((part, i) =>
    i % 2 === 0 ? (
      part
    ) : (
      <button
        // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one message never move
        key={i}
        type="button"
        className="link"
        aria-label={`Find pair ${part}`}
        onClick={() => onFindPair(part)}
      >
        {part}
      </button>
    ),
  );
}

/** The seed's validation panel: the verdict, each error and warning, and the token statistics. */
function ValidationPanel({
  result,
  onFindPair,
}: {
  result: ValidationResult;
  onFindPair?: (id: string) => void;
}) {
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
            <li key={e}>
              <IssueText text={e} onFindPair={onFindPair} />
            </li>
          ))}
        </ul>
      )}
      {result.warnings.length > 0 && (
        <ul aria-label="Warnings" className="muted">
          {result.warnings.map((w) => (
            <li key={w}>
              <IssueText text={w} onFindPair={onFindPair} />
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The pairs the validation's errors are about: those an export leaves out unless asked to include them. */
const pairsWithErrors = (result: ValidationResult) =>
  new Set(result.issues.filter((i) => i.severity === "error").flatMap((i) => i.pairIds)).size;

/**
 * What becomes of the pairs with errors at export, and how many the last validation found: `fate` is
 * "included", "left out", or "left out unless included" where the export can include them.
 */
function errorsNote(result: ValidationResult | undefined, fate: string): string {
  if (!result) return `Pairs with errors are ${fate} at export; validate to see how many there are.`;
  const found = pairsWithErrors(result);
  const what = `The last validation (${result.stats.model}) found ${counted(found, "pair")} with errors`;
  return found === 0 ? `${what}.` : `${what}: ${fate}.`;
}

/** The export options' labels, in which the API's refusals of them are said. */
const TERMS = {
  model: "Base model",
  split: "Validation share",
  format: "Export format",
};

/**
 * Stops a dataset that is generating. Mounted whatever the status, so that what it did is still said once
 * the dataset is ready.
 */
export function CancelGeneration({ dataset, onCancelled }: { dataset: Dataset; onCancelled: () => unknown }) {
  const [cancelled, setCancelled] = useState(false);
  const [error, setError] = useState("");

  async function cancel() {
    try {
      await api("POST", `/api/datasets/${dataset.id}/cancel`);
      setCancelled(true);
      setError("");
      await onCancelled();
    } catch (caught) {
      setError((caught as Error).message);
    }
  }

  // Counted from the dataset as reloaded: the cancel's answer carries no progress.
  const made = dataset.progress?.pairs ?? 0;
  return (
    <>
      {dataset.status === "generating" && (
        <p className="actions">
          <button type="button" aria-label={`Cancel generating ${dataset.name}`} onClick={cancel}>
            Cancel generation
          </button>
          <span className="muted">the pairs made so far are kept</span>
        </p>
      )}
      {cancelled && (
        <p role="status">
          Generation cancelled: the {counted(made, "pair")} made so far {made === 1 ? "is" : "are"} kept.
        </p>
      )}
      {error && <p role="alert">{error}</p>}
    </>
  );
}

/**
 * Validation and export of a ready dataset. `compact` (a project's list of datasets) validates for the
 * default model and exports with the API's defaults; the dataset's own page offers every option.
 */
export function DatasetTools({
  dataset,
  compact = false,
  onFindPair,
}: {
  dataset: Dataset;
  compact?: boolean;
  /** Shows the pair of a short id, so that the panel's ids are buttons. */
  onFindPair?: (id: string) => void;
}) {
  const [result, setResult] = useState<ValidationResult>();
  const [model, setModel] = useState(DEFAULT_MODEL);
  const [format, setFormat] = useState<string>(dataset.format);
  const [includeErrors, setIncludeErrors] = useState(false);
  /** The validation file's share of the pairs; empty for one file. */
  const [split, setSplit] = useState("");
  const [downloading, setDownloading] = useState(false);
  const [error, setError] = useState("");
  const name = dataset.name;
  const models = useId();

  async function validate() {
    try {
      // Left blank, the API's default model.
      const body = { model: model.trim() || undefined };
      setResult(await api<ValidationResult>("POST", `/api/datasets/${dataset.id}/validate`, body));
      setError("");
    } catch (caught) {
      setError(inFormTerms(caught, TERMS));
    }
  }

  function exportPath(part?: "train" | "validation") {
    const query = new URLSearchParams({ format });
    // The export leaves out the pairs with errors for this model: the one validated for, not the default.
    if (model.trim()) query.set("model", model.trim());
    if (includeErrors) query.set("onlyValid", "false");
    if (part) {
      query.set("split", split.trim());
      query.set("part", part);
    }
    return `/api/datasets/${dataset.id}/export?${query}`;
  }

  /** A download link's click: fetched rather than followed, so that a refusal is said here, not saved as the file. */
  const fetchOnClick = (path: string) => async (event: MouseEvent) => {
    event.preventDefault();
    setDownloading(true);
    try {
      await download(path);
      setError("");
    } catch (caught) {
      setError(inFormTerms(caught, TERMS));
    } finally {
      setDownloading(false);
    }
  };

  return (
    <>
      {/* Named with the dataset: each dataset of a list has these, and a screen reader lists them apart. */}
      <p className="actions">
        {!compact && (
          <label>
            Base model
            <input
              aria-label={`Base model of ${name}`}
              list={models}
              value={model}
              onChange={(event) => setModel(event.target.value)}
            />
            <datalist id={models}>
              {FINE_TUNABLE_MODELS.map((m) => (
                <option key={m} value={m} />
              ))}
            </datalist>
          </label>
        )}
        <button type="button" aria-label={`Validate ${name}`} onClick={validate}>
          Validate
        </button>
      </p>
      <p className="actions">
        <label>
          Export format
          <select
            aria-label={`Export format of ${name}`}
            value={format}
            onChange={(event) => setFormat(event.target.value)}
          >
            {EXPORT_FORMATS.map((f) => (
              <option key={f}>{f}</option>
            ))}
          </select>
        </label>
        {!compact && (
          <>
            <label>
              <input
                type="checkbox"
                checked={includeErrors}
                onChange={(event) => setIncludeErrors(event.target.checked)}
              />{" "}
              Include pairs with errors
            </label>
            <label>
              Validation share (e.g. 0.1), empty for one file
              <input
                type="number"
                min="0.01"
                max="0.99"
                step="any"
                value={split}
                onChange={(event) => setSplit(event.target.value)}
              />
            </label>
          </>
        )}
        {(split.trim() === ""
          ? [{ text: "Download JSONL", path: exportPath() }]
          : [
              { text: "Download training part", path: exportPath("train") },
              { text: "Download validation part", path: exportPath("validation") },
            ]
        ).map(({ text, path }) => (
          <a key={text} href={path} onClick={fetchOnClick(path)} download aria-label={`${text} of ${name}`}>
            {text}
          </a>
        ))}
      </p>
      <p className="muted" role="status" aria-label={`Pairs with errors in ${name}`}>
        {errorsNote(result, includeErrors ? "included" : compact ? "left out" : "left out unless included")}
        {downloading && " Preparing the download…"}
      </p>
      {error && <p role="alert">{error}</p>}
      {result && <ValidationPanel result={result} onFindPair={onFindPair} />}
    </>
  );
}
