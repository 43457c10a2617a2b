/** The web app's only way to FineFlow: the HTTP API, with the session cookie. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : undefined;
  if (!response.ok) throw new ApiError(response.status, data?.error?.message ?? `HTTP ${response.status}`);
  return data as T;
}

export interface User {
  id: string;
  email: string;
  isLocalOwner: boolean;
}

export interface Project {
  id: string;
  name: string;
  description: string;
  monthlyBudgetUsd: number | null;
  budgetEnforcement: "warn" | "block";
  createdAt: string;
}
