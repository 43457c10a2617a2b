import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createServices, type ServiceSettings } from "../src/context.js";
import { countChatTokens } from "../src/core/tokens.js";
import { spendLedger, trainingDatasets, trainingJobs } from "../src/db/schema.js";
import { createLogger, silentLogger } from "../src/logger.js";
import { Queue } from "../src/queue/queue.js";
import {
  type FakeFineTuningServer,
  startFakeOpenAiFineTuningServer,
} from "./fakes/openai-fine-tuning-server.js";
import {
  FAKE_TOGETHER_KEY,
  FAKE_TOGETHER_MODELS,
  type FakeTogetherModel,
  type FakeTogetherServer,
  startFakeTogetherServer,
} from "./fakes/together-fine-tuning-server.js";
import { tablesContaining } from "./helpers/scan-database.js";
import { type ApiCall, createTestApp, type TestApp } from "./helpers/test-app.js";
import { TEST_ENCRYPTION_SECRET } from "./helpers/test-secret.js";

const OPENAI_KEY = "sk-test-fineflow";
const MINI = "gpt-4o-mini-2024-07-18";
const LLAMA = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference";

/** Every key the tests set, looked for in logs and tables. */
const KEYS = [
  OPENAI_KEY,
  FAKE_TOGETHER_KEY,
  "sk-test-winddown",
  "sk-test-broke",
  "sk-test-not-a-known-key",
  "sk-test-revoked-at-openai",
];
const logLines: string[] = [];
let openai: FakeFineTuningServer;
let together: FakeTogetherServer;
let t: TestApp;
let clock: Date;
let user: { userId: string; token: string; call: ApiCall };

const settings = (): Partial<ServiceSettings> => ({
  training: {
    openaiBaseUrl: openai.baseURL,
    togetherBaseUrl: together.baseURL,
    pollIntervalSeconds: 30,
    maxTrackingHours: 6,
    now: () => clock,
  },
});

beforeAll(async () => {
  openai = await startFakeOpenAiFineTuningServer({
    apiKeys: [OPENAI_KEY, "sk-test-winddown", "sk-test-broke"],
  });
  together = await startFakeTogetherServer({ apiKeys: [FAKE_TOGETHER_KEY] });
});
afterAll(async () => {
  await openai.close();
  await together.close();
});

beforeEach(async () => {
  clock = new Date("2026-11-26T10:00:00Z");
  openai.setOptions({
    windDownKeys: [],
    quotaExceededKeys: [],
    rejectTrainingFile: undefined,
    failTraining: undefined,
  });
  together.setOptions({ rejectFile: undefined, failTraining: undefined });
  logLines.length = 0;
  t = await createTestApp({ settings: settings(), logger: createLogger((line) => logLines.push(line)) });
  user = await t.signUp("trainer@example.com");
});
afterEach(async () => {
  expect(openai.contractViolations).toEqual([]);
  expect(together.contractViolations).toEqual([]);
  // Whatever the test did, no log line carries a key.
  for (const key of KEYS) expect(logLines.filter((line) => line.includes(key))).toEqual([]);
  await t.close();
});

const pairLine = (i: number) =>
  JSON.stringify({
    messages: [
      { role: "user", content: `How do I configure feature ${i} of the deployment tool?` },
      {
        role: "assistant",
        content: `Open the settings page, choose feature ${i}, and save: it applies at once.`,
      },
    ],
  });

/** A project with a ready dataset of `pairs` distinct pairs, and optionally a monthly budget. */
async function dataset(
  options: { pairs?: number; budget?: number; enforcement?: "warn" | "block"; call?: ApiCall } = {},
) {
  const call = options.call ?? user.call;
  const project = await call("POST", "/api/projects", {
    name: `p-${Math.random().toString(36).slice(2, 8)}`,
    monthlyBudgetUsd: options.budget ?? null,
    budgetEnforcement: options.enforcement ?? "warn",
  });
  expect(project.status).toBe(201);
  const text = Array.from({ length: options.pairs ?? 12 }, (_, i) => pairLine(i)).join("\n");
  const form = new FormData();
  form.append("file", new Blob([text]), "d.jsonl");
  form.append("datasetName", "d1");
  form.append("format", "openai");
  const token = call === user.call ? user.token : undefined;
  const imported = await t.app.request(`/api/projects/${project.body.id}/datasets/import`, {
    method: "POST",
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: form,
  });
  expect(imported.status).toBe(201);
  return { projectId: project.body.id as string, datasetId: ((await imported.json()) as { id: string }).id };
}

async function setKey(provider: "openai" | "together", apiKey: string, call = user.call) {
  expect((await call("PUT", `/api/keys/${provider}`, { apiKey })).status).toBe(200);
}

/** Sets the key, makes a ready dataset and starts a job on it: how most tests begin. */
async function startJob(provider: "openai" | "together" = "openai") {
  await setKey(provider, provider === "openai" ? OPENAI_KEY : FAKE_TOGETHER_KEY);
  const made = await dataset();
  const started = await user.call("POST", "/api/training-jobs", {
    datasetId: made.datasetId,
    provider,
    model: provider === "openai" ? MINI : LLAMA,
  });
  expect(started.status).toBe(202);
  return { ...made, started };
}

async function jobRow(id: string) {
  const [row] = await t.database.db.select().from(trainingJobs).where(eq(trainingJobs.id, id));
  if (!row) throw new Error(`no job ${id}`);
  return row;
}

/** Runs the job's scheduled step now, as the queue would when its time comes. */
async function step(id: string) {
  const row = await jobRow(id);
  if (row.pollToken) await t.services.training.track({ userId: row.userId, jobId: id, token: row.pollToken });
  return jobRow(id);
}

async function ledger(projectId: string) {
  return t.database.db
    .select({ kind: spendLedger.kind, amountUsd: spendLedger.amountUsd })
    .from(spendLedger)
    .where(eq(spendLedger.projectId, projectId));
}

async function datasetStatus(id: string) {
  const [row] = await t.database.db.select().from(trainingDatasets).where(eq(trainingDatasets.id, id));
  return row?.status;
}

describe("cost preview", () => {
  it("prices billable tokens × auto epochs from the dated table, beside the month's spend and budget", async () => {
    const { datasetId } = await dataset({ budget: 50 });
    const { status, body } = await user.call("POST", "/api/training/estimate", {
      datasetId,
      provider: "openai",
      model: MINI,
    });
    expect(status).toBe(200);
    // 12 examples: OpenAI's auto raises 3 epochs to floor(100 / 12) = 8.
    expect(body).toMatchObject({
      trainingExamples: 12,
      epochs: 8,
      epochsSource: "auto",
      pricePerMillionUsd: 3,
    });
    expect(body.billableTokens).toBeGreaterThan(12 * 20);
    expect(body.estimatedCostUsd).toBeCloseTo((body.billableTokens * 8 * 3) / 1_000_000, 10);
    expect(body).toMatchObject({
      spentThisMonthUsd: 0,
      monthlyBudgetUsd: 50,
      projectedTotalUsd: body.estimatedCostUsd,
    });
    expect(body.budget.decision).toBe("allowed");
  });

  it("says unknown, never 0, for a model without a price", async () => {
    const { datasetId } = await dataset();
    const { body } = await user.call("POST", "/api/training/estimate", {
      datasetId,
      provider: "together",
      model: "some-org/unpriced-model",
      epochs: 2,
    });
    expect(body).toMatchObject({
      estimatedCostUsd: null,
      priceSource: "unknown",
      epochs: 2,
      epochsSource: "requested",
    });
  });

  it("names the field of a bad request", async () => {
    const { datasetId } = await dataset();
    const { status, body } = await user.call("POST", "/api/training/estimate", {
      datasetId,
      provider: "azure",
      model: MINI,
      epochs: 0,
    });
    expect(status).toBe(400);
    expect(body.error.details.issues.map((i: { field: string }) => i.field).sort()).toEqual([
      "epochs",
      "provider",
    ]);
  });
});

describe("an OpenAI job, start to finish", () => {
  it("uploads, creates, tracks every status with progress, and settles the cost", async () => {
    await setKey("openai", OPENAI_KEY);
    const { projectId, datasetId } = await dataset();
    const before = { ...openai.stats };
    const started = await user.call("POST", "/api/training-jobs", {
      datasetId,
      provider: "openai",
      model: MINI,
      suffix: "support",
    });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ status: "pending", provider: "openai", baseModel: MINI });
    expect(await datasetStatus(datasetId)).toBe("training");
    const reserved = await ledger(projectId);
    expect(reserved).toEqual([{ kind: "training_reservation", amountUsd: started.body.estimatedCostUsd }]);
    const id = started.body.id as string;

    let job = await step(id);
    expect(job.status).toBe("validating");
    expect(job.providerFileId).toMatch(/^file-/);
    expect(job.providerJobId).toMatch(/^ftjob-/);
    expect(openai.stats.uploads - before.uploads).toBe(1);
    expect(openai.stats.jobsCreated - before.jobsCreated).toBe(1);
    // OpenAI got the dataset's export whole, streamed through a file of the job's own that is gone now.
    const exported = await t.services.files.export(user, datasetId, { format: "openai", model: MINI });
    let expected = "";
    for await (const line of exported.lines) expected += line;
    const uploaded = await fetch(`${openai.baseURL}/files/${job.providerFileId}/content`, {
      headers: { authorization: `Bearer ${OPENAI_KEY}` },
    });
    expect(await uploaded.text()).toBe(expected);
    expect((await readdir(tmpdir())).filter((name) => name.startsWith(`fineflow-upload-${id}-`))).toEqual([]);

    openai.advance(10);
    job = await step(id);
    expect(job.status).toBe("queued");
    openai.advance(25);
    job = await step(id);
    expect(job.status).toBe("training");
    expect(job.currentStep).toMatch(/^Step \d+\/\d+ — train loss \d+\.\d{4}$/);
    expect(job.progressPercent).toBeGreaterThan(0);

    openai.runToEnd(job.providerJobId as string);
    job = await step(id);
    expect(job).toMatchObject({ status: "completed", progressPercent: 100, providerStatus: "succeeded" });
    expect(job.fineTunedModel).toMatch(/^ft:gpt-4o-mini-2024-07-18:.*:support:/);
    expect(job.trainedTokens).toBeGreaterThan(0);
    expect(job.actualCostUsd).toBeCloseTo(((job.trainedTokens ?? 0) * 3) / 1_000_000, 10);
    expect(job.checkpoints.length).toBeGreaterThan(0);
    expect(job.pollToken).toBeNull();
    expect(await datasetStatus(datasetId)).toBe("ready");
    expect(await ledger(projectId)).toEqual([{ kind: "training", amountUsd: job.actualCostUsd }]);

    const events = await user.call("GET", `/api/training-jobs/${id}/events`);
    expect(events.status).toBe(200);
    const curve = events.body.metrics as { step: number; trainLoss?: number }[];
    expect(curve.length).toBeGreaterThan(3);
    expect(curve.map((p) => p.step)).toEqual([...curve.map((p) => p.step)].sort((a, b) => a - b));
    expect(curve.every((p) => typeof p.trainLoss === "number")).toBe(true);
    expect(events.body.events.some((e: { type: string }) => e.type === "message")).toBe(true);

    // A step that comes late (the job has ended) changes nothing and calls nobody.
    const calls = JSON.stringify(openai.stats);
    await t.services.training.track({
      userId: user.userId,
      jobId: id,
      token: "00000000-0000-0000-0000-000000000000",
    });
    expect(JSON.stringify(openai.stats)).toBe(calls);
  });

  it("asks OpenAI only for the events it has not stored, so a poll of a long run reads one page", async () => {
    await setKey("openai", OPENAI_KEY);
    const { datasetId } = await dataset({ pairs: 60 });
    const started = await user.call("POST", "/api/training-jobs", {
      datasetId,
      provider: "openai",
      model: MINI,
      epochs: 5,
      batchSize: 1,
    });
    expect(started.status).toBe(202);
    const id = started.body.id as string;
    await step(id);
    const eventPages = () => openai.stats.requests["GET /fine_tuning/jobs/{fine_tuning_job_id}/events"] ?? 0;
    const storedEvents = async () =>
      ((await user.call("GET", `/api/training-jobs/${id}/events`)).body.events as unknown[]).length;

    // Past validation and the queue, then some 250 of the 300 steps: over 250 events, three pages of 100.
    openai.advance(35 + 250);
    let before = eventPages();
    let job = await step(id);
    expect(eventPages() - before).toBeGreaterThanOrEqual(3);
    const reached = Number(/^Step (\d+)\/300 — train loss/.exec(job.currentStep ?? "")?.[1]);
    expect(reached).toBeGreaterThanOrEqual(250);
    const stored = await storedEvents();
    expect(stored).toBeGreaterThan(250);

    openai.advance(5);
    before = eventPages();
    job = await step(id);
    expect(eventPages() - before).toBe(1);
    expect(await storedEvents()).toBe(stored + 5);
    expect(job.currentStep).toMatch(new RegExp(`^Step ${reached + 5}/300 — train loss`));

    // Nothing new: one page asked for, and the progress line still shows the newest step stored.
    before = eventPages();
    job = await step(id);
    expect(eventPages() - before).toBe(1);
    expect(job.currentStep).toMatch(new RegExp(`^Step ${reached + 5}/300 — train loss`));
  });

  it("fails with OpenAI's reason when it refuses the training file, and frees the dataset and the reservation", async () => {
    await setKey("openai", OPENAI_KEY);
    openai.setOptions({ rejectTrainingFile: () => "Line 3: the assistant message is missing." });
    const { projectId, datasetId } = await dataset();
    const started = await user.call("POST", "/api/training-jobs", {
      datasetId,
      provider: "openai",
      model: MINI,
    });
    let job = await step(started.body.id);
    openai.advance(10);
    job = await step(job.id);
    expect(job.status).toBe("failed");
    expect(job.errorCode).toBe("invalid_training_file");
    expect(job.errorMessage).toContain("Line 3: the assistant message is missing.");
    expect(job.errorMessage).toContain("`training_file`");
    expect(job.errorMessage).toContain(`fineflow validate --dataset d1 --model ${MINI}`);
    expect(await datasetStatus(datasetId)).toBe("ready");
    expect(await ledger(projectId)).toEqual([]);
  });

  it("turns the wind-down refusal into a message that points to Together and to export", async () => {
    await setKey("openai", "sk-test-winddown");
    openai.setOptions({ windDownKeys: ["sk-test-winddown"] });
    const { datasetId } = await dataset();
    const started = await user.call("POST", "/api/training-jobs", {
      datasetId,
      provider: "openai",
      model: MINI,
    });
    const job = await step(started.body.id);
    expect(job.status).toBe("failed");
    expect(job.errorCode).toBe("not_allowed");
    expect(job.errorMessage).toContain("winding self-serve fine-tuning down");
    expect(job.errorMessage).toContain("--provider together");
    expect(job.errorMessage).toContain("fineflow bundle --dataset d1");
    expect(await datasetStatus(datasetId)).toBe("ready");
  });

  it("says plainly when the key is wrong or the account has no quota", async () => {
    await setKey("openai", "sk-test-not-a-known-key");
    const first = await dataset();
    const badKey = await user.call("POST", "/api/training-jobs", {
      datasetId: first.datasetId,
      provider: "openai",
      model: MINI,
    });
    const failed = await step(badKey.body.id);
    expect(failed).toMatchObject({ status: "failed", errorCode: "auth" });
    expect(failed.errorMessage).toContain("fineflow keys set openai");
    expect(failed.errorMessage).not.toContain("sk-test-not-a-known-key");

    await setKey("openai", "sk-test-broke");
    openai.setOptions({ quotaExceededKeys: ["sk-test-broke"] });
    const broke = await user.call("POST", "/api/training-jobs", {
      datasetId: first.datasetId,
      provider: "openai",
      model: MINI,
    });
    const quota = await step(broke.body.id);
    expect(quota).toMatchObject({ status: "failed", errorCode: "quota" });
    expect(quota.errorMessage).toContain("out of credit or over its quota");
  });

  it("refuses new OpenAI jobs from 2027-01-06 before calling OpenAI", async () => {
    await setKey("openai", OPENAI_KEY);
    const { datasetId } = await dataset();
    clock = new Date("2027-01-06T00:00:00Z");
    const before = openai.stats.uploads;
    const { status, body } = await user.call("POST", "/api/training-jobs", {
      datasetId,
      provider: "openai",
      model: MINI,
    });
    expect(status).toBe(502);
    expect(body.error.message).toContain("Together AI");
    expect(openai.stats.uploads).toBe(before);
    expect(await datasetStatus(datasetId)).toBe("ready");
  });

  it("retries later, without failing, when OpenAI is rate limiting", async () => {
    const { started } = await startJob();
    // The SDK tries each call 3 times: all of this step's first call fails, and the step gives up for now.
    openai.failNext(3, 503, { message: "The server is overloaded.", type: "server_error" });
    const token = (await jobRow(started.body.id)).pollToken;
    const job = await step(started.body.id);
    expect(job.status).toBe("uploading");
    expect(job.pollToken).not.toBeNull();
    expect(job.pollToken).not.toBe(token);
    const done = await step(job.id);
    expect(done.status).toBe("validating");
    expect(done.providerJobId).toMatch(/^ftjob-/);
  });
});

describe("a Together job with a validation split", () => {
  it("uploads both files, tracks to completion and charges Together's own price", async () => {
    await setKey("together", FAKE_TOGETHER_KEY);
    const { projectId, datasetId } = await dataset({ pairs: 20 });
    const before = { ...together.counters };
    const started = await user.call("POST", "/api/training-jobs", {
      datasetId,
      provider: "together",
      model: LLAMA,
      epochs: 2,
      validationSplit: 0.2,
      learningRate: 0.0001,
    });
    expect(started.status).toBe(202);
    let job = await step(started.body.id);
    // Together's own quote for the uploaded file replaces the table's estimate, reservation included.
    expect(job.estimatedCostUsd).toBeGreaterThan(0);
    expect(await ledger(projectId)).toEqual([
      { kind: "training_reservation", amountUsd: job.estimatedCostUsd },
    ]);
    expect(job.providerFileId).toBeTruthy();
    expect(job.providerValidationFileId).toBeTruthy();
    expect(job.providerFileId).not.toBe(job.providerValidationFileId);
    expect(together.counters.uploads - before.uploads).toBe(2);
    expect(together.counters.jobCreations - before.jobCreations).toBe(1);
    for (let i = 0; i < 200 && job.status !== "completed"; i++) {
      together.advance(5);
      job = await step(job.id);
      expect(job.status).not.toBe("failed");
    }
    expect(job.status).toBe("completed");
    expect(job.fineTunedModel).toBeTruthy();
    expect(job.actualCostUsd).toBeGreaterThan(0);
    expect(await ledger(projectId)).toEqual([{ kind: "training", amountUsd: job.actualCostUsd }]);
    const { body } = await user.call("GET", `/api/training-jobs/${job.id}/events`);
    expect(body.metrics.length).toBeGreaterThan(0);
  });

  it("stops before training when Together's own quote breaks a block budget the table's estimate fitted", async () => {
    await setKey("together", FAKE_TOGETHER_KEY);
    together.setOptions({
      models: {
        [LLAMA]: { ...(FAKE_TOGETHER_MODELS[LLAMA] as FakeTogetherModel), usdPerMillionTokens: 100 },
      },
    });
    try {
      const { projectId, datasetId } = await dataset({ budget: 0.01, enforcement: "block" });
      const started = await user.call("POST", "/api/training-jobs", {
        datasetId,
        provider: "together",
        model: LLAMA,
      });
      expect(started.status).toBe(202);
      expect(started.body.estimatedCostUsd).toBeLessThan(0.01);
      const creations = together.counters.jobCreations;
      const job = await step(started.body.id);
      expect(job).toMatchObject({ status: "failed", errorCode: "budget_exceeded", providerJobId: null });
      expect(job.errorMessage).toContain("over the budget of $0.01");
      expect(together.counters.jobCreations).toBe(creations);
      expect(await ledger(projectId)).toEqual([]);
      expect(await datasetStatus(datasetId)).toBe("ready");
    } finally {
      together.setOptions({ models: FAKE_TOGETHER_MODELS });
    }
  });

  it("trains for the epochs the estimate priced when none are given", async () => {
    const { started } = await startJob("together");
    // 12 examples: the estimate's auto epochs are floor(100 / 12) = 8, and Together is asked for 8.
    expect(started.body.hyperparameters).toEqual({ nEpochs: 8 });
    const job = await step(started.body.id);
    const remote = await fetch(`${together.baseURL}/fine-tunes/${job.providerJobId}`, {
      headers: { authorization: `Bearer ${FAKE_TOGETHER_KEY}` },
    });
    expect(((await remote.json()) as { n_epochs: number }).n_epochs).toBe(8);
  });

  it("refuses an OpenAI-only setting for Together, naming it", async () => {
    await setKey("together", FAKE_TOGETHER_KEY);
    const { datasetId } = await dataset();
    const { status, body } = await user.call("POST", "/api/training-jobs", {
      datasetId,
      provider: "together",
      model: LLAMA,
      learningRateMultiplier: 2,
    });
    expect(status).toBe(400);
    expect(body.error.details.issues[0].field).toBe("learningRateMultiplier");
  });
});

describe("prerequisites and the budget guard", () => {
  it("needs a key, a ready dataset that passes validation, and answers 404 for another user's dataset", async () => {
    const { datasetId } = await dataset();
    const noKey = await user.call("POST", "/api/training-jobs", {
      datasetId,
      provider: "openai",
      model: MINI,
    });
    expect(noKey.status).toBe(400);
    expect(noKey.body.error.message).toContain("fineflow keys set openai");

    await setKey("openai", OPENAI_KEY);
    const small = await dataset({ pairs: 5 });
    const invalid = await user.call("POST", "/api/training-jobs", {
      datasetId: small.datasetId,
      provider: "openai",
      model: MINI,
    });
    expect(invalid.status).toBe(409);
    expect(invalid.body.error.message).toContain("does not pass validation");

    const other = await t.signUp("other@example.com");
    await setKey("openai", OPENAI_KEY, other.call);
    const theirs = await other.call("POST", "/api/training-jobs", {
      datasetId,
      provider: "openai",
      model: MINI,
    });
    expect(theirs.status).toBe(404);

    const first = await user.call("POST", "/api/training-jobs", {
      datasetId,
      provider: "openai",
      model: MINI,
    });
    expect(first.status).toBe(202);
    const second = await user.call("POST", "/api/training-jobs", {
      datasetId,
      provider: "openai",
      model: MINI,
    });
    expect(second.status).toBe(409);
    expect(second.body.error.message).toContain("is training");
  });

  it("blocks a job over a block budget, storing nothing", async () => {
    await setKey("openai", OPENAI_KEY);
    const { projectId, datasetId } = await dataset({ budget: 0.0001, enforcement: "block" });
    const { status, body } = await user.call("POST", "/api/training-jobs", {
      datasetId,
      provider: "openai",
      model: MINI,
    });
    expect(status).toBe(409);
    expect(body.error.code).toBe("budget_exceeded");
    expect(body.error.details.monthlyBudgetUsd).toBe(0.0001);
    expect((await user.call("GET", "/api/training-jobs")).body.jobs).toEqual([]);
    expect(await ledger(projectId)).toEqual([]);
    expect(await datasetStatus(datasetId)).toBe("ready");
  });

  it("asks for confirmation over a warn budget, then starts, with earlier spend counted", async () => {
    await setKey("openai", OPENAI_KEY);
    const { projectId, datasetId } = await dataset({ budget: 1, enforcement: "warn" });
    await t.database.db.insert(spendLedger).values({
      userId: user.userId,
      projectId,
      kind: "generation",
      amountUsd: 0.999,
      description: "earlier",
    });
    const request = { datasetId, provider: "openai", model: MINI };
    const preview = await user.call("POST", "/api/training/estimate", request);
    expect(preview.body.spentThisMonthUsd).toBeCloseTo(0.999, 10);
    expect(preview.body.budget.decision).toBe("confirm");
    const refused = await user.call("POST", "/api/training-jobs", request);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("confirmation_required");
    const confirmed = await user.call("POST", "/api/training-jobs", { ...request, confirmOverBudget: true });
    expect(confirmed.status).toBe(202);
  });

  it("lets only one of two jobs started at once through a block budget that holds one", async () => {
    await setKey("openai", OPENAI_KEY);
    const { projectId, datasetId } = await dataset({ enforcement: "block" });
    const form = new FormData();
    form.append("file", new Blob([Array.from({ length: 12 }, (_, i) => pairLine(i)).join("\n")]), "d.jsonl");
    form.append("datasetName", "d2");
    const second = await t.app.request(`/api/projects/${projectId}/datasets/import`, {
      method: "POST",
      headers: { authorization: `Bearer ${user.token}` },
      body: form,
    });
    const datasetIds = [datasetId, ((await second.json()) as { id: string }).id];
    const estimate = (
      await user.call("POST", "/api/training/estimate", { datasetId, provider: "openai", model: MINI })
    ).body.estimatedCostUsd;
    // Room for one job, not for two.
    await user.call("PATCH", `/api/projects/${projectId}`, { monthlyBudgetUsd: estimate * 1.5 });

    const answers = await Promise.all(
      datasetIds.map((id) =>
        user.call("POST", "/api/training-jobs", { datasetId: id, provider: "openai", model: MINI }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([202, 409]);
    expect(answers.find((a) => a.status === 409)?.body.error.code).toBe("budget_exceeded");
    const reserved = (await ledger(projectId)).reduce((sum, row) => sum + row.amountUsd, 0);
    expect(reserved).toBeLessThanOrEqual(estimate * 1.5);
  });
});

describe("no second file or job, whatever restarts", () => {
  it("finds the file and the provider job an interrupted step made instead of making them again", async () => {
    const { started } = await startJob();
    const id = started.body.id as string;
    // What a crash right after the upload, before its id was recorded, leaves behind.
    const provider = (await import("../src/providers/finetune/openai.js")).createOpenAiTrainingProvider({
      baseURL: openai.baseURL,
    });
    const content = new Blob([`${Array.from({ length: 12 }, (_, i) => pairLine(i)).join("\n")}\n`]);
    const orphanFile = await provider.uploadFile(OPENAI_KEY, {
      filename: `fineflow-${id}-train.jsonl`,
      content,
    });
    const orphanJob = await provider.createJob(OPENAI_KEY, {
      model: MINI,
      trainingFileId: orphanFile.id,
      hyperparameters: {},
      fineflowJobId: id,
    });
    const before = { ...openai.stats };
    const job = await step(id);
    expect(job.providerFileId).toBe(orphanFile.id);
    expect(job.providerJobId).toBe(orphanJob.id);
    expect(openai.stats.uploads).toBe(before.uploads);
    expect(openai.stats.jobsCreated).toBe(before.jobsCreated);
  });

  it("picks tracking up again after a restart, with one polling chain and no new upload or job", async () => {
    const { started } = await startJob();
    const launched = await step(started.body.id);
    const staleToken = launched.pollToken as string;
    const before = { ...openai.stats };

    // A new process over the same database: its services recover the job with a fresh token.
    const queue = new Queue(t.database, silentLogger, { concurrency: 1 });
    const restarted = createServices(
      t.database,
      queue,
      { maxDocumentBytes: 1024, encryptionSecret: TEST_ENCRYPTION_SECRET, ...settings() },
      silentLogger,
    );
    expect(await restarted.training.recover()).toBe(1);
    const recovered = await jobRow(launched.id);
    expect(recovered.pollToken).not.toBe(staleToken);
    // The poll the old process had scheduled is stale now, and does nothing.
    await restarted.training.track({ userId: user.userId, jobId: launched.id, token: staleToken });
    expect((await jobRow(launched.id)).updatedAt).toEqual(recovered.updatedAt);

    openai.runToEnd(launched.providerJobId as string);
    await restarted.training.track({
      userId: user.userId,
      jobId: launched.id,
      token: recovered.pollToken as string,
    });
    expect((await jobRow(launched.id)).status).toBe("completed");
    expect(openai.stats.uploads).toBe(before.uploads);
    expect(openai.stats.jobsCreated).toBe(before.jobsCreated);
    await restarted.updates.close();
    await queue.stop();
  });

  it.each([
    ["pending", 0],
    ["validating", 0],
    ["queued", 12],
    ["training", 40],
  ])("restarted while %s, finishes with one upload and one provider job", async (state, seconds) => {
    const { started } = await startJob();
    const before = { ...openai.stats };
    let job = await jobRow(started.body.id);
    if (state !== "pending") {
      job = await step(job.id);
      openai.advance(seconds);
      job = await step(job.id);
    }
    expect(job.status).toBe(state);
    const queue = new Queue(t.database, silentLogger, { concurrency: 1 });
    const restarted = createServices(
      t.database,
      queue,
      { maxDocumentBytes: 1024, encryptionSecret: TEST_ENCRYPTION_SECRET, ...settings() },
      silentLogger,
    );
    try {
      await restarted.training.recover();
      job = await jobRow(job.id);
      for (let i = 0; i < 10 && job.status !== "completed"; i++) {
        if (job.providerJobId) openai.runToEnd(job.providerJobId);
        await restarted.training.track({
          userId: user.userId,
          jobId: job.id,
          token: job.pollToken as string,
        });
        job = await jobRow(job.id);
      }
    } finally {
      await restarted.updates.close();
      await queue.stop();
    }
    expect(job.status).toBe("completed");
    expect(openai.stats.uploads - before.uploads).toBe(1);
    expect(openai.stats.jobsCreated - before.jobsCreated).toBe(1);
  });

  it("gives a job whose polling chain broke a new one from the watchdog, and leaves healthy ones alone", async () => {
    clock = new Date();
    const { started } = await startJob();
    const launched = await step(started.body.id);
    expect(await t.services.training.recover(15 * 60)).toBe(0);
    clock = new Date(clock.getTime() + 20 * 60_000);
    expect(await t.services.training.recover(15 * 60)).toBe(1);
    expect((await jobRow(launched.id)).pollToken).not.toBe(launched.pollToken);
  });

  it("pauses tracking after the limit without failing the job, and resumes on request", async () => {
    const { started } = await startJob();
    await step(started.body.id);
    clock = new Date(clock.getTime() + 6 * 3_600_000);
    const paused = await step(started.body.id);
    expect(paused.status).toBe("validating");
    expect(paused.trackingPausedAt).not.toBeNull();
    expect(paused.pollToken).toBeNull();
    expect(paused.currentStep).toContain(`fineflow jobs resume ${paused.id}`);
    expect((await user.call("GET", `/api/training-jobs/${paused.id}`)).body.trackingPaused).toBe(true);

    const resumed = await user.call("POST", `/api/training-jobs/${paused.id}/resume`);
    expect(resumed.status).toBe(200);
    expect(resumed.body.trackingPaused).toBe(false);
    openai.runToEnd(paused.providerJobId as string);
    expect((await step(paused.id)).status).toBe("completed");
  });
});

describe("when the key goes away mid-run", () => {
  it("pauses tracking (the provider may still be training) and resumes once the key is back", async () => {
    const { started } = await startJob();
    const launched = await step(started.body.id);
    expect((await user.call("DELETE", "/api/keys/openai")).status).toBeLessThan(300);
    const paused = await step(launched.id);
    expect(paused.status).toBe("validating");
    expect(paused.trackingPausedAt).not.toBeNull();
    expect(paused.currentStep).toContain("fineflow keys set openai");

    // A key the provider refuses: still paused, not failed, with the plain reason.
    await setKey("openai", "sk-test-revoked-at-openai");
    await user.call("POST", `/api/training-jobs/${launched.id}/resume`);
    const refused = await step(launched.id);
    expect(refused.status).toBe("validating");
    expect(refused.trackingPausedAt).not.toBeNull();
    expect(refused.currentStep).toContain("OpenAI rejected the API key");

    await setKey("openai", OPENAI_KEY);
    await user.call("POST", `/api/training-jobs/${launched.id}/resume`);
    openai.runToEnd(launched.providerJobId as string);
    expect((await step(launched.id)).status).toBe("completed");
  });
});

describe("cancel", () => {
  it("cancels a job before it reaches the provider without calling it", async () => {
    const { projectId, datasetId, started } = await startJob();
    const cancels = openai.stats.cancels;
    const scheduled = (await jobRow(started.body.id)).pollToken as string;
    const cancelled = await user.call("POST", `/api/training-jobs/${started.body.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe("cancelled");
    // It never reached OpenAI: it cost nothing, not an unknown amount.
    expect(cancelled.body.actualCostUsd).toBe(0);
    expect(openai.stats.cancels).toBe(cancels);
    expect(await datasetStatus(datasetId)).toBe("ready");
    expect(await ledger(projectId)).toEqual([]);
    // Its scheduled step finds it ended and does nothing.
    const uploads = openai.stats.uploads;
    await t.services.training.track({ userId: user.userId, jobId: started.body.id, token: scheduled });
    expect(openai.stats.uploads).toBe(uploads);
    expect((await user.call("POST", `/api/training-jobs/${started.body.id}/cancel`)).status).toBe(409);
  });

  it.each([
    ["validating", 0],
    ["queued", 12],
    ["training", 40],
  ])("cancels a %s job at the provider too", async (expected, seconds) => {
    const { datasetId, started } = await startJob();
    let job = await step(started.body.id);
    openai.advance(seconds);
    job = await step(job.id);
    expect(job.status).toBe(expected);
    const cancels = openai.stats.cancels;
    const other = await t.signUp(`other-${expected}@example.com`);
    expect((await other.call("POST", `/api/training-jobs/${job.id}/cancel`)).status).toBe(404);
    const cancelled = await user.call("POST", `/api/training-jobs/${job.id}/cancel`);
    expect(cancelled.body.status).toBe("cancelled");
    // OpenAI's own final word, not the status of the last poll.
    expect(cancelled.body.providerStatus).toBe("cancelled");
    expect(cancelled.body.currentStep).toMatch(/^Cancelled( at step \d+\/\d+)?$/);
    expect(openai.stats.cancels).toBe(cancels + 1);
    expect(await datasetStatus(datasetId)).toBe("ready");
  });

  it("cancels a Together job at Together, and ends it when Together has stopped it", async () => {
    const { started } = await startJob("together");
    await step(started.body.id);
    const cancels = together.counters.cancels;
    const cancelled = await user.call("POST", `/api/training-jobs/${started.body.id}/cancel`);
    expect(cancelled.body.providerStatus).toBe("cancel_requested");
    expect(together.counters.cancels).toBe(cancels + 1);
    // Polled before Together has stopped it, it still says a cancel is under way.
    expect(await step(started.body.id)).toMatchObject({
      providerStatus: "cancel_requested",
      currentStep: "Cancel requested; the cost is settled when the provider has stopped the job",
    });
    together.advance(1);
    expect(await step(started.body.id)).toMatchObject({ status: "cancelled", providerStatus: "cancelled" });
  });

  it("records what Together charged for the steps that ran, not the whole run's tokens", async () => {
    await setKey("together", FAKE_TOGETHER_KEY);
    const { projectId, datasetId } = await dataset();
    // 12 examples in one batch, 20 epochs: 20 steps.
    const started = await user.call("POST", "/api/training-jobs", {
      datasetId,
      provider: "together",
      model: LLAMA,
      epochs: 20,
    });
    const id = started.body.id as string;
    let job = await step(id);
    together.advance(3 + 4); // running, 4 steps in
    job = await step(id);
    expect(job.status).toBe("training");
    // Together's token_count is the whole run's from the start: nothing says that many are trained yet.
    expect(job.trainedTokens).toBeNull();

    const cancelled = await user.call("POST", `/api/training-jobs/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: "training", providerStatus: "cancel_requested" });
    // The reservation holds until Together's final price replaces it.
    expect(await ledger(projectId)).toEqual([
      { kind: "training_reservation", amountUsd: job.estimatedCostUsd },
    ]);
    together.advance(1);
    job = await step(id);
    const remote = (await (
      await fetch(`${together.baseURL}/fine-tunes/${job.providerJobId}`, {
        headers: { authorization: `Bearer ${FAKE_TOGETHER_KEY}` },
      })
    ).json()) as { status: string; total_price: number; token_count: number };
    expect(remote.status).toBe("cancelled");
    expect(job).toMatchObject({ status: "cancelled", providerStatus: "cancelled", pollToken: null });
    expect(job.currentStep).toMatch(/^Cancelled at step \d+\/\d+$/);
    expect(job.actualCostUsd).toBeCloseTo(remote.total_price / 1e9, 12);
    expect(job.actualCostUsd).toBeLessThan((remote.token_count * 0.48) / 1e6 / 2);
    expect(await ledger(projectId)).toEqual([{ kind: "training", amountUsd: job.actualCostUsd }]);
    expect(await datasetStatus(datasetId)).toBe("ready");
  });
});

describe("the key stays secret", () => {
  it("appears in no job, event or response of a whole run", async () => {
    const { started } = await startJob();
    await step(started.body.id);
    openai.runToEnd((await jobRow(started.body.id)).providerJobId as string);
    await step(started.body.id);
    const answers = JSON.stringify([
      await user.call("GET", "/api/training-jobs"),
      await user.call("GET", `/api/training-jobs/${started.body.id}/events`),
      await user.call("GET", "/api/keys"),
    ]);
    expect(answers).not.toContain(OPENAI_KEY);
    // Every table, the queue's included: only ciphertext anywhere.
    expect(await tablesContaining(t.database, OPENAI_KEY)).toEqual([]);
  });
});

describe("through the queue", () => {
  it("runs a job from start to completion on the background worker, polling on schedule", async () => {
    const worker = await createTestApp({
      workers: true,
      settings: { training: { ...settings().training, pollIntervalSeconds: 0.2 } },
    });
    try {
      const owner = await worker.signUp("queue@example.com");
      expect((await owner.call("PUT", "/api/keys/openai", { apiKey: OPENAI_KEY })).status).toBe(200);
      const project = await owner.call("POST", "/api/projects", { name: "q" });
      const form = new FormData();
      form.append(
        "file",
        new Blob([Array.from({ length: 12 }, (_, i) => pairLine(i)).join("\n")]),
        "d.jsonl",
      );
      form.append("datasetName", "d1");
      const imported = await worker.app.request(`/api/projects/${project.body.id}/datasets/import`, {
        method: "POST",
        headers: { authorization: `Bearer ${owner.token}` },
        body: form,
      });
      const datasetId = ((await imported.json()) as { id: string }).id;
      const started = await owner.call("POST", "/api/training-jobs", {
        datasetId,
        provider: "openai",
        model: MINI,
      });
      expect(started.status).toBe(202);
      const seen = new Set<string>();
      let job = started.body;
      let polled = job.updatedAt;
      for (let i = 0; i < 600 && job.status !== "completed" && job.status !== "failed"; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        job = (await owner.call("GET", `/api/training-jobs/${started.body.id}`)).body;
        seen.add(job.status);
        // The provider's clock moves 5 s per poll the worker made, however slow the machine: every
        // status (validating 10 s, queued 20 s, then one step a second) is seen by some poll.
        if (job.providerJobId && job.updatedAt !== polled) openai.advance(5);
        polled = job.updatedAt;
      }
      expect(job.status).toBe("completed");
      expect([...seen]).toEqual(expect.arrayContaining(["validating", "queued", "training", "completed"]));
    } finally {
      await worker.close();
    }
  }, 60_000);
});

describe("estimates that match what the provider does", () => {
  const fileLines = async (fileId: string) =>
    (
      await (
        await fetch(`${openai.baseURL}/files/${fileId}/content`, {
          headers: { authorization: `Bearer ${OPENAI_KEY}` },
        })
      ).text()
    )
      .trim()
      .split("\n");

  it("prices Together's evaluations of the validation file, so a block budget holds and the quote is the bill", async () => {
    await setKey("together", FAKE_TOGETHER_KEY);
    const { projectId, datasetId } = await dataset({ pairs: 30, budget: 10, enforcement: "block" });
    const request = { datasetId, provider: "together", model: LLAMA, epochs: 2, validationSplit: 0.3 };
    const preview = (await user.call("POST", "/api/training/estimate", request)).body;
    expect(preview.validationTokens).toBeGreaterThan(0);
    expect(preview.billedEvaluations).toBe(2);
    const trainingOnlyUsd = (preview.billableTokens * 2 * 0.48) / 1e6;
    expect(preview.estimatedCostUsd).toBeCloseTo(
      trainingOnlyUsd + (preview.validationTokens * 2 * 0.48) / 1e6,
      12,
    );
    // OpenAI evaluates without billing: its estimate stays the training tokens alone.
    const openaiPreview = (
      await user.call("POST", "/api/training/estimate", { ...request, provider: "openai", model: MINI })
    ).body;
    expect(openaiPreview.billedEvaluations).toBe(0);
    expect(openaiPreview.estimatedCostUsd).toBeCloseTo((openaiPreview.billableTokens * 2 * 3) / 1e6, 12);

    // A budget the training tokens fit in but the evaluations do not: blocked before anything is bought.
    const between = (trainingOnlyUsd + preview.estimatedCostUsd) / 2;
    expect(
      (await user.call("PATCH", `/api/projects/${projectId}`, { monthlyBudgetUsd: between })).status,
    ).toBe(200);
    const blocked = await user.call("POST", "/api/training-jobs", request);
    expect(blocked.status).toBe(409);
    expect(blocked.body.error.code).toBe("budget_exceeded");

    // Together's own quote asks for the evaluations too, so it is what the finished job costs.
    await user.call("PATCH", `/api/projects/${projectId}`, { monthlyBudgetUsd: 10 });
    const started = await user.call("POST", "/api/training-jobs", request);
    expect(started.status).toBe(202);
    let job = await step(started.body.id);
    expect(job.providerValidationFileId).toBeTruthy();
    together.runToEnd(job.providerJobId as string);
    job = await step(job.id);
    expect(job.status).toBe("completed");
    expect(job.estimatedCostUsd).toBeCloseTo(job.actualCostUsd ?? 0, 12);
  });

  it("counts the examples, tokens and auto epochs of a validation split from the files the upload sends", async () => {
    await setKey("openai", OPENAI_KEY);
    const { datasetId } = await dataset({ pairs: 30 });
    const request = { datasetId, provider: "openai", model: MINI, validationSplit: 0.5 };
    const preview = (await user.call("POST", "/api/training/estimate", request)).body;
    const started = await user.call("POST", "/api/training-jobs", request);
    expect(started.status).toBe(202);
    let job = await step(started.body.id);
    const train = await fileLines(job.providerFileId as string);
    const validation = await fileLines(job.providerValidationFileId as string);
    expect([preview.trainingExamples, preview.validationExamples]).toEqual([train.length, validation.length]);
    const tokens = (lines: string[]) =>
      lines.reduce((sum, l) => sum + countChatTokens(JSON.parse(l).messages), 0);
    expect([preview.billableTokens, preview.validationTokens]).toEqual([tokens(train), tokens(validation)]);
    // OpenAI's `auto` picks its epochs from the file it got: the ones the estimate priced.
    openai.advance(10);
    job = await step(job.id);
    const remote = (await (
      await fetch(`${openai.baseURL}/fine_tuning/jobs/${job.providerJobId}`, {
        headers: { authorization: `Bearer ${OPENAI_KEY}` },
      })
    ).json()) as { method: { supervised: { hyperparameters: { n_epochs: number } } } };
    expect(remote.method.supervised.hyperparameters.n_epochs).toBe(preview.epochs);
  });

  it("refuses a split that leaves the training part under the minimum, which the provider would refuse", async () => {
    await setKey("openai", OPENAI_KEY);
    const { datasetId } = await dataset({ pairs: 10 });
    const request = { datasetId, provider: "openai", model: MINI, validationSplit: 0.01 };
    const preview = (await user.call("POST", "/api/training/estimate", request)).body;
    expect(preview.trainingExamples).toBe(9);
    expect(preview.validation).toEqual({
      valid: false,
      errors: [
        "the training part of the split holds 9 examples, and fine-tuning needs at least 10: hold fewer out (a smaller validation split), or add pairs",
      ],
    });
    const started = await user.call("POST", "/api/training-jobs", request);
    expect(started.status).toBe(409);
    expect(started.body.error.message).toContain("the training part of the split holds 9 examples");
    expect(
      (await user.call("POST", "/api/training/estimate", { ...request, validationSplit: undefined })).body
        .validation.valid,
    ).toBe(true);
  });
});

describe("provider failures say whose fault it is", () => {
  const noDoubledPeriod = (message: string | null) => expect(message).not.toMatch(/\.\./);

  it("blames the provider, not the dataset, for an internal failure, on OpenAI and on Together", async () => {
    openai.setOptions({ failTraining: { atStep: 2 } });
    const { started } = await startJob();
    let job = await step(started.body.id);
    openai.runToEnd(job.providerJobId as string);
    job = await step(job.id);
    expect(job).toMatchObject({ status: "failed", errorCode: "server_error" });
    expect(job.errorMessage).toContain(
      "The job failed at OpenAI, on its side: The job failed due to an internal error.",
    );
    expect(job.errorMessage).toContain("Start the job again");
    expect(job.errorMessage).not.toContain("fineflow validate");
    noDoubledPeriod(job.errorMessage);

    together.setOptions({ failTraining: { atStep: 2 } });
    const tg = await startJob("together");
    job = await step(tg.started.body.id);
    together.runToEnd(job.providerJobId as string);
    job = await step(job.id);
    expect(job.status).toBe("failed");
    expect(job.errorMessage).toContain(
      "The job failed at Together AI, on its side: Training failed: CUDA error",
    );
    expect(job.errorMessage).not.toContain("fineflow validate");
    noDoubledPeriod(job.errorMessage);
  });

  it("points to the dataset only when the provider says the data is bad, and to the model when it is unknown", async () => {
    await setKey("together", FAKE_TOGETHER_KEY);
    together.setOptions({ rejectFile: () => "Line 2: the assistant message is empty" });
    const { datasetId } = await dataset();
    const started = await user.call("POST", "/api/training-jobs", {
      datasetId,
      provider: "together",
      model: LLAMA,
    });
    let job = await step(started.body.id);
    together.runToEnd(job.providerJobId as string);
    job = await step(job.id);
    expect(job.status).toBe("failed");
    expect(job.errorMessage).toContain(`fineflow validate --dataset d1 --model ${LLAMA}`);
    noDoubledPeriod(job.errorMessage);

    await setKey("openai", OPENAI_KEY);
    const other = await dataset();
    const unknown = await user.call("POST", "/api/training-jobs", {
      datasetId: other.datasetId,
      provider: "openai",
      model: "gpt-5-turbo",
    });
    expect(unknown.status).toBe(202);
    job = await step(unknown.body.id);
    expect(job.status).toBe("failed");
    expect(job.errorMessage).toContain("Pick a model OpenAI fine-tunes");
    expect(job.errorMessage).not.toContain("fineflow validate");
    noDoubledPeriod(job.errorMessage);
  });
});

describe("OpenAI's cutoff in the cost preview", () => {
  it("warns before 2027-01-06 and refuses from then on, as the start does", async () => {
    const { datasetId } = await dataset();
    const request = { datasetId, provider: "openai", model: MINI };
    const before = await user.call("POST", "/api/training/estimate", request);
    expect(before.status).toBe(200);
    expect(before.body.warnings).toEqual([
      expect.stringContaining("stops accepting new fine-tuning jobs on 2027-01-06"),
    ]);
    const together = await user.call("POST", "/api/training/estimate", {
      ...request,
      provider: "together",
      model: LLAMA,
    });
    expect(together.body.warnings).toEqual([]);

    clock = new Date("2027-01-06T00:00:00Z");
    const after = await user.call("POST", "/api/training/estimate", request);
    expect(after.status).toBe(502);
    expect(after.body.error.message).toContain("OpenAI takes no new fine-tuning jobs since 2027-01-06");
    expect(after.body.error.message).toContain("--provider together");
  });
});

describe("resuming tracking", () => {
  it("refuses to resume without a key, and shows one pause reason however often tracking pauses", async () => {
    const { started } = await startJob();
    const id = started.body.id as string;
    await step(id);
    await user.call("DELETE", "/api/keys/openai");
    const paused = await step(id);
    expect(paused.trackingPausedAt).not.toBeNull();

    const refused = await user.call("POST", `/api/training-jobs/${id}/resume`);
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain("fineflow keys set openai");
    expect((await jobRow(id)).trackingPausedAt).not.toBeNull();

    await setKey("openai", OPENAI_KEY);
    const resumed = await user.call("POST", `/api/training-jobs/${id}/resume`);
    expect(resumed.status).toBe(200);
    expect(resumed.body.currentStep).not.toContain("tracking paused");
    await user.call("DELETE", "/api/keys/openai");
    const again = await step(id);
    expect(again.currentStep?.split("tracking paused").length).toBe(2);
  });
});
