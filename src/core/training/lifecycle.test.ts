import { describe, expect, it } from "vitest";
import {
  CANCELLABLE_TRAINING_STATUSES,
  describeProgress,
  explainProviderError,
  isTerminal,
  newJobsRefusal,
  providerWarnings,
  withoutPauseReason,
  withPauseReason,
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
    expect(describeProgress({ status: "cancelled", latest: { step: 21, totalSteps: 100 } })).toEqual({
      progressPercent: 21,
      currentStep: "Cancelled at step 21/100",
    });
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
    expect(message).toContain("`fineflow train --dataset d1 --provider together --model <Together model>`");
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

  it("blames the dataset for a failed job only when the provider says the data is at fault", () => {
    const failed = (code: string, message: string) =>
      explainProviderError(new ProviderError("openai", "job_failed", message, { code }), context);
    const internal = failed("server_error", "The job failed due to an internal error.");
    expect(internal).toBe(
      "The job failed at OpenAI, on its side: The job failed due to an internal error. Start the job again; if it fails again, try another model or provider.",
    );
    expect(failed("invalid_training_file", "Line 3 is bad.")).toContain(
      "Check the dataset with `fineflow validate --dataset d1",
    );
    expect(failed("model_not_available", "No such model.")).toContain("Pick a model OpenAI fine-tunes");
  });

  it("points a refused model to another model, not to the dataset, with one period", () => {
    const refused = explainProviderError(
      new ProviderError("openai", "invalid_request", "Model gpt-5-turbo does not exist.", { param: "model" }),
      context,
    );
    expect(refused).toBe(
      "OpenAI refused the `model` request: Model gpt-5-turbo does not exist. Pick a model OpenAI fine-tunes, or another provider.",
    );
  });
});

describe("OpenAI's cutoff for new jobs", () => {
  it("warns before 2027-01-06 and refuses from then on; other providers are untouched", () => {
    const before = new Date("2027-01-05T23:59:59Z");
    const after = new Date("2027-01-06T00:00:00Z");
    expect(newJobsRefusal("openai", before)).toBeUndefined();
    expect(providerWarnings("openai", before)[0]).toContain(
      "stops accepting new fine-tuning jobs on 2027-01-06",
    );
    expect(newJobsRefusal("openai", after)).toContain("no new fine-tuning jobs since 2027-01-06");
    expect(providerWarnings("openai", after)).toEqual([]);
    expect(newJobsRefusal("together", after)).toBeUndefined();
    expect(providerWarnings("together", before)).toEqual([]);
  });
});

describe("pause reasons", () => {
  it("replace each other and go away on resume", () => {
    const once = withPauseReason("Step 3/9", "key deleted");
    expect(withPauseReason(once, "after 6 h")).toBe("Step 3/9 — tracking paused: after 6 h");
    expect(withoutPauseReason(once)).toBe("Step 3/9");
  });
});
