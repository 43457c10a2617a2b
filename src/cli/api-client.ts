import { inTermsOf } from "../core/in-terms-of.js";
import type { FlagNames } from "./in-flag-terms.js";

/** An error users can act on: the CLI prints its message as one line, with no stack. */
export class CliError extends Error {
  override readonly name = "CliError";
}

/** What an API error answer says, raised in the CLI as one readable line. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export type Fetch = (request: Request) => Response | Promise<Response>;

/**
 * The CLI's way to FineFlow: the same HTTP API the web app uses, either over the network or handed
 * straight to the in-process app, so each command has one implementation whatever the database.
 */
export class ApiClient {
  /** Whether the server has answered yet: a failure after that is a connection lost, not one never made. */
  private answered = false;

  constructor(
    private readonly fetch: Fetch,
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  /** `flags`: the API fields the command's flags set, so that a refusal names the flags the user typed. */
  async request<T>(method: string, path: string, body?: unknown, flags: FlagNames = {}): Promise<T> {
    const response = await this.send(method, path, body, flags);
    const text = await this.overNetwork(() => response.text());
    return (text ? safeJson(text) : undefined) as T;
  }

  /** The answer itself, for a body to stream (downloads); errors are raised as for `request`. */
  async send(method: string, path: string, body?: unknown, flags: FlagNames = {}): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    const isForm = body instanceof FormData;
    if (body !== undefined && !isForm) headers["content-type"] = "application/json";
    const request = new Request(new URL(path, this.baseUrl), {
      method,
      headers,
      body: body === undefined ? undefined : isForm ? body : JSON.stringify(body),
    });
    const response = await this.overNetwork(async () => this.fetch(request));
    this.answered = true;
    if (response.ok) return response;
    const parsed = safeJson(await this.overNetwork(() => response.text())) as
      | { error?: { code?: string; message?: string } }
      | undefined;
    throw new ApiError(
      response.status,
      parsed?.error?.code ?? "http_error",
      inTermsOf(parsed?.error?.message ?? `HTTP ${response.status}`, flags),
    );
  }

  /**
   * Runs a step that goes over the network, turning its failure into one line that names the server: a
   * server stopped in the middle of a command printed fetch's stack. The server's URL is given by its
   * origin only, so that no credentials in it are shown.
   */
  private async overNetwork<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      if (!isNetworkError(error)) throw error;
      const server = `the FineFlow server at ${new URL(this.baseUrl).origin}`;
      const cause = error.cause as Error & { code?: string };
      const why = `(${error.message}: ${cause.code ?? cause.message})`;
      throw new CliError(
        this.answered
          ? `lost the connection to ${server} ${why}: is it still running? Run the command again.`
          : `could not reach ${server} ${why}: is it running?`,
      );
    }
  }
}

/** fetch fails with a TypeError when the network does, naming the system's error as its cause. */
const isNetworkError = (error: unknown): error is TypeError =>
  error instanceof TypeError && error.cause instanceof Error;

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
