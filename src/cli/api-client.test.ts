import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { ApiClient, ApiError, CliError } from "./api-client.js";
import type { FlagNames } from "./in-flag-terms.js";

const TOKEN = "ff_secret_token";

const listen = (server: Server) =>
  new Promise<string>((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
const close = (server: Server) =>
  new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  });

/** The message a request fails with, which must be a CliError: main prints those as one line, no stack. */
async function failure(client: ApiClient): Promise<string> {
  const error = await client.request("GET", "/api/projects").catch((e: unknown) => e);
  expect(error).toBeInstanceOf(CliError);
  return (error as CliError).message;
}

describe("ApiClient over the network", () => {
  it("says which server it could not reach, in one line with no token, when nothing listens", async () => {
    // A port just freed: nothing listens there.
    const server = createServer();
    const url = await listen(server);
    await close(server);

    const message = await failure(new ApiClient(fetch, url, TOKEN));
    expect(message).toBe(
      `could not reach the FineFlow server at ${url} (fetch failed: ECONNREFUSED): is it running?`,
    );
  });

  it("says the connection to the server was lost when it stops during a command", async () => {
    const server = createServer((_request, response) => response.end('{"projects":[]}'));
    const url = await listen(server);
    const client = new ApiClient(fetch, `${url}/`, TOKEN);
    expect(await client.request("GET", "/api/projects")).toEqual({ projects: [] });
    await close(server);

    const message = await failure(client);
    expect(message).toMatch(
      new RegExp(
        `^lost the connection to the FineFlow server at ${url} \\(fetch failed: \\w+\\): ` +
          "is it still running\\? Run the command again\\.$",
      ),
    );
    expect(message).not.toContain(TOKEN);
  });
});

describe("ApiClient, when the API refuses a request", () => {
  const message = "chunkOverlapTokens: must be less than half of chunkTargetTokens (64)";
  const refusing = new ApiClient(
    () => Response.json({ error: { code: "validation_error", message } }, { status: 400 }),
    "http://fineflow.local",
    TOKEN,
  );
  /** The error a request fails with, which must be an ApiError: main prints those as one line. */
  async function refusal(flags?: FlagNames): Promise<ApiError> {
    const error = await refusing.request("POST", "/api/projects", {}, flags).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }

  it("names the fields by the flags the command gives for them, keeping status and code", async () => {
    const error = await refusal({
      chunkTargetTokens: "--chunk-tokens",
      chunkOverlapTokens: "--chunk-overlap",
    });
    expect(error).toMatchObject({ status: 400, code: "validation_error" });
    expect(error.message).toBe("--chunk-overlap: must be less than half of --chunk-tokens (64)");
    // A request that gives no flags (one made from arguments, or a GET) keeps the API's words.
    expect((await refusal()).message).toBe(message);
  });
});
