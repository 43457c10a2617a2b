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
  constructor(
    private readonly fetch: Fetch,
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const text = await (await this.send(method, path, body)).text();
    return (text ? safeJson(text) : undefined) as T;
  }

  /** The answer itself, for a body to stream (downloads); errors are raised as for `request`. */
  async send(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    const isForm = body instanceof FormData;
    if (body !== undefined && !isForm) headers["content-type"] = "application/json";
    const response = await this.fetch(
      new Request(new URL(path, this.baseUrl), {
        method,
        headers,
        body: body === undefined ? undefined : isForm ? body : JSON.stringify(body),
      }),
    );
    if (response.ok) return response;
    const parsed = safeJson(await response.text()) as
      | { error?: { code?: string; message?: string } }
      | undefined;
    throw new ApiError(
      response.status,
      parsed?.error?.code ?? "http_error",
      parsed?.error?.message ?? `HTTP ${response.status}`,
    );
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
