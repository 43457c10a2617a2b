import { mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Together, {
  APIError,
  AuthenticationError,
  BadRequestError,
  type ClientOptions,
  InternalServerError,
  NotFoundError,
  RateLimitError,
} from "together-ai";
import type { FileResponse } from "together-ai/resources/files";
import type { FineTuningCreateParams } from "together-ai/resources/fine-tuning";
import { afterEach, describe, expect, it } from "vitest";
import {
  FAKE_TOGETHER_KEY,
  FAKE_TOGETHER_MODELS,
  type FakeTogetherOptions,
  type FakeTogetherServer,
  startFakeTogetherServer,
} from "./together-fine-tuning-server.js";

const LLAMA = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference";
const servers: FakeTogetherServer[] = [];

afterEach(async () => {
  for (const server of servers) expect(server.contractViolations).toEqual([]);
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(options?: FakeTogetherOptions): Promise<FakeTogetherServer> {
  const server = await startFakeTogetherServer(options);
  servers.push(server);
  return server;
}

function clientFor(server: FakeTogetherServer, overrides: Partial<ClientOptions> = {}) {
  return new Together({ baseURL: server.baseURL, apiKey: FAKE_TOGETHER_KEY, maxRetries: 0, ...overrides });
}

function examples(count: number, offset = 0): string {
  return Array.from({ length: count }, (_, index) =>
    JSON.stringify({
      messages: [
        { role: "user", content: `What is fact number ${index + offset}?` },
        {
          role: "assistant",
          content: `Fact number ${index + offset} is that water boils at 100 °C at sea level.`,
        },
      ],
    }),
  ).join("\n");
}

/** The spec's multipart upload, as the FineFlow adapter sends it (the SDK has no typed method for it). */
async function upload(client: Together, filename: string, content: string) {
  const form = new FormData();
  form.append("purpose", "fine-tune");
  form.append("file_name", filename);
  form.append("file_type", "jsonl");
  form.append("file", new Blob([content]), filename);
  return client.post<FileResponse>("/files/upload", { body: form });
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

/** Together's envelope, as the SDK keeps it on APIError.error. */
function envelope(error: InstanceType<typeof APIError>) {
  return (
    error.error as { error: { message: string; type: string; param: string | null; code: string | null } }
  ).error;
}

/** The SDK's types forbid malformed bodies; the double must still reject them as the real API does. */
function malformed(body: Record<string, unknown>): FineTuningCreateParams {
  return body as unknown as FineTuningCreateParams;
}

describe("fake Together files, through the together-ai SDK", () => {
  it("serves the SDK's own upload: POST /files → 302 to a presigned URL → PUT → GET /files/{id}", async () => {
    const server = await start();
    // together-ai 0.52's files.upload() only loads its fs/path helpers in its CommonJS build (under ESM
    // they are undefined), and posts to TOGETHER_API_BASE_URL, read when that build loads, not to the
    // client's baseURL.
    process.env.TOGETHER_API_BASE_URL = server.baseURL;
    const { Together: CommonJsTogether } = createRequire(import.meta.url)(
      "together-ai",
    ) as typeof import("together-ai");
    const dir = mkdtempSync(join(tmpdir(), "fineflow-together-"));
    const path = join(dir, "train.jsonl");
    writeFileSync(path, examples(12));
    const client = new CommonJsTogether({
      baseURL: server.baseURL,
      apiKey: FAKE_TOGETHER_KEY,
      maxRetries: 0,
    });

    // Then it PUTs a file stream without `duplex: "half"`, which Node 20's fetch refuses: the SDK's own
    // upload cannot work here, which is why FineFlow uses the spec's multipart /files/upload.
    await expect(client.files.upload(path, "fine-tune")).rejects.toThrow("duplex option is required");
    delete process.env.TOGETHER_API_BASE_URL;
    expect(server.counters.requests).toEqual({ "POST /files": 1 });

    // The rest of the flow, as the SDK means to send it.
    const started = await fetch(
      `${server.baseURL}/files?file_name=train.jsonl&file_type=jsonl&purpose=fine-tune`,
      {
        method: "POST",
        headers: { authorization: `Bearer ${FAKE_TOGETHER_KEY}` },
        redirect: "manual",
      },
    );
    expect(started.status).toBe(302);
    const id = started.headers.get("x-together-file-id") ?? "";
    const put = await fetch(started.headers.get("location") ?? "", { method: "PUT", body: examples(12) });
    expect(put.status).toBe(200);
    const file = await clientFor(server).files.retrieve(id);
    expect(file).toMatchObject({
      id,
      filename: "train.jsonl",
      object: "file",
      purpose: "fine-tune",
      FileType: "jsonl",
    });
    expect(file.id).toMatch(/^file-[0-9a-f-]{36}$/);
    // A presigned URL works once, and only with its signature.
    expect((await fetch(started.headers.get("location") ?? "", { method: "PUT", body: "x" })).status).toBe(
      403,
    );
    expect(server.counters.uploads).toBe(1);
  });

  it("stores multipart uploads, lists them per account and retrieves one", async () => {
    const server = await start({ apiKeys: [FAKE_TOGETHER_KEY, "fake-together-other-account"] });
    const client = clientFor(server);
    const file = await upload(client, "fineflow-job-1-train.jsonl", examples(20));

    expect(file).toMatchObject({
      filename: "fineflow-job-1-train.jsonl",
      bytes: Buffer.byteLength(examples(20)),
      processing_status: "COMPLETED",
    });
    expect((await client.files.list()).data.map((f) => f.id)).toEqual([file.id]);
    expect(await client.files.retrieve(file.id)).toEqual(file);
    const other = clientFor(server, { apiKey: "fake-together-other-account" });
    expect((await other.files.list()).data).toEqual([]);
    await rejection(other.files.retrieve(file.id), NotFoundError);
    expect(server.counters.uploads).toBe(1);
  });

  it("marks a file that breaks Together's JSONL rules invalid, naming the line", async () => {
    const client = clientFor(await start());
    const file = await upload(client, "bad.jsonl", `${examples(1)}\n{"question": "no"}\n`);
    expect(file.processing_status).toBe("INVALID_FORMAT");
    expect(file.validation_report?.error).toMatch(/^Line 2: expected "messages"/);

    const notJson = await upload(client, "bad2.jsonl", "{oops");
    expect(notJson.validation_report?.error).toBe("Line 1: is not valid JSON");
  });

  it("rejects an upload that is not the spec's multipart form, naming the field", async () => {
    const server = await start();
    const form = new FormData();
    form.append("purpose", "homework");
    form.append("file_name", "x.jsonl");
    form.append("file", new Blob([examples(1)]), "x.jsonl");
    const error = await rejection(clientFor(server).post("/files/upload", { body: form }), BadRequestError);
    expect(envelope(error)).toMatchObject({ type: "invalid_request_error", param: "purpose" });
    expect(server.counters.uploads).toBe(0);
  });
});

describe("fake Together fine-tuning jobs, through the together-ai SDK", () => {
  it("runs a job on simulated time: statuses, events, metrics, checkpoints, price and output model", async () => {
    const server = await start();
    const client = clientFor(server);
    const training = await upload(client, "train.jsonl", examples(20));
    const validation = await upload(client, "valid.jsonl", examples(5, 100));

    const created = await client.fineTuning.create({
      model: LLAMA,
      training_file: training.id,
      validation_file: validation.id,
      n_epochs: 2,
      batch_size: 8,
      n_evals: 2,
      n_checkpoints: 2,
      learning_rate: 0.0001,
      suffix: "faq",
    });
    expect(created).toMatchObject({
      status: "pending",
      model: LLAMA,
      n_epochs: 2,
      batch_size: 8,
      suffix: "faq",
    });
    expect(created.id).toMatch(/^ft-[0-9a-f-]{36}$/);
    expect(created.model_output_name).toBe(
      `fineflow-fake-0/Meta-Llama-3.1-8B-Instruct-Reference-faq-${created.id.slice(3, 11)}`,
    );
    expect(created.training_type).toMatchObject({ type: "Lora" });
    expect(created.total_price).toBeUndefined();

    // Real time never moves a job; only advance() does. 20 examples / batch 8 → 3 steps × 2 epochs.
    const status = async () => (await client.fineTuning.retrieve(created.id)).status;
    expect(await status()).toBe("pending");
    server.advance(1);
    expect(await status()).toBe("queued");
    server.advance(2);
    const running = await client.fineTuning.retrieve(created.id);
    expect(running).toMatchObject({
      status: "running",
      epochs_completed: 0,
      progress: { estimate_available: true },
    });
    expect(running.token_count).toBeGreaterThan(0);
    expect(running.total_price).toBe(Math.round((running.token_count ?? 0) * 0.48 * 1000));
    // Billed as Together's pricing page says, and as estimate-price quotes the same job:
    // n_epochs × training tokens + n_evals × validation tokens.
    const quote = await client.fineTuning.estimatePrice({
      training_file: training.id,
      validation_file: validation.id,
      model: LLAMA,
      n_epochs: 2,
      n_evals: 2,
    });
    if (!quote.estimation_available) throw new Error("expected an estimate");
    expect(quote.estimated_eval_token_count).toBeGreaterThan(0);
    expect(running.token_count).toBe(
      (quote.estimated_train_token_count ?? 0) + (quote.estimated_eval_token_count ?? 0),
    );
    expect((running.total_price ?? 0) / 1e9).toBeCloseTo(quote.estimated_total_price ?? 0, 9);
    server.advance(3);
    expect(await client.fineTuning.retrieve(created.id)).toMatchObject({
      status: "running",
      epochs_completed: 1,
    });
    server.advance(3);
    expect(await status()).toBe("compressing");
    server.advance(1);
    expect(await status()).toBe("uploading");
    server.advance(1);
    const done = await client.fineTuning.retrieve(created.id);
    expect(done).toMatchObject({
      status: "completed",
      epochs_completed: 2,
      model_output_name: created.model_output_name,
    });
    expect(done.total_price).toBe(running.total_price);
    expect(server.now() - Date.UTC(2026, 0, 1) / 1000).toBe(11);

    const events = (await client.fineTuning.listEvents(created.id)).data;
    expect(events.map((event) => event.type)).toEqual([
      "job_pending",
      "job_start",
      "model_downloading",
      "model_download_complete",
      "training_data_downloading",
      "training_data_download_complete",
      "validation_data_downloading",
      "validation_data_download_complete",
      "training_start",
      "epoch_complete",
      "checkpoint_save",
      "epoch_complete",
      "training_complete",
      "model_compressing",
      "model_compression_complete",
      "model_uploading",
      "model_upload_complete",
      "job_complete",
    ]);
    expect(events.find((event) => event.type === "checkpoint_save")).toMatchObject({
      step: 3,
      total_steps: 6,
      message: "New checkpoint saved at step 3",
    });
    expect(new Set(events.map((event) => (event as { hash?: string }).hash)).size).toBe(events.length);

    const metrics = (await client.fineTuning.listMetrics(created.id)).metrics ?? [];
    const train = metrics.filter((row) => "train/loss" in row);
    expect(train.map((row) => row["train/global_step"])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(train.at(-1)?.["train/loss"]).toBeLessThan(train[0]?.["train/loss"] ?? 0);
    expect(metrics.filter((row) => "eval/loss" in row).map((row) => row["train/global_step"])).toEqual([
      3, 6,
    ]);

    const checkpoints = (await client.fineTuning.listCheckpoints(created.id)).data;
    expect(checkpoints.map((c) => [c.step, c.checkpoint_type])).toEqual([
      [3, "Intermediate"],
      [6, "Final"],
    ]);
    expect((await client.fineTuning.list()).data.map((job) => job.id)).toEqual([created.id]);
    expect(server.counters.jobCreations).toBe(1);
    expect(server.counters.requests["GET /fine-tunes/{id}"]).toBe(7);
  });

  describe("cancel", () => {
    const cancelAfter = async (seconds: number) => {
      const server = await start();
      const client = clientFor(server);
      const file = await upload(client, "train.jsonl", examples(40));
      const job = await client.fineTuning.create({ model: LLAMA, training_file: file.id, batch_size: 8 });
      server.advance(seconds);
      const before = await client.fineTuning.retrieve(job.id);
      const cancelled = await client.fineTuning.cancel(job.id);
      return { server, client, job, before, cancelled };
    };

    // 40 examples / batch 8 → 5 steps: pending 0, queued 1, running 3–7, compressing 8, uploading 9.
    it.each([
      ["pending", 0],
      ["queued", 1],
      ["running", 4],
      ["compressing", 8],
      ["uploading", 9],
    ])("is accepted while %s, and lands one simulated second later", async (state, seconds) => {
      const { server, client, job, before, cancelled } = await cancelAfter(seconds);
      expect(before.status).toBe(state);
      expect(cancelled.status).toBe("cancel_requested");
      // Asking again while the cancel is pending is harmless.
      expect((await client.fineTuning.cancel(job.id)).status).toBe("cancel_requested");
      server.advance(1);
      const after = await client.fineTuning.retrieve(job.id);
      expect(after.status).toBe("cancelled");
      const types = (await client.fineTuning.listEvents(job.id)).data.map((event) => event.type);
      expect(types.slice(types.indexOf("cancel_requested"))).toEqual(
        state === "running"
          ? ["cancel_requested", "job_stopped", "refund"]
          : ["cancel_requested", "job_stopped"],
      );
      expect(server.counters.cancels).toBe(2);
    });

    it("charges a job cancelled while running for the steps it ran", async () => {
      const { server, client, job, before } = await cancelAfter(4);
      server.advance(1);
      const after = await client.fineTuning.retrieve(job.id);
      expect(after.total_price).toBe(Math.round(((before.total_price ?? 0) * 1) / 5));
    });

    it.each([
      ["completed", { atStep: 0 }],
      ["cancelled", undefined],
      ["error", { atStep: 2 }],
    ] as const)("is refused with 400 once the job is %s", async (state, failure) => {
      const server = await start(failure?.atStep ? { failTraining: { atStep: failure.atStep } } : {});
      const client = clientFor(server);
      const file = await upload(client, "train.jsonl", examples(20));
      const job = await client.fineTuning.create({ model: LLAMA, training_file: file.id });
      if (state === "cancelled") {
        await client.fineTuning.cancel(job.id);
        server.advance(1);
      } else {
        server.runToEnd(job.id);
      }
      expect((await client.fineTuning.retrieve(job.id)).status).toBe(state);
      const error = await rejection(client.fineTuning.cancel(job.id), BadRequestError);
      expect(envelope(error).message).toBe(`Fine-tune job ${job.id} is ${state} and cannot be cancelled`);
    });

    it("answers 404 for a job that is not the caller's", async () => {
      const server = await start();
      await rejection(
        clientFor(server).fineTuning.cancel("ft-00000000-0000-0000-0000-000000000000"),
        NotFoundError,
      );
    });
  });

  describe("errors, in Together's envelope", () => {
    it("answers an unknown key with 401 invalid_api_key, before anything else", async () => {
      const server = await start();
      const error = await rejection(
        clientFor(server, { apiKey: "fake-wrong-key" }).fineTuning.list(),
        AuthenticationError,
      );
      expect(envelope(error)).toEqual({
        message:
          "Invalid API key provided. You can find your API key at https://api.together.xyz/settings/api-keys.",
        type: "invalid_request_error",
        param: null,
        code: "invalid_api_key",
      });
    });

    it("refuses a job from an account without credit with 402, and says so in the estimate", async () => {
      const server = await start({ noCreditKeys: ["fake-together-broke"] });
      const client = clientFor(server, { apiKey: "fake-together-broke" });
      const file = await upload(client, "train.jsonl", examples(20));
      const error = await rejection(
        client.fineTuning.create({ model: LLAMA, training_file: file.id }),
        APIError,
      );
      expect(error.status).toBe(402);
      expect(envelope(error).code).toBe("insufficient_balance");
      expect(await client.fineTuning.estimatePrice({ training_file: file.id, model: LLAMA })).toMatchObject({
        allowed_to_proceed: false,
      });
      expect(server.counters.jobCreations).toBe(0);
    });

    it("fails a job on an invalid training file at data validation, with the reason", async () => {
      const server = await start({
        rejectFile: (file) =>
          file.filename === "refused.jsonl" ? "Too few examples for this model" : undefined,
      });
      const client = clientFor(server);
      for (const [name, content, reason] of [
        ["broken.jsonl", `${examples(2)}\nnot json`, "Line 3: is not valid JSON"],
        ["refused.jsonl", examples(20), "Too few examples for this model"],
      ]) {
        const file = await upload(client, String(name), String(content));
        const job = await client.fineTuning.create({ model: LLAMA, training_file: file.id });
        server.runToEnd(job.id);
        const failed = await client.fineTuning.retrieve(job.id);
        expect(failed.status).toBe("error");
        expect(failed.events?.at(-1)).toMatchObject({
          type: "job_error",
          level: "error",
          message: `Invalid file ${file.id}: ${reason}`,
        });
        expect(await client.fineTuning.estimatePrice({ training_file: file.id, model: LLAMA })).toEqual({
          estimation_available: false,
          unavailable_reason: "train_file_invalid",
        });
      }
    });

    it("fails a job during training when told to, charging the steps that ran", async () => {
      const server = await start({
        failTraining: { atStep: 3, message: "Out of memory", when: (job) => job.suffix === "doomed" },
      });
      const client = clientFor(server);
      const file = await upload(client, "train.jsonl", examples(40));
      const doomed = await client.fineTuning.create({
        model: LLAMA,
        training_file: file.id,
        batch_size: 8,
        suffix: "doomed",
      });
      const fine = await client.fineTuning.create({ model: LLAMA, training_file: file.id, batch_size: 8 });
      server.runToEnd(doomed.id);
      server.runToEnd(fine.id);

      const failed = await client.fineTuning.retrieve(doomed.id);
      expect(failed.status).toBe("error");
      expect(failed.events?.filter((e) => e.type === "job_error")).toMatchObject([
        { message: "Out of memory", step: 2 },
      ]);
      const full = await client.fineTuning.retrieve(fine.id);
      expect(full.status).toBe("completed");
      expect(failed.total_price).toBe(Math.round(((full.total_price ?? 0) * 2) / 5));
    });

    it("refuses a model Together does not fine-tune, and out-of-range hyperparameters, naming them", async () => {
      const server = await start();
      const client = clientFor(server);
      const file = await upload(client, "train.jsonl", examples(20));
      const model = await rejection(
        client.fineTuning.create({ model: "gpt-4o-mini", training_file: file.id }),
        BadRequestError,
      );
      expect(envelope(model)).toMatchObject({ param: "model", code: "model_not_available" });
      const batch = await rejection(
        client.fineTuning.create({ model: LLAMA, training_file: file.id, batch_size: 1000 }),
        BadRequestError,
      );
      expect(envelope(batch)).toMatchObject({
        param: "batch_size",
        message: `batch_size must be between 8 and 32 for ${LLAMA}`,
      });
      const missing = await rejection(
        client.fineTuning.create({ model: LLAMA, training_file: "file-nope" }),
        BadRequestError,
      );
      expect(envelope(missing).param).toBe("training_file");
      expect(server.counters.jobCreations).toBe(0);
    });

    it("rejects a request that breaks the spec with 400 naming the field", async () => {
      const server = await start();
      const client = clientFor(server);
      const wrongType = await rejection(
        client.fineTuning.create(malformed({ model: LLAMA, training_file: "file-x", n_epochs: "three" })),
        BadRequestError,
      );
      expect(envelope(wrongType)).toMatchObject({
        param: "n_epochs",
        message: "Invalid request: n_epochs must be integer",
      });
      const missing = await rejection(client.fineTuning.create(malformed({ model: LLAMA })), BadRequestError);
      expect(envelope(missing).param).toBe("training_file");
      expect(server.counters.requests["POST /fine-tunes"]).toBe(2);
    });

    it("answers 429 with rate-limit headers on demand, which the SDK retries after retry-after", async () => {
      const server = await start();
      server.rateLimitNext(1, 2);
      const error = await rejection(clientFor(server).fineTuning.list(), RateLimitError);
      expect(envelope(error).type).toBe("rate_limit_exceeded");
      expect(Object.fromEntries(error.headers)).toMatchObject({
        "retry-after": "2",
        "x-ratelimit-limit": "60",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": "2",
      });

      server.rateLimitNext(1, 0);
      await clientFor(server, { maxRetries: 1 }).fineTuning.list();
      expect(server.counters.requests["GET /fine-tunes"]).toBe(3);
    });

    it("answers injected server errors in the envelope", async () => {
      const server = await start();
      server.failNext(1, 503);
      const error = await rejection(clientFor(server).files.list(), InternalServerError);
      expect(error.status).toBe(503);
      expect(envelope(error).type).toBe("server_error");
    });
  });

  describe("price estimate", () => {
    it("prices the file's tokens × epochs (+ evaluations) at the model's rate", async () => {
      const server = await start();
      const client = clientFor(server);
      const training = await upload(client, "train.jsonl", examples(20));
      const validation = await upload(client, "valid.jsonl", examples(4));
      const one = await client.fineTuning.estimatePrice({ training_file: training.id, model: LLAMA });
      if (!one.estimation_available) throw new Error("expected an estimate");
      const tokens = one.estimated_train_token_count ?? 0;
      expect(tokens).toBeGreaterThan(0);
      expect(one).toMatchObject({ allowed_to_proceed: true, estimated_eval_token_count: 0 });
      expect(one.estimated_total_price).toBeCloseTo((tokens * 0.48) / 1e6, 12);

      const seventy = await client.fineTuning.estimatePrice({
        training_file: training.id,
        validation_file: validation.id,
        model: "meta-llama/Llama-3.3-70B-Instruct-Reference",
        n_epochs: 3,
        n_evals: 2,
      });
      if (!seventy.estimation_available) throw new Error("expected an estimate");
      const evalTokens = seventy.estimated_eval_token_count ?? 0;
      expect(seventy.estimated_train_token_count).toBe(3 * tokens);
      expect(seventy.estimated_total_price).toBeCloseTo(((3 * tokens + evalTokens) * 2.9) / 1e6, 12);
      expect(FAKE_TOGETHER_MODELS["meta-llama/Llama-3.3-70B-Instruct-Reference"]?.usdPerMillionTokens).toBe(
        2.9,
      );

      const unknown = await rejection(
        client.fineTuning.estimatePrice({ training_file: training.id, model: "not/a-model" }),
        BadRequestError,
      );
      expect(envelope(unknown).param).toBe("model");
      const missing = await rejection(
        client.fineTuning.estimatePrice({
          training_file: training.id,
          validation_file: "file-nope",
          model: LLAMA,
        }),
        BadRequestError,
      );
      expect(envelope(missing).param).toBe("validation_file");
      const none = await rejection(
        client.fineTuning.estimatePrice({ training_file: training.id }),
        BadRequestError,
      );
      expect(envelope(none).param).toBe("model");
    });
  });
});
