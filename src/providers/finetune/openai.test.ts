import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import {
  type FakeFineTuningOptions,
  type FakeFineTuningServer,
  startFakeOpenAiFineTuningServer,
} from "../../../test/fakes/openai-fine-tuning-server.js";
import {
  type ProviderError,
  ProviderError as ProviderErrorClass,
  type ProviderJob,
} from "../../core/training/provider.js";
import { createOpenAiTrainingProvider, parseResultCsv } from "./openai.js";

const KEY = "sk-test-fineflow-adapter-0001";
const MODEL = "gpt-4.1-mini-2025-04-14";
const servers: FakeFineTuningServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function setup(options: FakeFineTuningOptions = {}) {
  const fake = await startFakeOpenAiFineTuningServer({ apiKeys: [KEY], ...options });
  servers.push(fake);
  const provider = createOpenAiTrainingProvider({ baseURL: fake.baseURL, maxRetries: 0, timeoutMs: 5_000 });
  return { fake, provider };
}

function jsonl(count: number): Blob {
  const lines = Array.from({ length: count }, (_, index) =>
    JSON.stringify({
      messages: [
        { role: "user", content: `Question ${index}: what do roots do?` },
        { role: "assistant", content: `Answer ${index}: they take up water.` },
      ],
    }),
  );
  return new Blob([lines.join("\n")]);
}

async function providerError(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => new Error("expected the call to fail"),
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ProviderErrorClass);
  return error as ProviderError;
}

describe("OpenAI training provider against the fake", () => {
  it("uploads, creates and follows a job to completion", async () => {
    const { fake, provider } = await setup();
    expect(provider.name).toBe("openai");
    expect(await provider.findFile(KEY, "job_1-train.jsonl")).toBeUndefined();
    const training = await provider.uploadFile(KEY, { filename: "job_1-train.jsonl", content: jsonl(20) });
    const validation = await provider.uploadFile(KEY, { filename: "job_1-valid.jsonl", content: jsonl(5) });
    expect(await provider.findFile(KEY, "job_1-train.jsonl")).toEqual(training);

    const created = await provider.createJob(KEY, {
      model: MODEL,
      trainingFileId: training.id,
      validationFileId: validation.id,
      hyperparameters: { nEpochs: 2 },
      suffix: "roots",
      fineflowJobId: "job_1",
    });
    expect(created).toMatchObject({
      providerStatus: "validating_files",
      status: "validating",
      model: MODEL,
      trainingFileId: training.id,
      validationFileId: validation.id,
      hyperparameters: { nEpochs: 2 },
      resultFileIds: [],
    });
    expect(created.error).toBeUndefined();
    expect(created.finishedAt).toBeUndefined();
    // Left undefined, batch size and multiplier went out as nothing, so OpenAI chose them.
    const raw = await new OpenAI({ baseURL: fake.baseURL, apiKey: KEY }).fineTuning.jobs.retrieve(created.id);
    expect(raw.method?.supervised?.hyperparameters).toEqual({
      n_epochs: 2,
      batch_size: "auto",
      learning_rate_multiplier: "auto",
    });
    expect(raw.metadata).toEqual({ fineflow_job_id: "job_1" });

    const statuses: Array<ProviderJob["status"]> = [];
    for (const seconds of [10, 20, 5]) {
      fake.advance(seconds);
      statuses.push((await provider.getJob(KEY, created.id)).status);
    }
    expect(statuses).toEqual(["queued", "training", "training"]);
    fake.runToEnd(created.id);
    const done = await provider.getJob(KEY, created.id);
    expect(done).toMatchObject({
      providerStatus: "succeeded",
      status: "completed",
      fineTunedModel: expect.stringMatching(/^ft:gpt-4\.1-mini-2025-04-14:fineflow-test:roots:/),
      hyperparameters: { nEpochs: 2, batchSize: 1, learningRateMultiplier: 1.8 },
      resultFileIds: [expect.stringMatching(/^file-/)],
    });
    expect(done.trainedTokens).toBeGreaterThan(0);
    expect(done.finishedAt?.getTime()).toBe(Math.floor(fake.now()) * 1000);
    expect(done.createdAt.getTime()).toBe(created.createdAt.getTime());
    expect(fake.contractViolations).toEqual([]);
  });

  it("finds the job made on a training file, so a restart never creates twice", async () => {
    const { fake, provider } = await setup();
    const files = [];
    for (let index = 0; index < 3; index++) {
      files.push(
        await provider.uploadFile(KEY, { filename: `job_${index}-train.jsonl`, content: jsonl(10) }),
      );
    }
    const jobs = [];
    for (const [index, file] of files.entries()) {
      jobs.push(
        await provider.createJob(KEY, {
          model: MODEL,
          trainingFileId: file.id,
          hyperparameters: {},
          fineflowJobId: `job_${index}`,
        }),
      );
    }
    expect((await provider.findJobByTrainingFile(KEY, files[0]?.id ?? ""))?.id).toBe(jobs[0]?.id);
    expect((await provider.findJobByTrainingFile(KEY, files[2]?.id ?? ""))?.id).toBe(jobs[2]?.id);
    const unused = await provider.uploadFile(KEY, { filename: "job_9-train.jsonl", content: jsonl(10) });
    expect(await provider.findJobByTrainingFile(KEY, unused.id)).toBeUndefined();
    expect(await provider.findJobByTrainingFile(KEY, "file-gone")).toBeUndefined();
    expect(fake.stats.jobsCreated).toBe(3);
  });

  it("returns every event oldest first, following OpenAI's pages, with metrics parsed", async () => {
    const { fake, provider } = await setup();
    const training = await provider.uploadFile(KEY, { filename: "t.jsonl", content: jsonl(20) });
    const validation = await provider.uploadFile(KEY, { filename: "v.jsonl", content: jsonl(5) });
    const job = await provider.createJob(KEY, {
      model: MODEL,
      trainingFileId: training.id,
      validationFileId: validation.id,
      hyperparameters: { nEpochs: 6 },
      fineflowJobId: "job_e",
    });
    fake.runToEnd(job.id);
    const events = await provider.listEvents(KEY, job.id);
    // 120 steps plus status messages: more than one page of 100.
    expect(events.length).toBeGreaterThan(120);
    expect(fake.stats.requests["GET /fine_tuning/jobs/{fine_tuning_job_id}/events"]).toBe(2);
    expect(events[0]?.message).toBe(`Created fine-tuning job: ${job.id}`);
    expect(events.at(-1)?.message).toBe("The job has successfully completed");
    const times = events.map((event) => event.createdAt.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const metrics = events.filter((event) => event.type === "metrics").map((event) => event.metrics);
    expect(metrics.map((entry) => entry?.step)).toEqual(Array.from({ length: 120 }, (_, index) => index + 1));
    expect(metrics[0]).toEqual({
      step: 1,
      totalSteps: 120,
      trainLoss: expect.any(Number),
      trainAccuracy: expect.any(Number),
    });
    expect(metrics[11]).toMatchObject({
      step: 12,
      validLoss: expect.any(Number),
      validAccuracy: expect.any(Number),
    });
    expect(events.every((event) => event.level === "info")).toBe(true);

    const checkpoints = await provider.listCheckpoints(KEY, job.id);
    expect(checkpoints.map((checkpoint) => checkpoint.step)).toEqual([80, 100, 120]);
    expect(checkpoints[2]).toMatchObject({
      id: expect.stringMatching(/^ftckpt_/),
      model: expect.stringContaining(":ckpt-step-120"),
      metrics: { step: 120, trainLoss: expect.any(Number), validLoss: expect.any(Number) },
    });
    expect(fake.contractViolations).toEqual([]);
  });

  it("reads the per-step metrics from the result CSV, base64 or plain", async () => {
    for (const resultFileEncoding of ["base64", "plain"] as const) {
      const { fake, provider } = await setup({ resultFileEncoding });
      const training = await provider.uploadFile(KEY, { filename: "t.jsonl", content: jsonl(20) });
      const validation = await provider.uploadFile(KEY, { filename: "v.jsonl", content: jsonl(3) });
      const job = await provider.createJob(KEY, {
        model: MODEL,
        trainingFileId: training.id,
        validationFileId: validation.id,
        hyperparameters: { nEpochs: 3, batchSize: 2 },
        fineflowJobId: "job_r",
      });
      fake.runToEnd(job.id);
      const rows = await provider.readResultMetrics(KEY, await provider.getJob(KEY, job.id));
      // 20 examples × 3 epochs / batch 2 = 30 steps; validation every third step.
      expect(rows).toHaveLength(30);
      expect(rows[0]).toEqual({ step: 1, trainLoss: expect.any(Number), trainAccuracy: expect.any(Number) });
      expect(rows[29]).toEqual({
        step: 30,
        trainLoss: expect.any(Number),
        trainAccuracy: expect.any(Number),
        validLoss: expect.any(Number),
        validAccuracy: expect.any(Number),
      });
    }
  });

  it("tolerates missing and empty CSV columns", () => {
    const csv = "step,train_loss,extra,valid_loss\n1,2.5,x,\n2,,y,1.9\n\nnot-a-row\n";
    expect(parseResultCsv(csv)).toEqual([
      { step: 1, trainLoss: 2.5 },
      { step: 2, validLoss: 1.9 },
    ]);
    expect(parseResultCsv("")).toEqual([]);
    expect(parseResultCsv(Buffer.from("step,train_accuracy\n3,0.9\n").toString("base64"))).toEqual([
      { step: 3, trainAccuracy: 0.9 },
    ]);
  });

  it("cancels, keeps a paused job's status as OpenAI's word, and reports a failed validation", async () => {
    const { fake, provider } = await setup();
    const file = await provider.uploadFile(KEY, { filename: "t.jsonl", content: jsonl(10) });
    const input = { model: MODEL, trainingFileId: file.id, hyperparameters: {}, fineflowJobId: "job_c" };
    const job = await provider.createJob(KEY, input);
    expect(await provider.cancelJob(KEY, job.id)).toMatchObject({
      status: "cancelled",
      providerStatus: "cancelled",
    });
    const again = await providerError(provider.cancelJob(KEY, job.id));
    expect(again.kind).toBe("invalid_request");

    const paused = await provider.createJob(KEY, input);
    fake.advance(35);
    fake.pauseJob(paused.id);
    const seen = await provider.getJob(KEY, paused.id);
    expect(seen.providerStatus).toBe("paused");
    expect(seen.status).toBeUndefined();

    const bad = await provider.uploadFile(KEY, { filename: "bad.jsonl", content: jsonl(4) });
    const failing = await provider.createJob(KEY, { ...input, trainingFileId: bad.id });
    fake.advance(10);
    expect(await provider.getJob(KEY, failing.id)).toMatchObject({
      status: "failed",
      error: {
        code: "invalid_training_file",
        param: "training_file",
        message: expect.stringContaining("at least 10"),
      },
    });
    const events = await provider.listEvents(KEY, failing.id);
    expect(events.at(-1)?.level).toBe("error");
  });

  it("refuses an absolute learning rate before calling OpenAI", async () => {
    const { fake, provider } = await setup();
    const error = await providerError(
      provider.createJob(KEY, {
        model: MODEL,
        trainingFileId: "file-x",
        hyperparameters: { learningRate: 1e-5 },
        fineflowJobId: "job_lr",
      }),
    );
    expect(error).toMatchObject({ kind: "invalid_request", details: { param: "learningRate" } });
    expect(fake.stats.requests).toEqual({});
  });
});

describe("OpenAI training provider error mapping", () => {
  const keys = {
    good: KEY,
    wrong: "sk-test-wrong-0123456789abcdef",
    closed: "sk-test-closed-0123456789abcdef",
    broke: "sk-test-broke-0123456789abcdef",
  };

  async function scenario() {
    const { fake, provider } = await setup({
      apiKeys: [keys.good, keys.closed, keys.broke],
      windDownKeys: [keys.closed],
      quotaExceededKeys: [keys.broke],
    });
    const fileFor = async (key: string) =>
      (await provider.uploadFile(key, { filename: "t.jsonl", content: jsonl(10) })).id;
    const createWith = async (key: string, overrides: { model?: string } = {}) =>
      provider.createJob(key, {
        model: overrides.model ?? MODEL,
        trainingFileId: await fileFor(key),
        hyperparameters: {},
        fineflowJobId: "job_x",
      });
    return { fake, provider, createWith };
  }

  it("maps each refusal to its kind, and no message carries the key", async () => {
    const { fake, provider, createWith } = await scenario();
    const errors: ProviderError[] = [];
    const expectKind = async (promise: Promise<unknown>, kind: ProviderError["kind"], key: string) => {
      const error = await providerError(promise);
      expect(error.kind).toBe(kind);
      expect(error.provider).toBe("openai");
      expect(error.message).not.toContain(key);
      expect(JSON.stringify(error.details)).not.toContain(key);
      errors.push(error);
      return error;
    };

    const auth = await expectKind(provider.getJob(keys.wrong, "ftjob-x"), "auth", keys.wrong);
    expect(auth.details).toMatchObject({ status: 401, code: "invalid_api_key" });
    expect(auth.message).not.toMatch(/0123|cdef/);

    const windDown = await expectKind(createWith(keys.closed), "not_allowed", keys.closed);
    expect(windDown.details).toMatchObject({ status: 403, code: "fine_tuning_not_available" });

    const quota = await expectKind(createWith(keys.broke), "quota", keys.broke);
    expect(quota.details).toMatchObject({ status: 429, code: "insufficient_quota" });

    const model = await expectKind(
      createWith(keys.good, { model: "gpt-3.5-turbo" }),
      "invalid_request",
      keys.good,
    );
    expect(model.details).toMatchObject({ status: 400, param: "model", code: "model_not_available" });
    expect(model.message).toContain("not available for fine-tuning");

    await expectKind(provider.getJob(keys.good, "ftjob-missing"), "not_found", keys.good);

    fake.rateLimitNext(1, 2);
    const limited = await expectKind(provider.listEvents(keys.good, "ftjob-x"), "transient", keys.good);
    expect(limited.details).toMatchObject({ status: 429, code: "rate_limit_exceeded", retryAfterMs: 2000 });

    fake.failNext(
      1,
      503,
      { message: "The engine is currently overloaded.", type: "server_error" },
      { "retry-after": "3" },
    );
    const overloaded = await expectKind(provider.getJob(keys.good, "ftjob-x"), "transient", keys.good);
    expect(overloaded.details).toMatchObject({ status: 503, retryAfterMs: 3000 });

    const echoed = `Something about ${keys.good} went wrong`;
    fake.failNext(1, 400, { message: echoed, type: "invalid_request_error", param: "training_file" });
    const scrubbed = await expectKind(provider.findFile(keys.good, "t.jsonl"), "invalid_request", keys.good);
    expect(scrubbed.details.param).toBe("training_file");
    expect(scrubbed.message).toContain("[redacted]");

    await fake.close();
    await expectKind(provider.getJob(keys.good, "ftjob-x"), "transient", keys.good);
    expect(errors).toHaveLength(9);
  });
});
