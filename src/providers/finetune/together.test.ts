import Together from "together-ai";
import { afterEach, describe, expect, it } from "vitest";
import {
  FAKE_TOGETHER_KEY,
  type FakeTogetherOptions,
  type FakeTogetherServer,
  startFakeTogetherServer,
} from "../../../test/fakes/together-fine-tuning-server.js";
import { type CreateJobInput, ProviderError, type TrainingProvider } from "../../core/training/provider.js";
import { createTogetherTrainingProvider } from "./together.js";

const LLAMA = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference";
const KEY = FAKE_TOGETHER_KEY;
const servers: FakeTogetherServer[] = [];

afterEach(async () => {
  for (const server of servers) expect(server.contractViolations).toEqual([]);
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function setup(options?: FakeTogetherOptions) {
  const server = await startFakeTogetherServer(options);
  servers.push(server);
  return { server, provider: createTogetherTrainingProvider({ baseURL: server.baseURL, maxRetries: 0 }) };
}

function jsonl(count: number, offset = 0): Blob {
  const lines = Array.from({ length: count }, (_, index) =>
    JSON.stringify({
      messages: [
        { role: "user", content: `Where is office ${index + offset}?` },
        { role: "assistant", content: `Office ${index + offset} is on floor ${index % 7}.` },
      ],
    }),
  );
  return new Blob([lines.join("\n")]);
}

async function uploaded(provider: TrainingProvider, filename = "fineflow-job-1-train.jsonl", examples = 20) {
  return (await provider.uploadFile(KEY, { filename, content: jsonl(examples) })).id;
}

function jobInput(trainingFileId: string, overrides: Partial<CreateJobInput> = {}): CreateJobInput {
  return {
    model: LLAMA,
    trainingFileId,
    hyperparameters: { nEpochs: 2, batchSize: 8, learningRate: 0.0001 },
    suffix: "faq",
    fineflowJobId: "00000000-0000-4000-8000-000000000001",
    ...overrides,
  };
}

async function providerError(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => new Error("expected the call to fail"),
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe("Together training provider", () => {
  it("uploads once per filename: findFile finds what uploadFile stored", async () => {
    const { server, provider } = await setup();
    expect(await provider.findFile(KEY, "fineflow-job-1-train.jsonl")).toBeUndefined();
    const id = await uploaded(provider);
    expect(id).toMatch(/^file-/);
    expect(await provider.findFile(KEY, "fineflow-job-1-train.jsonl")).toEqual({ id });
    expect(await provider.findFile(KEY, "fineflow-job-2-train.jsonl")).toBeUndefined();
    expect(server.counters.uploads).toBe(1);
    expect(server.counters.requests["POST /files/upload"]).toBe(1);
  });

  it("creates a LoRA job and follows it to completion with events, metrics, checkpoints and price", async () => {
    const { server, provider } = await setup();
    const trainingFileId = await uploaded(provider);
    const validationFileId = await uploaded(provider, "fineflow-job-1-valid.jsonl", 4);

    const created = await provider.createJob(KEY, jobInput(trainingFileId, { validationFileId }));
    expect(created).toMatchObject({
      providerStatus: "pending",
      status: "queued",
      model: LLAMA,
      trainingFileId,
      validationFileId,
      hyperparameters: { nEpochs: 2, batchSize: 8, learningRate: 0.0001 },
      resultFileIds: [],
    });
    // Named at creation by Together, but not a usable model until the job completes.
    expect(created.fineTunedModel).toBeUndefined();
    expect(created.totalPriceUsd).toBeUndefined();
    expect(created.createdAt).toEqual(new Date(server.now() * 1000));
    expect(await provider.findJobByTrainingFile(KEY, trainingFileId)).toMatchObject({ id: created.id });
    expect(await provider.findJobByTrainingFile(KEY, validationFileId)).toBeUndefined();

    server.advance(5); // queued → running at 3 s, then steps 1 and 2 of 6
    const running = await provider.getJob(KEY, created.id);
    expect(running).toMatchObject({ providerStatus: "running", status: "training" });
    // Together's token_count is the whole run's from the start: not tokens trained yet.
    expect(running.trainedTokens).toBeUndefined();
    const live = await provider.listEvents(KEY, created.id);
    expect(live.filter((event) => event.type === "metrics").map((event) => event.metrics?.step)).toEqual([
      1, 2,
    ]);
    expect(live.at(-1)?.metrics).toMatchObject({ step: 2, totalSteps: 6 });

    server.runToEnd(created.id);
    const done = await provider.getJob(KEY, created.id);
    expect(done).toMatchObject({ providerStatus: "completed", status: "completed" });
    expect(done.fineTunedModel).toMatch(/^fineflow-fake-0\/Meta-Llama-3.1-8B-Instruct-Reference-faq-/);
    expect(done.trainedTokens).toBeGreaterThan(0);
    // Together's nanodollars, in USD: tokens × $0.48 per million.
    expect(done.totalPriceUsd).toBeCloseTo(((done.trainedTokens ?? 0) * 0.48) / 1e6, 9);
    expect(done.finishedAt).toEqual(new Date(server.now() * 1000));

    const events = await provider.listEvents(KEY, created.id);
    const times = events.map((event) => event.createdAt.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
    expect(events[0]).toMatchObject({ type: "message", level: "info", message: "Fine tune request created" });
    expect(events.find((event) => event.message === "Epoch completed, at step 3")?.metrics).toEqual({
      step: 3,
      totalSteps: 6,
    });
    const points = events.filter((event) => event.type === "metrics").map((event) => event.metrics);
    expect(points.map((point) => point?.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(points.every((point) => typeof point?.trainLoss === "number" && point.totalSteps === 6)).toBe(
      true,
    );
    // n_evals is one per epoch when a validation file is given.
    expect(points.filter((point) => point?.validLoss !== undefined).map((point) => point?.step)).toEqual([
      3, 6,
    ]);
    // Ids are stable from one poll to the next, so FineFlow stores each event once.
    expect((await provider.listEvents(KEY, created.id)).map((event) => event.id)).toEqual(
      events.map((e) => e.id),
    );

    const results = await provider.readResultMetrics(KEY, done);
    expect(results).toEqual(points.map((point) => point && withoutTotal(point)));
    expect(await provider.listCheckpoints(KEY, created.id)).toEqual([
      { id: `${created.id}:final`, step: 6, createdAt: new Date(server.now() * 1000) },
    ]);
  });

  it("names intermediate checkpoints as Together's from_checkpoint takes them, oldest first", async () => {
    const { server, provider } = await setup();
    const trainingFileId = await uploaded(provider);
    // The port has no n_checkpoints; a job made directly through the SDK has some.
    const sdk = new Together({ baseURL: server.baseURL, apiKey: KEY, maxRetries: 0 });
    const job = await sdk.fineTuning.create({
      model: LLAMA,
      training_file: trainingFileId,
      batch_size: 8,
      n_epochs: 3,
      n_checkpoints: 3,
    });
    server.runToEnd(job.id);
    const checkpoints = await provider.listCheckpoints(KEY, job.id);
    expect(checkpoints.map(({ id, step, model }) => ({ id, step, model }))).toEqual([
      { id: `${job.id}:3`, step: 3, model: `${job.id}:3` },
      { id: `${job.id}:6`, step: 6, model: `${job.id}:6` },
      { id: `${job.id}:final`, step: 9, model: undefined },
    ]);
  });

  it("cancels: cancel_requested keeps FineFlow's status until Together says cancelled", async () => {
    const { server, provider } = await setup();
    const job = await provider.createJob(KEY, jobInput(await uploaded(provider)));
    server.advance(4);
    const requested = await provider.cancelJob(KEY, job.id);
    expect(requested).toMatchObject({ providerStatus: "cancel_requested", status: undefined });
    expect(requested.finishedAt).toBeUndefined();
    server.advance(1);
    const cancelled = await provider.getJob(KEY, job.id);
    expect(cancelled).toMatchObject({ providerStatus: "cancelled", status: "cancelled" });
    expect(cancelled.finishedAt).toEqual(new Date(server.now() * 1000));
    expect(cancelled.fineTunedModel).toBeUndefined();

    const refused = await providerError(provider.cancelJob(KEY, job.id));
    expect(refused).toMatchObject({ kind: "invalid_request", details: { status: 400 } });
    expect(server.counters.cancels).toBe(1);
  });

  it("reports a failed job with the reason from its job_error event", async () => {
    const { server, provider } = await setup({
      failTraining: { atStep: 2, message: "Out of memory at step 2" },
    });
    const job = await provider.createJob(KEY, jobInput(await uploaded(provider)));
    server.runToEnd(job.id);
    expect(await provider.getJob(KEY, job.id)).toMatchObject({
      providerStatus: "error",
      status: "failed",
      error: { code: "error", message: "Out of memory at step 2" },
    });
    const events = await provider.listEvents(KEY, job.id);
    expect(events.find((event) => event.level === "error")?.message).toBe("Out of memory at step 2");
  });

  it("reports a training file Together refuses at validation as a failed job", async () => {
    const { server, provider } = await setup();
    const bad = (await provider.uploadFile(KEY, { filename: "bad.jsonl", content: new Blob(["{}"]) })).id;
    const job = await provider.createJob(KEY, jobInput(bad));
    server.runToEnd(job.id);
    const failed = await provider.getJob(KEY, job.id);
    expect(failed.status).toBe("failed");
    expect(failed.error?.message).toMatch(/^Invalid file file-.*: Line 1: expected "messages"/);
    // The data is at fault here, and only here: the code says so, as OpenAI's does.
    expect(failed.error?.code).toBe("invalid_training_file");
    expect(failed.totalPriceUsd).toBe(0);
  });

  it("refuses OpenAI's learningRateMultiplier before calling Together, naming it", async () => {
    const { server, provider } = await setup();
    const input = jobInput("file-unused", { hyperparameters: { learningRateMultiplier: 2 } });
    const error = await providerError(provider.createJob(KEY, input));
    expect(error).toMatchObject({
      provider: "together",
      kind: "invalid_request",
      details: { param: "learningRateMultiplier" },
    });
    expect(server.counters.requests["POST /fine-tunes"]).toBeUndefined();
  });

  it("asks Together for its price estimate of an uploaded file", async () => {
    const { provider } = await setup();
    const trainingFileId = await uploaded(provider);
    const price = await provider.estimatePriceUsd?.(KEY, {
      model: LLAMA,
      trainingFileId,
      nEpochs: 3,
    });
    expect(price).toBeGreaterThan(0);
    const one = await provider.estimatePriceUsd?.(KEY, {
      model: LLAMA,
      trainingFileId,
      nEpochs: 1,
    });
    expect(price).toBeCloseTo((one ?? 0) * 3, 12);
    // The job evaluates its validation file once per epoch, and Together bills that: so does the quote.
    const validationFileId = await uploaded(provider, "fineflow-job-1-validation.jsonl", 5);
    const withEvals = await provider.estimatePriceUsd?.(KEY, {
      model: LLAMA,
      trainingFileId,
      validationFileId,
      nEpochs: 3,
    });
    const evalOnce = await provider.estimatePriceUsd?.(KEY, {
      model: LLAMA,
      trainingFileId: validationFileId,
      nEpochs: 1,
    });
    expect(withEvals).toBeCloseTo((price ?? 0) + 3 * (evalOnce ?? 0), 12);
    const bad = (await provider.uploadFile(KEY, { filename: "bad.jsonl", content: new Blob(["nope"]) })).id;
    expect(
      await provider.estimatePriceUsd?.(KEY, {
        model: LLAMA,
        trainingFileId: bad,
        nEpochs: 1,
      }),
    ).toBeUndefined();
  });

  describe("errors", () => {
    const SECRET = "fake-together-key-that-must-never-leak-0123456789";

    it.each([
      ["a wrong key", "auth", 401],
      ["no credit", "quota", 402],
      ["a model Together does not fine-tune", "invalid_request", 400],
      ["an unknown job", "not_found", 404],
      ["a rate limit", "transient", 429],
      ["a server error", "transient", 503],
    ] as const)("maps %s to %s, without the key in the message", async (what, kind, status) => {
      const { server, provider } = await setup({
        apiKeys: [KEY, SECRET],
        noCreditKeys: ["fake-together-broke"],
      });
      const fileId = await uploaded(provider);
      const calls: Record<typeof what, () => Promise<unknown>> = {
        "a wrong key": () => provider.getJob(`${SECRET}-revoked`, "ft-x"),
        "no credit": async () => {
          const own = await provider.uploadFile("fake-together-broke", {
            filename: "t.jsonl",
            content: jsonl(20),
          });
          return provider.createJob("fake-together-broke", jobInput(own.id));
        },
        "a model Together does not fine-tune": () =>
          provider.createJob(KEY, jobInput(fileId, { model: "gpt-4o-mini" })),
        "an unknown job": () => provider.getJob(SECRET, "ft-00000000-0000-0000-0000-000000000000"),
        "a rate limit": () => {
          server.rateLimitNext(1, 7);
          return provider.listEvents(SECRET, "ft-x");
        },
        "a server error": () => {
          // Even a server that echoes the key back must not get it into FineFlow's messages.
          server.failNext(1, 503, `upstream rejected key ${SECRET}`);
          return provider.findFile(SECRET, "x.jsonl");
        },
      };
      const error = await providerError(calls[what]());
      expect(error).toMatchObject({ provider: "together", kind, details: { status } });
      expect(error.message).not.toContain(SECRET);
      expect(JSON.stringify(error.details)).not.toContain(SECRET);
      if (what === "a model Together does not fine-tune") {
        expect(error.details).toMatchObject({ param: "model", code: "model_not_available" });
        expect(error.message).toContain("is not available for fine-tuning");
      }
      if (what === "a rate limit") expect(error.details.retryAfterMs).toBe(7000);
    });

    it("maps a dead connection to transient", async () => {
      const { server, provider } = await setup();
      await server.close();
      servers.splice(servers.indexOf(server), 1);
      const error = await providerError(provider.getJob(SECRET, "ft-x"));
      expect(error.kind).toBe("transient");
      expect(error.message).not.toContain(SECRET);
    });

    it("never lets the SDK resend an upload or a job creation, which could make a second one", async () => {
      const server = await startFakeTogetherServer();
      servers.push(server);
      const provider = createTogetherTrainingProvider({ baseURL: server.baseURL, maxRetries: 2 });
      server.failNext(1, 503);
      expect((await providerError(uploaded(provider))).kind).toBe("transient");
      const fileId = await uploaded(provider);
      server.failNext(1, 503);
      expect((await providerError(provider.createJob(KEY, jobInput(fileId)))).kind).toBe("transient");
      expect(server.counters.requests).toMatchObject({ "POST /files/upload": 2, "POST /fine-tunes": 1 });
      expect(server.counters.jobCreations).toBe(0);
    });

    it("lets the SDK retry a rate limit when asked to", async () => {
      const server = await startFakeTogetherServer();
      servers.push(server);
      const provider = createTogetherTrainingProvider({ baseURL: server.baseURL, maxRetries: 1 });
      server.rateLimitNext(1, 0);
      expect(await provider.findFile(KEY, "x.jsonl")).toBeUndefined();
      expect(server.counters.requests["GET /files"]).toBe(2);
    });
  });
});

function withoutTotal<T extends { totalSteps?: number }>(point: T): Omit<T, "totalSteps"> {
  const { totalSteps: _totalSteps, ...rest } = point;
  return rest;
}
