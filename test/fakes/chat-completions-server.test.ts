import { readFileSync } from "node:fs";
import OpenAI, {
  APIConnectionTimeoutError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  RateLimitError,
} from "openai";
import type { ChatCompletionCreateParamsNonStreaming } from "openai/resources/chat/completions";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  type FakeChatOptions,
  type FakeChatServer,
  formatDuration,
  startFakeChatServer,
} from "./chat-completions-server.js";

const REFERENCE = "/work/shared/reference/openai/openapi.yaml";
const CHUNK =
  "Photosynthesis turns light into chemical energy. It happens in chloroplasts. Plants need water too.";

const servers: FakeChatServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(options?: FakeChatOptions): Promise<FakeChatServer> {
  const server = await startFakeChatServer(options);
  servers.push(server);
  return server;
}

function clientFor(server: FakeChatServer, overrides: Partial<ConstructorParameters<typeof OpenAI>[0]> = {}) {
  return new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "test-key", maxRetries: 0, ...overrides });
}

function ask(
  overrides: Partial<ChatCompletionCreateParamsNonStreaming> = {},
): ChatCompletionCreateParamsNonStreaming {
  return {
    model: "gpt-4.1-mini-2025-04-14",
    messages: [
      { role: "system", content: "Write question/answer pairs as JSON." },
      { role: "user", content: CHUNK },
    ],
    ...overrides,
  };
}

/** The SDK's types forbid malformed bodies; the fake must still reject them as the real API does. */
function malformed(body: Record<string, unknown>): ChatCompletionCreateParamsNonStreaming {
  return body as unknown as ChatCompletionCreateParamsNonStreaming;
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

describe("fake chat completions server, through the openai SDK", () => {
  it("answers a completion with usage, OpenAI's headers and the default JSON pairs", async () => {
    const server = await start();
    const { data, response, request_id } = await clientFor(server)
      .chat.completions.create(ask())
      .withResponse();

    expect(data.id).toMatch(/^chatcmpl-\w+$/);
    expect(data.object).toBe("chat.completion");
    expect(data.model).toBe("gpt-4.1-mini-2025-04-14");
    expect(data.choices[0]?.finish_reason).toBe("stop");
    expect(data.choices[0]?.message.role).toBe("assistant");
    expect(data.choices[0]?.message.refusal).toBeNull();
    const pairs = JSON.parse(data.choices[0]?.message.content ?? "").pairs;
    expect(pairs[0]).toEqual({
      question: expect.stringContaining("Photosynthesis"),
      answer: "Photosynthesis turns light into chemical energy.",
    });
    expect(data.usage?.prompt_tokens).toBeGreaterThan(10);
    expect(data.usage?.total_tokens).toBe(
      (data.usage?.prompt_tokens ?? 0) + (data.usage?.completion_tokens ?? 0),
    );

    expect(response.headers.get("x-request-id")).toMatch(/^req_/);
    expect(request_id).toBe(response.headers.get("x-request-id"));
    for (const kind of ["requests", "tokens"]) {
      expect(Number(response.headers.get(`x-ratelimit-limit-${kind}`))).toBeGreaterThan(0);
      expect(Number(response.headers.get(`x-ratelimit-remaining-${kind}`))).toBeGreaterThan(0);
      expect(response.headers.get(`x-ratelimit-reset-${kind}`)).toMatch(/^(\d+h)?(\d+m)?[\d.]+m?s$/);
    }
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.messages[1]?.content).toBe(CHUNK);
    expect(server.stats).toEqual({ ok: 1, rateLimited: 0, failed: 0 });
  });

  it("passes each request and its index to respond, and honours finish_reason", async () => {
    const seen: number[] = [];
    const server = await start({
      respond: (request, { requestIndex }) => {
        seen.push(requestIndex);
        return {
          content: `${request.model} #${requestIndex}`,
          finishReason: requestIndex === 1 ? "length" : "stop",
        };
      },
    });
    const client = clientFor(server);
    const first = await client.chat.completions.create(ask({ model: "llama3" }));
    const second = await client.chat.completions.create(ask({ model: "llama3" }));

    expect(first.choices[0]?.message.content).toBe("llama3 #0");
    expect(second.choices[0]?.finish_reason).toBe("length");
    expect(seen).toEqual([0, 1]);
  });

  it("cuts the answer at max_completion_tokens with finish_reason length, as the real endpoint does", async () => {
    const server = await start();
    const completion = await clientFor(server).chat.completions.create(ask({ max_completion_tokens: 5 }));

    expect(completion.choices[0]?.finish_reason).toBe("length");
    expect(completion.usage?.completion_tokens).toBe(5);
    expect(() => JSON.parse(completion.choices[0]?.message.content ?? "")).toThrow();
  });

  it("returns a refusal with null content", async () => {
    const server = await start({ respond: () => ({ refusal: "I can't help with that." }) });
    const completion = await clientFor(server).chat.completions.create(ask());

    expect(completion.choices[0]?.message.refusal).toBe("I can't help with that.");
    expect(completion.choices[0]?.message.content).toBeNull();
  });
});

describe("rate limits", () => {
  it("answers 429 rate_limit_exceeded with retry-after once rpm is used up", async () => {
    const server = await start({ rpm: 2 });
    const client = clientFor(server);
    await client.chat.completions.create(ask());
    await client.chat.completions.create(ask());
    const error = await rejection(client.chat.completions.create(ask()), RateLimitError);

    expect(error.status).toBe(429);
    expect(error.code).toBe("rate_limit_exceeded");
    expect(error.type).toBe("requests");
    expect(error.message).toMatch(
      /Rate limit reached for gpt-4\.1-mini-2025-04-14 .* on requests per min \(RPM\): Limit 2, Used 2, Requested 1\. Please try again in [\d.]+m?s\./,
    );
    expect(Number(error.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number(error.headers.get("retry-after-ms"))).toBeGreaterThan(0);
    expect(error.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(error.headers.get("x-ratelimit-limit-requests")).toBe("2");
    expect(server.stats).toEqual({ ok: 2, rateLimited: 1, failed: 0 });
  });

  it("limits tokens per window, counting max_tokens like OpenAI", async () => {
    const server = await start({ tpm: 200 });
    const client = clientFor(server);
    await client.chat.completions.create(ask({ max_tokens: 100 }));
    const error = await rejection(client.chat.completions.create(ask({ max_tokens: 100 })), RateLimitError);

    expect(error.type).toBe("tokens");
    expect(error.code).toBe("rate_limit_exceeded");
    expect(error.message).toMatch(/on tokens per min \(TPM\): Limit 200, Used \d+, Requested \d+\./);
    expect(error.headers.get("retry-after-ms")).not.toBeNull();

    const tooLarge = await rejection(
      client.chat.completions.create(ask({ max_tokens: 1000 })),
      RateLimitError,
    );
    expect(tooLarge.message).toMatch(
      /Request too large for gpt-4\.1-mini-2025-04-14 .* Limit 200, Requested \d+\./,
    );
  });

  it("lets the SDK's own retry wait for retry-after and then succeed", async () => {
    // The SDK's default first backoff is at most 500 ms: a window longer than that only clears in time
    // if the SDK waits for retry-after-ms, so a single 429 proves the header was honoured.
    const server = await start({ rpm: 1, windowMs: 800 });
    const client = clientFor(server, { maxRetries: 2 });
    await client.chat.completions.create(ask());
    const completion = await client.chat.completions.create(ask());

    expect(completion.choices[0]?.message.content).toContain("pairs");
    expect(server.stats).toEqual({ ok: 2, rateLimited: 1, failed: 0 });
    expect(server.requests).toHaveLength(3);
  });

  it("formats durations as OpenAI's reset headers do", () => {
    expect(formatDuration(12)).toBe("12ms");
    expect(formatDuration(1000)).toBe("1s");
    expect(formatDuration(1200)).toBe("1.2s");
    expect(formatDuration(360_000)).toBe("6m0s");
    expect(formatDuration(90_500)).toBe("1m30.5s");
  });
});

describe("errors", () => {
  it("rejects another key with 401 invalid_api_key", async () => {
    const server = await start({ apiKey: "sk-the-right-key" });
    const error = await rejection(clientFor(server).chat.completions.create(ask()), AuthenticationError);

    expect(error.status).toBe(401);
    expect(error.code).toBe("invalid_api_key");
    expect(error.type).toBe("invalid_request_error");
    await expect(
      clientFor(server, { apiKey: "sk-the-right-key" }).chat.completions.create(ask()),
    ).resolves.toBeDefined();
  });

  it("passes on an insufficient_quota 429 from respond", async () => {
    const server = await start({
      respond: () => ({
        status: 429,
        error: {
          message: "You exceeded your current quota, please check your plan and billing details.",
          type: "insufficient_quota",
          code: "insufficient_quota",
        },
      }),
    });
    const error = await rejection(clientFor(server).chat.completions.create(ask()), RateLimitError);

    expect(error.code).toBe("insufficient_quota");
    expect(error.type).toBe("insufficient_quota");
    expect(server.stats).toEqual({ ok: 0, rateLimited: 0, failed: 1 });
  });

  it("injects 500 server_error at the configured rate, the same way for the same seed", async () => {
    const always = await start({ failureRate: 1 });
    const error = await rejection(clientFor(always).chat.completions.create(ask()), InternalServerError);
    expect(error.status).toBe(500);
    expect(error.type).toBe("server_error");

    const outcomes = async () => {
      const server = await start({ failureRate: 0.5, seed: 42 });
      const client = clientFor(server);
      const results: boolean[] = [];
      for (let i = 0; i < 8; i++) {
        results.push(
          await client.chat.completions.create(ask()).then(
            () => true,
            () => false,
          ),
        );
      }
      return results;
    };
    const first = await outcomes();
    expect(await outcomes()).toEqual(first);
    expect(first).toContain(true);
    expect(first).toContain(false);
  });

  it("hangs until the client times out", async () => {
    const server = await start({ respond: () => ({ hang: true }) });
    await rejection(
      clientFor(server, { timeout: 200 }).chat.completions.create(ask()),
      APIConnectionTimeoutError,
    );
  });

  it("sends a 200 body that is not JSON, which the SDK cannot parse", async () => {
    const server = await start({ respond: () => ({ malformedBody: true }) });
    await rejection(clientFor(server).chat.completions.create(ask()), SyntaxError);
    expect(server.stats.ok).toBe(1);
  });

  it("answers json_schema with 400 when the endpoint lacks it, while json_object still works", async () => {
    const server = await start({ supportsJsonSchema: false });
    const client = clientFor(server);
    const jsonSchema = ask({
      response_format: {
        type: "json_schema",
        json_schema: { name: "pairs", strict: true, schema: { type: "object" } },
      },
    });
    const error = await rejection(client.chat.completions.create(jsonSchema), BadRequestError);
    expect(error.param).toBe("response_format");
    expect(error.message).toContain("json_schema");

    const jsonObject = await client.chat.completions.create(
      ask({ response_format: { type: "json_object" } }),
    );
    expect(JSON.parse(jsonObject.choices[0]?.message.content ?? "")).toHaveProperty("pairs");

    server.setOptions({ supportsJsonSchema: true });
    await expect(client.chat.completions.create(jsonSchema)).resolves.toBeDefined();
  });

  it.each([
    [{ messages: [{ role: "user", content: "hi" }] }, "model"],
    [{ model: "gpt-4.1" }, "messages"],
    [{ model: "gpt-4.1", messages: [] }, "messages"],
    [{ model: "gpt-4.1", messages: [{ role: "robot", content: "hi" }] }, "messages[0].role"],
    [{ model: "gpt-4.1", messages: [{ role: "user" }] }, "messages[0].content"],
    [{ model: "gpt-4.1", messages: [{ role: "user", content: 7 }] }, "messages[0].content"],
    [{ model: "gpt-4.1", messages: [{ role: "user", content: "hi" }], temperature: 3 }, "temperature"],
    [{ model: "gpt-4.1", messages: [{ role: "user", content: "hi" }], guided_json: {} }, "guided_json"],
  ])("answers 400 invalid_request_error naming the param for %j", async (body, param) => {
    const server = await start();
    const error = await rejection(
      clientFor(server).chat.completions.create(malformed(body)),
      BadRequestError,
    );

    expect(error.type).toBe("invalid_request_error");
    expect(error.param).toBe(param);
    expect(server.requests).toHaveLength(0);
    expect(server.stats.failed).toBe(1);
  });

  it("answers 400 to a body that is not JSON", async () => {
    const server = await start();
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer test-key" },
      body: "{not json",
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { type: string } }).error.type).toBe("invalid_request_error");
  });

  it("closes promptly while a request hangs", async () => {
    const server = await startFakeChatServer({ respond: () => ({ hang: true }) });
    const pending = clientFor(server, { timeout: 10_000 }).chat.completions.create(ask());
    const settled = pending.then(
      () => "answered",
      () => "failed",
    );
    while (server.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await server.close();
    expect(await settled).toBe("failed");
  });
});

// ---------------------------------------------------------------------------------------------------
// Shapes checked against the reference OpenAPI document.

interface Schema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  minItems?: number;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
}

/** The subset of JSON Schema the chat completion and error schemas use; other keywords are ignored. */
function schemaErrors(value: unknown, schema: Schema, schemas: Record<string, Schema>, at = "$"): string[] {
  if (schema.$ref) {
    const target = schemas[schema.$ref.replace("#/components/schemas/", "")];
    return target ? schemaErrors(value, target, schemas, at) : [`${at}: unresolved ${schema.$ref}`];
  }
  const errors: string[] = [];
  for (const part of schema.allOf ?? []) errors.push(...schemaErrors(value, part, schemas, at));
  if (schema.anyOf && !schema.anyOf.some((option) => schemaErrors(value, option, schemas, at).length === 0)) {
    errors.push(`${at}: matches none of anyOf`);
  }
  const oneOfMatches = schema.oneOf?.filter(
    (option) => schemaErrors(value, option, schemas, at).length === 0,
  );
  if (oneOfMatches && oneOfMatches.length !== 1)
    errors.push(`${at}: matches ${oneOfMatches.length} of oneOf`);
  if (schema.enum && !schema.enum.includes(value)) errors.push(`${at}: ${JSON.stringify(value)} not in enum`);
  if (schema.type) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((type) => hasJsonType(value, type))) return [...errors, `${at}: not ${types.join("|")}`];
  }
  if (isRecord(value)) {
    for (const name of schema.required ?? []) if (!(name in value)) errors.push(`${at}.${name}: missing`);
    for (const [name, property] of Object.entries(schema.properties ?? {})) {
      if (name in value) errors.push(...schemaErrors(value[name], property, schemas, `${at}.${name}`));
    }
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) errors.push(`${at}: too few items`);
    for (const [index, item] of value.entries()) {
      if (schema.items) errors.push(...schemaErrors(item, schema.items, schemas, `${at}[${index}]`));
    }
  }
  return errors;
}

function hasJsonType(value: unknown, type: string): boolean {
  if (type === "null") return value === null;
  if (type === "integer") return Number.isInteger(value);
  if (type === "array") return Array.isArray(value);
  if (type === "object") return isRecord(value);
  return typeof value === type;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

async function rawPost(server: FakeChatServer, body: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer test-key" },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

describe("shapes match the reference OpenAPI document", () => {
  let schemas: Record<string, Schema>;

  beforeAll(() => {
    const document = parse(readFileSync(REFERENCE, "utf8")) as {
      components: { schemas: Record<string, Schema> };
    };
    schemas = document.components.schemas;
  });

  it("the validator catches a response that breaks the schema", () => {
    const broken = { id: "chatcmpl-x", object: "chat.completion", created: 1.5, choices: [{}] };
    const errors = schemaErrors(
      broken,
      { $ref: "#/components/schemas/CreateChatCompletionResponse" },
      schemas,
    );
    expect(errors).toEqual(
      expect.arrayContaining(["$.model: missing", "$.created: not integer", "$.choices[0].message: missing"]),
    );
  });

  it("completions, refusals and truncated answers are CreateChatCompletionResponse", async () => {
    const server = await start();
    const request = ask();
    const responses = [(await rawPost(server, request)).json];
    server.setOptions({ respond: () => ({ refusal: "No." }) });
    responses.push((await rawPost(server, { ...request, n: 2 })).json);
    server.setOptions({ respond: undefined });
    responses.push((await rawPost(server, { ...request, max_tokens: 3 })).json);

    for (const response of responses) {
      expect(
        schemaErrors(response, { $ref: "#/components/schemas/CreateChatCompletionResponse" }, schemas),
      ).toEqual([]);
    }
  });

  it("every error answer is an ErrorResponse", async () => {
    const server = await start({ rpm: 1, apiKey: "test-key", supportsJsonSchema: false });
    const valid = ask();
    expect((await rawPost(server, valid)).status).toBe(200);
    const answers = [
      await rawPost(server, valid),
      await rawPost(server, { model: "gpt-4.1" }),
      await rawPost(server, {
        ...valid,
        response_format: { type: "json_schema", json_schema: { name: "x" } },
      }),
    ];
    server.setOptions({ rpm: 100, failureRate: 1 });
    answers.push(await rawPost(server, valid));
    server.setOptions({ apiKey: "another-key" });
    answers.push(await rawPost(server, valid));

    expect(answers.map((answer) => answer.status)).toEqual([429, 400, 400, 500, 401]);
    for (const { json: body } of answers) {
      expect(schemaErrors(body, { $ref: "#/components/schemas/ErrorResponse" }, schemas)).toEqual([]);
    }
  });

  it("the requests the fake accepts are CreateChatCompletionRequest", async () => {
    const server = await start();
    await clientFor(server).chat.completions.create(
      ask({ temperature: 0.2, response_format: { type: "json_object" }, max_completion_tokens: 500 }),
    );
    expect(
      schemaErrors(server.requests[0], { $ref: "#/components/schemas/CreateChatCompletionRequest" }, schemas),
    ).toEqual([]);
  });
});
