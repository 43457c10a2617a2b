import { useEffect, useId, useRef } from "react";
import { formatUsd } from "../../src/core/money";
import { billedTokensText } from "../../src/core/training/budget";
import type { CostPreview } from "./api";

function verdictText(preview: CostPreview): string {
  const { decision, reason = "over the monthly budget" } = preview.budget;
  if (decision === "confirm") return `Over budget (warn): ${reason}. You can still start it.`;
  if (decision === "blocked") return `Blocked by the budget (block): ${reason}.`;
  return preview.monthlyBudgetUsd === null ? "No monthly budget set." : "Within budget.";
}

/**
 * The seed's Cost Preview modal: the estimate beside the month's spend, the budget and the projected total,
 * the budget's verdict and the dataset's validation. A native modal <dialog>: focus stays in it, Esc cancels.
 */
export function CostPreviewDialog({
  preview,
  model,
  busy,
  error,
  onStart,
  onClose,
}: {
  preview: CostPreview;
  model: string;
  busy: boolean;
  error: string;
  onStart: (confirmOverBudget: boolean) => void;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const headingId = useId();
  const { decision } = preview.budget;
  const blocked = decision === "blocked" || !preview.validation.valid;

  // Leaving the page takes the dialog out of the top layer; closing it here would fire onClose.
  useEffect(() => {
    if (ref.current && !ref.current.open) ref.current.showModal();
  }, []);

  const price =
    preview.pricePerMillionUsd === null
      ? `no known price for ${model}`
      : `at ${formatUsd(preview.pricePerMillionUsd)} per 1M tokens (${preview.priceSource})`;

  return (
    <dialog ref={ref} aria-labelledby={headingId} onClose={onClose} className="cost-preview">
      <h2 id={headingId}>Cost preview</h2>
      <dl>
        <dt>Examples</dt>
        <dd>
          {preview.trainingExamples} training
          {preview.validationExamples > 0 && `, ${preview.validationExamples} validation`}
        </dd>
        <dt>Billed tokens</dt>
        <dd>{billedTokensText(preview)}</dd>
        <dt>Estimated cost</dt>
        <dd data-testid="estimated-cost">
          {formatUsd(preview.estimatedCostUsd)} <span className="muted">{price}</span>
        </dd>
        <dt>Spent this month</dt>
        <dd>{formatUsd(preview.spentThisMonthUsd)}</dd>
        <dt>Monthly budget</dt>
        <dd>
          {preview.monthlyBudgetUsd === null
            ? "none"
            : `${formatUsd(preview.monthlyBudgetUsd)} (${preview.budgetEnforcement})`}
        </dd>
        <dt>Projected total</dt>
        <dd>{formatUsd(preview.projectedTotalUsd)}</dd>
      </dl>
      <p className={`verdict verdict-${decision}`}>{verdictText(preview)}</p>
      {preview.warnings.map((warning) => (
        <p key={warning} className="muted">
          {warning}
        </p>
      ))}
      {!preview.validation.valid && (
        <div className="validation-errors">
          <p>The dataset does not pass validation for {model}:</p>
          <ul>
            {preview.validation.errors.map((message) => (
              <li key={message}>{message}</li>
            ))}
          </ul>
        </div>
      )}
      {error && <p role="alert">{error}</p>}
      <div className="buttons">
        <button type="button" disabled={blocked || busy} onClick={() => onStart(decision === "confirm")}>
          {decision === "confirm" ? "Start anyway" : "Start training"}
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </dialog>
  );
}
