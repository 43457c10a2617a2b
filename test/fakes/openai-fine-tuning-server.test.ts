import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI, {
  AuthenticationError,
  BadRequestError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  toFile,
} from "openai";
import type { FineTuningJob, JobCreateParams } from "openai/resources/fine-tuning/jobs/jobs";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import {
  type FakeFineTuningOptions,
  type FakeFineTuningServer,
  resolveHyperparameters,
  startFakeOpenAiFineTuningServer,
} from "./openai-fine-tuning-server.js";

const KEY = "sk-test-fineflow";
const MODEL = "gpt-4o-mini-2024-07-18";
const servers: FakeFineTuningServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(options?: FakeFineTuningOptions): Promise<FakeFineTuningServer> {
  const server = await startFakeOpenAiFineTuningServer(options);
  servers.push(server);
  return server;
}

function clientFor(server: FakeFineTuningServer, apiKey = KEY, maxRetries = 0): OpenAI {
  return new OpenAI({ baseURL: server.baseURL, apiKey, maxRetries });
}

/** `count` chat examples in OpenAI's fine-tuning format. */
function jsonl(count: number): string {
  return Array.from({ length: count }, (_, index) =>
    JSON.stringify({
      messages: [
        { role: "system", content: "You answer questions about plants." },
        { role: "user", content: `What is fact number ${index}?` },
        { role: "assistant", content: `Fact ${index}: leaves turn light into sugar.` },
      ],
    }),
  ).join("\n");
}

async function upload(client: OpenAI, content: string, filename = "train.jsonl") {
  return client.files.create({ file: await toFile(Buffer.from(content), filename), purpose: "fine-tune" });
}

async function createJob(client: OpenAI, overrides: Partial<JobCreateParams> = {}): Promise<FineTuningJob> {
  const file = await upload(client, jsonl(20));
  return client.fineTuning.jobs.create({ model: MODEL, training_file: file.id, ...overrides });
}

async function rejection<T extends Error>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => T,
): Promise<T> {
  const error = await promise.then(
    () => new Error("expected the call to fail"),
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(type);
  return error as T;
}

describe("fake OpenAI fine-tuning, through the openai SDK", () => {
  it("runs a job from upload to success on the simulated clock", async () => {
    const fake = await start();
    const client = clientFor(fake);
    const training = await upload(client, jsonl(20));
    const validation = await upload(client, jsonl(5), "valid.jsonl");
    expect(training).toMatchObject({ object: "file", purpose: "fine-tune", filename: "train.jsonl" });
    expect(training.id).toMatch(/^file-\w{22}$/);

    const created = await client.fineTuning.jobs.create({
      model: MODEL,
      training_file: training.id,
      validation_file: validation.id,
      suffix: "plants",
      metadata: { fineflow_job_id: "job_1" },
      method: { type: "supervised", supervised: { hyperparameters: { batch_size: 2 } } },
    });
    expect(created.id).toMatch(/^ftjob-\w{24}$/);
    expect(created.status).toBe("validating_files");
    expect(created.hyperparameters).toEqual({
      n_epochs: "auto",
      batch_size: 2,
      learning_rate_multiplier: "auto",
    });
    expect(created.estimated_finish).toBeNull();

    fake.advance(9);
    expect((await client.fineTuning.jobs.retrieve(created.id)).status).toBe("validating_files");
    fake.advance(1);
    const queued = await client.fineTuning.jobs.retrieve(created.id);
    expect(queued.status).toBe("queued");
    // 20 examples: 20 × 3 < 100, so auto epochs = min(25, floor(100 / 20)) = 5; 20 × 5 / 2 = 50 steps.
    expect(queued.hyperparameters).toEqual({ n_epochs: 5, batch_size: 2, learning_rate_multiplier: 1.8 });
    expect(queued.estimated_finish).toBe(Math.floor(fake.now()) + 20 + 50);

    fake.advance(20);
    expect((await client.fineTuning.jobs.retrieve(created.id)).status).toBe("running");
    fake.advance(10);
    const events = await client.fineTuning.jobs.listEvents(created.id, { limit: 100 });
    expect(events.data[0]).toMatchObject({ type: "metrics", data: { step: 10, total_steps: 50 } });

    expect(fake.runToEnd(created.id)).toBe(40);
    const done = await client.fineTuning.jobs.retrieve(created.id);
    expect(done).toMatchObject({
      status: "succeeded",
      fine_tuned_model: `ft:${MODEL}:fineflow-test:plants:${created.id.slice(-8)}`,
      finished_at: Math.floor(fake.now()),
      error: null,
      metadata: { fineflow_job_id: "job_1" },
    });
    expect(done.trained_tokens).toBeGreaterThan(0);
    expect(done.result_files).toHaveLength(1);
    expect(fake.contractViolations).toEqual([]);
    expect(fake.stats).toMatchObject({ uploads: 2, jobsCreated: 1, cancels: 0 });
    expect(fake.stats.requests["GET /fine_tuning/jobs/{fine_tuning_job_id}"]).toBe(4);
  });

  it("pages events newest first and carries metrics like OpenAI", async () => {
    const fake = await start();
    const client = clientFor(fake);
    const job = await createJob(client, {
      method: { type: "supervised", supervised: { hyperparameters: { n_epochs: 1 } } },
    });
    fake.runToEnd(job.id);

    const first = await client.fineTuning.jobs.listEvents(job.id, { limit: 5 });
    expect(first.data).toHaveLength(5);
    expect(first.has_more).toBe(true);
    expect(first.data[0]?.message).toBe("The job has successfully completed");
    const all = [];
    for await (const event of client.fineTuning.jobs.listEvents(job.id, { limit: 7 })) all.push(event);
    const times = all.map((event) => event.created_at);
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(new Set(all.map((event) => event.id)).size).toBe(all.length);
    const oldest = all.at(-1);
    expect(oldest?.message).toBe(`Created fine-tuning job: ${job.id}`);
    const metrics = all.filter((event) => event.type === "metrics");
    expect(metrics).toHaveLength(20);
    expect(metrics.at(-1)).toMatchObject({
      object: "fine_tuning.job.event",
      level: "info",
      message: expect.stringMatching(/^Step 1\/20: training loss=\d/),
      data: {
        step: 1,
        total_steps: 20,
        train_loss: expect.any(Number),
        train_mean_token_accuracy: expect.any(Number),
      },
    });
    expect(fake.contractViolations).toEqual([]);
  });

  it("keeps checkpoints for the last three epochs and writes the step metrics CSV", async () => {
    const fake = await start();
    const client = clientFor(fake);
    const job = await createJob(client, {
      method: { type: "supervised", supervised: { hyperparameters: { n_epochs: 4 } } },
    });
    fake.runToEnd(job.id);
    const checkpoints = await client.fineTuning.jobs.checkpoints.list(job.id);
    expect(checkpoints.data.map((checkpoint) => checkpoint.step_number)).toEqual([80, 60, 40]);
    expect(checkpoints.data[0]).toMatchObject({
      object: "fine_tuning.job.checkpoint",
      fine_tuning_job_id: job.id,
      fine_tuned_model_checkpoint: expect.stringMatching(
        /^ft:gpt-4o-mini-2024-07-18:fineflow-test::\w{8}:ckpt-step-80$/,
      ),
      metrics: { step: 80 },
    });
    expect(checkpoints.data[0]?.id).toMatch(/^ftckpt_\w{24}$/);

    const done = await client.fineTuning.jobs.retrieve(job.id);
    const resultId = done.result_files[0] ?? "";
    const info = await client.files.retrieve(resultId);
    expect(info).toMatchObject({ purpose: "fine-tune-results", filename: "step_metrics.csv" });
    const raw = await (await client.files.content(resultId)).text();
    const csv = Buffer.from(raw, "base64").toString("utf8").trim().split("\n");
    expect(csv[0]).toBe("step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy");
    expect(csv).toHaveLength(81);
    expect(csv[1]).toMatch(/^1,[\d.]+,[\d.]+,,$/);
    expect(fake.contractViolations).toEqual([]);
  });

  it("cancels in validating_files, queued, running and paused, and refuses once finished", async () => {
    const fake = await start();
    const client = clientFor(fake);
    const inValidation = await createJob(client);
    expect((await client.fineTuning.jobs.cancel(inValidation.id)).status).toBe("cancelled");

    const inQueue = await createJob(client);
    fake.advance(10);
    expect((await client.fineTuning.jobs.retrieve(inQueue.id)).status).toBe("queued");
    expect((await client.fineTuning.jobs.cancel(inQueue.id)).status).toBe("cancelled");

    const running = await createJob(client);
    fake.advance(35);
    expect((await client.fineTuning.jobs.retrieve(running.id)).status).toBe("running");
    expect((await client.fineTuning.jobs.cancel(running.id)).status).toBe("cancelled");
    fake.advance(1000);
    const stopped = await client.fineTuning.jobs.retrieve(running.id);
    expect(stopped).toMatchObject({ status: "cancelled", fine_tuned_model: null, result_files: [] });

    const paused = await createJob(client);
    fake.advance(35);
    fake.pauseJob(paused.id);
    expect((await client.fineTuning.jobs.cancel(paused.id)).status).toBe("cancelled");

    const error = await rejection(client.fineTuning.jobs.cancel(running.id), BadRequestError);
    expect(error.message).toContain("already cancelled");
    const finished = await createJob(client);
    fake.runToEnd(finished.id);
    await rejection(client.fineTuning.jobs.cancel(finished.id), BadRequestError);
    expect(fake.stats.cancels).toBe(4);
    await rejection(client.fineTuning.jobs.cancel("ftjob-unknown"), NotFoundError);
  });

  it("holds a paused job still until it is resumed", async () => {
    const fake = await start();
    const client = clientFor(fake);
    const job = await createJob(client);
    fake.advance(35);
    const paused = await client.fineTuning.jobs.pause(job.id);
    expect(paused.status).toBe("paused");
    const steps = async () =>
      (await client.fineTuning.jobs.listEvents(job.id, { limit: 1000 })).data.filter(
        (event) => event.type === "metrics",
      ).length;
    const before = await steps();
    fake.advance(500);
    expect(await steps()).toBe(before);
    expect((await client.fineTuning.jobs.resume(job.id)).status).toBe("running");
    fake.runToEnd(job.id);
    expect((await client.fineTuning.jobs.retrieve(job.id)).status).toBe("succeeded");
    // The reference's status enum lacks `paused`; the fake documents that gap rather than report it.
    expect(fake.contractViolations).toEqual([]);
  });

  it("lists jobs newest first, pages them and filters by metadata", async () => {
    const fake = await start();
    const client = clientFor(fake);
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) {
      ids.push((await createJob(client, { metadata: { fineflow_job_id: `job_${index}` } })).id);
    }
    const page = await client.fineTuning.jobs.list({ limit: 2 });
    expect(page.data.map((job) => job.id)).toEqual([ids[4], ids[3]]);
    expect(page.has_more).toBe(true);
    const all = [];
    for await (const job of client.fineTuning.jobs.list({ limit: 2 })) all.push(job.id);
    expect(all).toEqual([...ids].reverse());
    const filtered = await client.fineTuning.jobs.list({ metadata: { fineflow_job_id: "job_2" } });
    expect(filtered.data.map((job) => job.id)).toEqual([ids[2]]);
    expect(fake.contractViolations).toEqual([]);
  });

  it("lists files by purpose with paging, per key", async () => {
    const fake = await start({ apiKeys: [KEY, "sk-test-other"] });
    const client = clientFor(fake);
    const uploaded = [];
    for (let index = 0; index < 3; index++)
      uploaded.push((await upload(client, jsonl(10), `f${index}.jsonl`)).id);
    await client.files.create({ file: await toFile(Buffer.from("x"), "notes.pdf"), purpose: "assistants" });
    const names = [];
    for await (const file of client.files.list({ purpose: "fine-tune", limit: 2 })) names.push(file.filename);
    expect(names).toEqual(["f2.jsonl", "f1.jsonl", "f0.jsonl"]);
    const ascending = await client.files.list({ purpose: "fine-tune", order: "asc", limit: 2 });
    expect(ascending.data.map((file) => file.id)).toEqual(uploaded.slice(0, 2));
    expect((await clientFor(fake, "sk-test-other").files.list()).data).toEqual([]);
    await rejection(clientFor(fake, "sk-test-other").files.retrieve(uploaded[0] ?? ""), NotFoundError);
    expect(fake.contractViolations).toEqual([]);
  });

  describe("errors", () => {
    it("answers an unknown key with 401 invalid_api_key, masking it", async () => {
      const fake = await start();
      const error = await rejection(
        clientFor(fake, "sk-test-wrong-key-1234").files.list(),
        AuthenticationError,
      );
      expect(error.status).toBe(401);
      expect(error.code).toBe("invalid_api_key");
      expect(error.message).toContain("sk-***1234");
      expect(error.message).not.toContain("sk-test-wrong-key-1234");
      expect(error.requestID).toMatch(/^req_/);
    });

    it("refuses job creation with the wind-down answer and insufficient_quota", async () => {
      const fake = await start({
        apiKeys: [KEY, "sk-test-closed", "sk-test-broke"],
        windDownKeys: ["sk-test-closed"],
        quotaExceededKeys: ["sk-test-broke"],
      });
      const closed = clientFor(fake, "sk-test-closed");
      const file = await upload(closed, jsonl(10));
      const denied = await rejection(
        closed.fineTuning.jobs.create({ model: MODEL, training_file: file.id }),
        PermissionDeniedError,
      );
      expect(denied.code).toBe("fine_tuning_not_available");
      const broke = clientFor(fake, "sk-test-broke");
      const brokeFile = await upload(broke, jsonl(10));
      const quota = await rejection(
        broke.fineTuning.jobs.create({ model: MODEL, training_file: brokeFile.id }),
        RateLimitError,
      );
      expect(quota).toMatchObject({ status: 429, code: "insufficient_quota", type: "insufficient_quota" });
      expect((await createJob(clientFor(fake))).status).toBe("validating_files");
      fake.setOptions({ windDownKeys: "all" });
      await rejection(createJob(clientFor(fake)), PermissionDeniedError);
    });

    it("fails a job at validation for a bad training file, like OpenAI", async () => {
      const fake = await start({
        rejectTrainingFile: ({ filename }) =>
          filename === "banned.jsonl" ? "The file violates our policies." : undefined,
      });
      const client = clientFor(fake);
      const cases = [
        { content: `${jsonl(10)}\nnot json`, expected: /Line 11 is not valid JSON/ },
        { content: jsonl(3), expected: /has 3 example\(s\), but must have at least 10 examples/ },
        { content: `${jsonl(10)}\n{"prompt":"old format"}`, expected: /key "messages"/ },
        { content: jsonl(10), filename: "banned.jsonl", expected: /violates our policies/ },
      ];
      for (const { content, expected, filename } of cases) {
        const file = await upload(client, content, filename);
        const job = await client.fineTuning.jobs.create({ model: MODEL, training_file: file.id });
        fake.advance(10);
        const failed = await client.fineTuning.jobs.retrieve(job.id);
        expect(failed.status).toBe("failed");
        expect(failed.error).toMatchObject({ code: "invalid_training_file", param: "training_file" });
        expect(failed.error?.message).toMatch(expected);
        const [last] = (await client.fineTuning.jobs.listEvents(job.id, { limit: 1 })).data;
        expect(last?.level).toBe("error");
      }
      const notJsonl = await rejection(upload(client, jsonl(10), "train.csv"), BadRequestError);
      expect(notJsonl.message).toContain("Must be .jsonl");
      expect(fake.contractViolations).toEqual([]);
    });

    it("refuses uploads over the size limit", async () => {
      const fake = await start({ maxFileBytes: 1024 });
      const error = await rejection(upload(clientFor(fake), jsonl(50)), BadRequestError);
      expect(error).toMatchObject({ param: "file", code: "file_too_large" });
      expect(fake.stats.uploads).toBe(0);
    });

    it("fails a job during training when told to", async () => {
      const fake = await start({ failTraining: { atStep: 3, when: (job) => job.suffix === "doomed" } });
      const client = clientFor(fake);
      const doomed = await createJob(client, { suffix: "doomed" });
      const fine = await createJob(client);
      fake.runToEnd(doomed.id);
      const failed = await client.fineTuning.jobs.retrieve(doomed.id);
      expect(failed).toMatchObject({
        status: "failed",
        error: { code: "server_error", param: null },
        fine_tuned_model: null,
      });
      const metrics = (await client.fineTuning.jobs.listEvents(doomed.id, { limit: 100 })).data.filter(
        (event) => event.type === "metrics",
      );
      expect(metrics).toHaveLength(3);
      fake.runToEnd(fine.id);
      expect((await client.fineTuning.jobs.retrieve(fine.id)).status).toBe("succeeded");
    });

    it("rejects models that cannot be fine-tuned and files that do not exist", async () => {
      const fake = await start();
      const client = clientFor(fake);
      const file = await upload(client, jsonl(10));
      const model = await rejection(
        client.fineTuning.jobs.create({ model: "gpt-3.5-turbo-0125", training_file: file.id }),
        BadRequestError,
      );
      expect(model).toMatchObject({ param: "model", code: "model_not_available" });
      expect(model.message).toContain("not available for fine-tuning");
      const missing = await rejection(
        client.fineTuning.jobs.create({ model: MODEL, training_file: "file-missing" }),
        BadRequestError,
      );
      expect(missing.param).toBe("training_file");
      await rejection(client.files.content("file-missing"), NotFoundError);
    });

    it("answers 429 with retry headers on demand, which the SDK honours", async () => {
      const fake = await start();
      fake.rateLimitNext(1, 0.01);
      const error = await rejection(clientFor(fake).fineTuning.jobs.list(), RateLimitError);
      expect(error.code).toBe("rate_limit_exceeded");
      expect(error.headers?.get("retry-after")).toBe("1");
      expect(error.headers?.get("x-ratelimit-remaining-requests")).toBe("0");
      fake.rateLimitNext(1, 0.01);
      await expect(clientFor(fake, KEY, 1).fineTuning.jobs.list()).resolves.toBeDefined();
      fake.failNext(1, 503);
      const unavailable = await rejection(clientFor(fake).files.list(), Error);
      expect((unavailable as { status?: number }).status).toBe(503);
    });
  });

  describe("contract", () => {
    it("rejects a malformed request with a 400 naming the param", async () => {
      const fake = await start();
      const client = clientFor(fake);
      const file = await upload(client, jsonl(10));
      const epochs = await rejection(
        client.fineTuning.jobs.create({
          model: MODEL,
          training_file: file.id,
          method: { type: "supervised", supervised: { hyperparameters: { n_epochs: 0 } } },
        }),
        BadRequestError,
      );
      expect(epochs).toMatchObject({
        param: "method.supervised.hyperparameters.n_epochs",
        code: "invalid_value",
      });
      const suffix = await rejection(
        client.fineTuning.jobs.create({
          model: MODEL,
          training_file: file.id,
          suffix: 7 as unknown as string,
        }),
        BadRequestError,
      );
      expect(suffix).toMatchObject({ param: "suffix", code: "invalid_type" });
      const missing = await rejection(
        client.fineTuning.jobs.create({ model: MODEL } as JobCreateParams),
        BadRequestError,
      );
      expect(missing).toMatchObject({ param: "training_file", code: "missing_required_parameter" });
      const purpose = await rejection(
        client.files.create({
          file: await toFile(Buffer.from(jsonl(10)), "a.jsonl"),
          purpose: "nope" as "fine-tune",
        }),
        BadRequestError,
      );
      expect(purpose.param).toBe("purpose");
      const limit = await rejection(
        client.fineTuning.jobs.list({ limit: "many" as unknown as number }),
        BadRequestError,
      );
      expect(limit.param).toBe("limit");
      expect(fake.stats.jobsCreated).toBe(0);
      expect(fake.contractViolations).toEqual([]);
    });

    it("records its own answers that stray from the reference", async () => {
      // A reference in which list pages must carry a numeric first_id: the fake's "" then strays.
      const dir = mkdtempSync(join(tmpdir(), "fineflow-spec-"));
      const specPath = join(dir, "openapi.yaml");
      writeFileSync(specPath, STRICTER_SPEC);
      onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
      const fake = await start({ specPath });
      await clientFor(fake).files.list();
      expect(fake.contractViolations).toEqual(["GET /v1/files → 200: first_id must be integer"]);
      const unknownPath = await rejection(clientFor(fake).fineTuning.jobs.list(), NotFoundError);
      expect(unknownPath.message).toContain("Invalid URL");
    });
  });
});

const STRICTER_SPEC = `
openapi: 3.0.3
info: { title: stricter, version: "1" }
servers: [{ url: https://api.openai.com/v1 }]
paths:
  /files:
    get:
      parameters:
        - { name: limit, in: query, schema: { type: integer } }
      responses:
        "200":
          description: OK
          content:
            application/json:
              schema:
                type: object
                required: [object, data, first_id]
                properties:
                  object: { type: string }
                  data: { type: array }
                  first_id: { type: integer, nullable: true }
components:
  schemas:
    ErrorResponse:
      type: object
      required: [error]
      properties: { error: { type: object } }
`;

describe("resolveHyperparameters (OpenAI's auto rule)", () => {
  const auto = { n_epochs: "auto", batch_size: "auto", learning_rate_multiplier: "auto" } as const;
  it.each([
    [10, 10],
    [20, 5],
    [33, 3],
    [34, 3],
    [5000, 3],
    [8333, 3],
    [8334, 2],
    [10_000, 2],
    [30_000, 1],
    [1, 25],
  ])("%i examples → %i epochs", (examples, epochs) => {
    expect(resolveHyperparameters({ ...auto }, examples)).toEqual({
      n_epochs: epochs,
      batch_size: 1,
      learning_rate_multiplier: 1.8,
    });
  });
});
