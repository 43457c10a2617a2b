import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trainingJobs } from "../src/db/schema.js";
import { createTestApp, type TestApp } from "./helpers/test-app.js";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

/** Reads `job` events off a Server-Sent Events answer as they come. */
function eventReader(response: Response) {
  const body = response.body;
  if (!body) throw new Error("no event stream");
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const jobs: { id: string; status: string; currentStep: string | null }[] = [];
  const pump = (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buffer += value;
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\n\n");
        if (!block.includes("event: job")) continue;
        const data = block.split("\n").find((line) => line.startsWith("data:"));
        if (data) jobs.push(JSON.parse(data.slice(5)));
      }
    }
  })();
  return {
    jobs,
    async waitFor(count: number) {
      return this.waitUntil(() => jobs.length >= count);
    },
    async waitUntil(done: () => boolean) {
      for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setTimeout(r, 50));
      return jobs;
    },
    async close() {
      await reader.cancel();
      await pump;
    },
  };
}

async function userWithJob(email: string) {
  const user = await t.signUp(email);
  const project = await user.call("POST", "/api/projects", { name: "p" });
  const form = new FormData();
  const line = JSON.stringify({
    messages: [
      { role: "user", content: "What is FineFlow?" },
      { role: "assistant", content: "A tool that turns documents into fine-tuning datasets." },
    ],
  });
  form.append("file", new Blob([line]), "d.jsonl");
  form.append("datasetName", "d");
  const imported = await t.app.request(`/api/projects/${project.body.id}/datasets/import`, {
    method: "POST",
    headers: { authorization: `Bearer ${user.token}` },
    body: form,
  });
  const datasetId = ((await imported.json()) as { id: string }).id;
  const [job] = await t.database.db
    .insert(trainingJobs)
    .values({
      userId: user.userId,
      projectId: project.body.id,
      datasetId,
      provider: "openai",
      baseModel: "m",
    })
    .returning();
  if (!job) throw new Error("no job");
  return { ...user, jobId: job.id };
}

const stream = (token: string, path: string) =>
  t.app.request(path, { headers: { authorization: `Bearer ${token}` } });

describe("live training updates (Server-Sent Events over LISTEN/NOTIFY)", () => {
  it("pushes each update of a job to its owner, and nothing to anyone else", async () => {
    const owner = await userWithJob("owner@example.com");
    const stranger = await userWithJob("stranger@example.com");

    const one = await stream(owner.token, `/api/training-jobs/${owner.jobId}/stream`);
    expect(one.status).toBe(200);
    expect(one.headers.get("content-type")).toContain("text/event-stream");
    const ownerEvents = eventReader(one);
    const allOfOwner = eventReader(await stream(owner.token, "/api/training-jobs/stream"));
    const strangerEvents = eventReader(await stream(stranger.token, "/api/training-jobs/stream"));
    // Each stream opens with the current state.
    expect((await ownerEvents.waitFor(1))[0]).toMatchObject({ id: owner.jobId, status: "pending" });
    await allOfOwner.waitFor(1);
    await strangerEvents.waitFor(1);

    const moveTo = (status: "uploading" | "validating" | "queued") =>
      t.database.db
        .update(trainingJobs)
        .set({ status, currentStep: `now ${status}` })
        .where(eq(trainingJobs.id, owner.jobId));
    await moveTo("uploading");
    expect((await ownerEvents.waitFor(2)).map((j) => j.status)).toEqual(["pending", "uploading"]);
    // Updates moments apart may arrive as one (each notification reads the latest row), but they come
    // in order, each state once, ending with the latest.
    await moveTo("validating");
    await moveTo("queued");
    const reached = (events: typeof ownerEvents) => () => events.jobs.at(-1)?.status === "queued";
    const seen = await ownerEvents.waitUntil(reached(ownerEvents));
    const statuses = seen.map((j) => j.status);
    expect(statuses.slice(0, 2)).toEqual(["pending", "uploading"]);
    expect(statuses.at(-1)).toBe("queued");
    expect(new Set(statuses).size).toBe(statuses.length);
    const order = ["pending", "uploading", "validating", "queued"];
    expect(statuses.map((s) => order.indexOf(s))).toEqual([...statuses.map((s) => order.indexOf(s))].sort());
    expect(seen.at(-1)?.currentStep).toBe("now queued");
    const all = await allOfOwner.waitUntil(reached(allOfOwner));
    expect(new Set(all.map((j) => j.id))).toEqual(new Set([owner.jobId]));
    expect(all.at(-1)?.status).toBe("queued");

    await new Promise((r) => setTimeout(r, 300));
    expect(strangerEvents.jobs.map((j) => j.id)).toEqual([stranger.jobId]);

    await Promise.all([ownerEvents.close(), allOfOwner.close(), strangerEvents.close()]);
  });

  it("does not open another user's job stream", async () => {
    const owner = await userWithJob("owner2@example.com");
    const stranger = await t.signUp("stranger2@example.com");
    const response = await stream(stranger.token, `/api/training-jobs/${owner.jobId}/stream`);
    expect(response.status).toBe(404);
    expect((await stream("ff_not_a_token", "/api/training-jobs/stream")).status).toBe(401);
  });
});
