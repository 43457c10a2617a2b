import { counted } from "../../src/core/counted";
import type { Dataset } from "./api";
import { CancelGeneration, DatasetTools } from "./DatasetTools";

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

/** A dataset in a project's list: its status while it generates, which can be cancelled; then validation and export. */
export function DatasetItem({ dataset, onChanged }: { dataset: Dataset; onChanged: () => unknown }) {
  const usable = dataset.status === "ready" || dataset.status === "training";
  return (
    <li aria-label={`Dataset ${dataset.name}`}>
      <a href={`#dataset/${dataset.id}`}>
        <strong>{dataset.name}</strong>
      </a>{" "}
      <span className="muted">{dataset.mode}</span> — {dataset.status}
      {dataset.progress && <span className="muted"> ({progressText(dataset)})</span>}
      {dataset.error && <p role="alert">{dataset.error}</p>}
      <CancelGeneration dataset={dataset} onCancelled={onChanged} />
      {usable && <DatasetTools dataset={dataset} compact />}
    </li>
  );
}
