import { createHash } from "node:crypto";
import type { Actor } from "../core/actor.js";
import { AppError } from "../core/errors.js";
import type { PairGenerator } from "../core/generation/types.js";
import { displayUrl, llmEndpointSchema } from "../core/llm-endpoint.js";
import type { LlmEndpointsRepository } from "../db/repositories/llm-endpoints-repository.js";
import { once } from "../once.js";
import type { LlmEndpoint } from "../providers/llm/openai-compatible-generator.js";
import type { LlmGenerators } from "./generation-service.js";
import type { KeyService } from "./key-service.js";
import { parseInput } from "./parse-input.js";

/** Which endpoint a user's generation goes to, as anyone may see it: no key, only whether one is set. */
export interface LlmEndpointView {
  /** The user's own endpoint, the server's (FINEFLOW_LLM_*), or none (the extractive generator). */
  source: "user" | "server" | "none";
  baseUrl: string | null;
  model: string | null;
  /** Whether the user has an `llm` key in the key store: it is sent to their own endpoint only. */
  keySet: boolean;
  /** When the user last set their endpoint. */
  updatedAt: Date | null;
}

export interface LlmEndpointServiceDeps {
  endpoints: LlmEndpointsRepository;
  keys: Pick<KeyService, "reveal" | "status">;
  /** The server's endpoint, from FINEFLOW_LLM_*: for users who have not set their own. */
  server?: LlmEndpoint;
  createGenerator?: (endpoint: LlmEndpoint) => PairGenerator;
}

/** The generator for an OpenAI-compatible endpoint, its SDK loaded with the first request (see `once`). */
function openAiCompatibleGenerator(endpoint: LlmEndpoint): PairGenerator {
  const load = once(async () => {
    const { OpenAICompatibleGenerator } = await import("../providers/llm/openai-compatible-generator.js");
    return new OpenAICompatibleGenerator(endpoint);
  });
  return { name: "llm", generate: async (request) => (await load()).generate(request) };
}

/** Generators kept for reuse: each holds its endpoint's rate-limit state and what output format it takes. */
const MAX_CACHED_GENERATORS = 64;

/**
 * Each user's generation endpoint: their own (base URL and model here, key in the key store), else the
 * server's, else none. The key is decrypted only when a chunk is about to be sent.
 */
export class LlmEndpointService implements LlmGenerators {
  private readonly createGenerator: (endpoint: LlmEndpoint) => PairGenerator;
  private readonly serverGenerator?: PairGenerator;
  private readonly generators = new Map<string, PairGenerator>();

  constructor(private readonly deps: LlmEndpointServiceDeps) {
    this.createGenerator = deps.createGenerator ?? openAiCompatibleGenerator;
    this.serverGenerator = deps.server && this.createGenerator(deps.server);
  }

  async get(actor: Actor): Promise<LlmEndpointView> {
    const own = await this.deps.endpoints.find(actor);
    const keySet = (await this.deps.keys.status(actor)).some((k) => k.provider === "llm" && k.set);
    if (own) {
      return { source: "user", baseUrl: own.baseUrl, model: own.model, keySet, updatedAt: own.updatedAt };
    }
    const server = this.deps.server;
    return server
      ? {
          source: "server",
          baseUrl: displayUrl(server.baseURL),
          model: server.model,
          keySet,
          updatedAt: null,
        }
      : { source: "none", baseUrl: null, model: null, keySet, updatedAt: null };
  }

  async set(actor: Actor, input: unknown): Promise<LlmEndpointView> {
    await this.deps.endpoints.upsert(actor, parseInput(llmEndpointSchema, input));
    return this.get(actor);
  }

  async clear(actor: Actor): Promise<void> {
    if (!(await this.deps.endpoints.delete(actor))) {
      throw new AppError("not_found", "You have no LLM endpoint of your own set.");
    }
  }

  async isConfigured(actor: Actor): Promise<boolean> {
    return Boolean(this.serverGenerator) || (await this.deps.endpoints.find(actor)) !== undefined;
  }

  async generatorFor(actor: Actor): Promise<PairGenerator | undefined> {
    const own = await this.deps.endpoints.find(actor);
    if (!own) return this.serverGenerator;
    const apiKey = await this.deps.keys.reveal(actor, "llm");
    return this.cached({ baseURL: own.baseUrl, model: own.model, apiKey });
  }

  private cached(endpoint: LlmEndpoint): PairGenerator {
    const id = createHash("sha256")
      .update(JSON.stringify([endpoint.baseURL, endpoint.model, endpoint.apiKey ?? null]))
      .digest("base64url");
    let generator = this.generators.get(id);
    if (generator) this.generators.delete(id);
    generator ??= this.createGenerator(endpoint);
    this.generators.set(id, generator); // most recently used last
    if (this.generators.size > MAX_CACHED_GENERATORS) {
      const oldest = this.generators.keys().next().value;
      if (oldest !== undefined) this.generators.delete(oldest);
    }
    return generator;
  }
}
