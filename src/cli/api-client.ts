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
    const text = await response.text();
    const parsed = text ? safeJson(text) : undefined;
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ApiError(
        response.status,
        error?.code ?? "http_error",
        error?.message ?? `HTTP ${response.status}`,
      );
    }
    return parsed as T;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
