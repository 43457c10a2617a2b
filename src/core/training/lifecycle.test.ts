import { describe, expect, it } from "vitest";
import {
  CANCELLABLE_TRAINING_STATUSES,
  describeProgress,
  explainProviderError,
  isTerminal,
} from "./lifecycle.js";
import { ProviderError } from "./provider.js";

describe("the seed's lifecycle", () => {
  it("cancels only pending, uploading, validating, queued and training jobs", () => {
    expect([...CANCELLABLE_TRAINING_STATUSES].sort()).toEqual(
      ["pending", "queued", "training", "uploading", "validating"].sort(),
    );
    expect(isTerminal("completed") && isTerminal("failed") && isTerminal("cancelled")).toBe(true);
    expect(isTerminal("training")).toBe(false);
  });
});

describe("describeProgress", () => {
  it("reads the step and train loss from the latest metrics", () => {
    expect(
      describeProgress({ status: "training", latest: { step: 120, totalSteps: 300, trainLoss: 0.84 } }),
    ).toEqual({ progressPercent: 40, currentStep: "Step 120/300 — train loss 0.8400" });
  });

  it("falls back to the seed's tokens-trained text, then to the status", () => {
    expect(describeProgress({ status: "training", trainedTokens: 15000 }).currentStep).toBe(
      "Training... (15000 tokens trained)",
    );
    expect(describeProgress({ status: "queued" })).toEqual({
      progressPercent: 0,
      currentStep: "Queued at the provider",
    });
  });

  it("keeps a provider status FineFlow has no word for, and is 100% only when completed", () => {
    expect(describeProgress({ status: "training", unmappedProviderStatus: "paused" }).currentStep).toBe(
      "Training (provider status: paused)",
    );
    expect(
      describeProgress({ status: "training", latest: { step: 300, totalSteps: 300 } }).progressPercent,
    ).toBe(99);
    expect(describeProgress({ status: "completed", fineTunedModel: "ft:x" })).toEqual({
      progressPercent: 100,
      currentStep: "Completed: ft:x",
    });
  });
});

describe("explainProviderError", () => {
  const context = { datasetName: "d1", model: "gpt-4o-mini-2024-07-18" };

  it("turns OpenAI's refusal into the wind-down explanation with the ways forward", () => {
    const message = explainProviderError(
      new ProviderError("openai", "not_allowed", "Fine-tuning is not available for this account."),
      context,
    );
    expect(message).toContain("winding self-serve fine-tuning down");
    expect(message).toContain("--provider together");
    expect(message).toContain("fineflow bundle --dataset d1");
  });

  it("names the key command for a bad key and the rejected parameter for a refused file", () => {
    expect(explainProviderError(new ProviderError("together", "auth", "Unauthorized"), context)).toContain(
      "fineflow keys set together",
    );
    const refused = explainProviderError(
      new ProviderError("openai", "invalid_request", "The file has 3 examples, at least 10 are needed", {
        param: "training_file",
      }),
      context,
    );
    expect(refused).toContain("`training_file`");
    expect(refused).toContain("at least 10 are needed");
    expect(refused).toContain("fineflow validate --dataset d1 --model gpt-4o-mini-2024-07-18");
  });
});
