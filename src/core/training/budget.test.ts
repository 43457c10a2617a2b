import { describe, expect, it } from "vitest";
import { trainingPricePerMillion } from "../prices.js";
import { billedEvaluations, billedTokensText, checkBudget, monthStart, trainingCostUsd } from "./budget.js";

describe("trainingCostUsd", () => {
  it("is billable tokens × epochs × the price per 1M tokens", () => {
    expect(trainingCostUsd(1_000_000, 3, 3)).toBe(9);
    expect(trainingCostUsd(250_000, 2, 25)).toBe(12.5);
  });

  it("is unknown, not 0, when the price is unknown", () => {
    expect(trainingCostUsd(1_000_000, 3, undefined)).toBeUndefined();
  });
});

describe("trainingPricePerMillion", () => {
  it("reads SPEC §4.7's dated table", () => {
    expect(trainingPricePerMillion("openai", "gpt-4o-mini-2024-07-18")).toBe(3);
    expect(trainingPricePerMillion("openai", "gpt-4o-2024-08-06")).toBe(25);
    expect(trainingPricePerMillion("openai", "gpt-4.1-2025-04-14")).toBe(25);
    expect(trainingPricePerMillion("openai", "gpt-4.1-mini-2025-04-14")).toBe(5);
    expect(trainingPricePerMillion("openai", "gpt-4.1-nano-2025-04-14")).toBe(1.5);
  });

  it("prices a fine-tuned model as its base, local training as free, and anything else as unknown", () => {
    expect(trainingPricePerMillion("openai", "ft:gpt-4.1-mini-2025-04-14:acme:support:abc123")).toBe(5);
    expect(trainingPricePerMillion("local", "whatever")).toBe(0);
    expect(trainingPricePerMillion("openai", "gpt-5-2026-01-01")).toBeUndefined();
    expect(trainingPricePerMillion("together", "some/unknown-model")).toBeUndefined();
  });
});

describe("checkBudget", () => {
  const base = { budgetUsd: 100, spentUsd: 40 } as const;

  it("allows a job that fits, and any job when no budget is set", () => {
    expect(checkBudget({ ...base, enforcement: "block", estimateUsd: 60 })).toEqual({
      decision: "allowed",
      projectedUsd: 100,
    });
    expect(
      checkBudget({ budgetUsd: undefined, enforcement: "block", spentUsd: 5000, estimateUsd: 900 }),
    ).toEqual({
      decision: "allowed",
      projectedUsd: 5900,
    });
  });

  it("blocks a job over a block budget and asks for confirmation over a warn budget", () => {
    const blocked = checkBudget({ ...base, enforcement: "block", estimateUsd: 60.01 });
    expect(blocked.decision).toBe("blocked");
    expect(blocked).toMatchObject({ reason: expect.stringContaining("$100.01, over the budget of $100.00") });
    const warned = checkBudget({ ...base, enforcement: "warn", estimateUsd: 61 });
    expect(warned).toMatchObject({ decision: "confirm", projectedUsd: 101 });
  });

  it("never lets an unknown cost through a budget silently", () => {
    expect(checkBudget({ ...base, enforcement: "block", estimateUsd: undefined })).toMatchObject({
      decision: "blocked",
      projectedUsd: undefined,
      reason: expect.stringContaining("unknown"),
    });
    expect(checkBudget({ ...base, enforcement: "warn", estimateUsd: undefined }).decision).toBe("confirm");
  });
});

describe("monthStart", () => {
  it("is the first instant of the UTC calendar month", () => {
    expect(monthStart(new Date("2026-11-26T08:35:00Z")).toISOString()).toBe("2026-11-01T00:00:00.000Z");
    expect(monthStart(new Date("2027-01-01T00:00:00Z")).toISOString()).toBe("2027-01-01T00:00:00.000Z");
  });
});

describe("billedEvaluations", () => {
  it("bills Together's evaluations, one per epoch, and never OpenAI's or an absent validation file", () => {
    expect(billedEvaluations("together", 3, 500)).toBe(3);
    expect(billedEvaluations("together", 3, 0)).toBe(0);
    expect(billedEvaluations("openai", 3, 500)).toBe(0);
  });
});

describe("billedTokensText", () => {
  it("says the epochs' tokens, and the evaluations' when they are billed", () => {
    const preview = { billableTokens: 12_345, epochs: 3, epochsSource: "auto", validationTokens: 1_234 };
    expect(billedTokensText({ ...preview, billedEvaluations: 0 })).toBe("12,345 tokens × 3 epochs (auto)");
    expect(billedTokensText({ ...preview, epochs: 1, billedEvaluations: 1 })).toBe(
      "12,345 tokens × 1 epoch (auto) + 1,234 validation tokens × 1 evaluation",
    );
  });
});

describe("checkBudget's arithmetic", () => {
  it("lets a job that exactly fills the budget through, whatever a float sum's last bits say", () => {
    expect(0.1 + 0.2).toBeGreaterThan(0.3);
    const exact = checkBudget({ budgetUsd: 0.3, enforcement: "block", spentUsd: 0.1, estimateUsd: 0.2 });
    expect(exact.decision).toBe("allowed");
    const over = checkBudget({
      budgetUsd: 0.3,
      enforcement: "block",
      spentUsd: 0.1,
      estimateUsd: 0.2000000001,
    });
    expect(over.decision).toBe("blocked");
  });
});
