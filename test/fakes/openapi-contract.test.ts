import { describe, expect, it } from "vitest";
import { loadOpenApiContract } from "./openapi-contract.js";

const OPENAI = "/work/shared/reference/openai/openapi.yaml";
const TOGETHER = "/work/shared/reference/together/openapi.yaml";

describe("openapi-contract on OpenAI's reference", () => {
  const contract = loadOpenApiContract(OPENAI, { errorSchema: "ErrorResponse" });

  it("is loaded once per path and options", () => {
    expect(loadOpenApiContract(OPENAI, { errorSchema: "ErrorResponse" })).toBe(contract);
    expect(contract.basePath).toBe("/v1");
  });

  it("matches concrete paths to templates, with or without the base path", () => {
    expect(contract.matchOperation("GET", "/v1/fine_tuning/jobs/ftjob-abc/events?limit=2")).toEqual({
      template: "/fine_tuning/jobs/{fine_tuning_job_id}/events",
      params: { fine_tuning_job_id: "ftjob-abc" },
    });
    expect(contract.matchOperation("POST", "/files")?.template).toBe("/files");
    expect(contract.matchOperation("PATCH", "/files")).toBeUndefined();
  });

  it("accepts a valid job creation and names every fault of an invalid one", () => {
    const valid = {
      model: "gpt-4o-mini-2024-07-18",
      training_file: "file-abc",
      validation_file: null,
      suffix: "faq",
      method: { type: "supervised", supervised: { hyperparameters: { n_epochs: 3, batch_size: "auto" } } },
      metadata: { fineflow_job_id: "job_1" },
    };
    expect(contract.checkRequest({ method: "POST", path: "/v1/fine_tuning/jobs", body: valid })).toEqual([]);

    const invalid = {
      model: "gpt-4o-mini-2024-07-18",
      suffix: 7,
      method: { type: "supervised", supervised: { hyperparameters: { n_epochs: 0 } } },
    };
    const violations = contract.inspectRequest({
      method: "POST",
      path: "/v1/fine_tuning/jobs",
      body: invalid,
    });
    expect(violations.map((violation) => violation.param)).toEqual([
      "training_file",
      "suffix",
      "method.supervised.hyperparameters.n_epochs",
    ]);
    expect(contract.checkRequest({ method: "POST", path: "/v1/fine_tuning/jobs", body: invalid })).toContain(
      'body method.supervised.hyperparameters.n_epochs: must be one of "auto"; or must be >= 1',
    );
  });

  it("checks query parameters after coercing their text, deepObject included", () => {
    expect(
      contract.checkRequest({ method: "GET", path: "/v1/fine_tuning/jobs?limit=5&metadata[k]=v" }),
    ).toEqual([]);
    expect(contract.checkRequest({ method: "GET", path: "/v1/files?order=sideways&limit=x" })).toEqual([
      "query limit: must be integer",
      'query order: must be one of "asc", "desc"',
    ]);
  });

  it("validates multipart fields as an object, nesting bracketed names", () => {
    const upload = {
      purpose: "fine-tune",
      file: new Uint8Array([123, 125]),
      "expires_after[anchor]": "created_at",
      "expires_after[seconds]": "3600",
    };
    const contentType = "multipart/form-data; boundary=x";
    expect(contract.checkRequest({ method: "POST", path: "/v1/files", body: upload, contentType })).toEqual(
      [],
    );
    expect(
      contract.checkRequest({
        method: "POST",
        path: "/v1/files",
        body: { purpose: "fine-tune", "expires_after[seconds]": "10" },
        contentType,
      }),
    ).toEqual([
      "body file: is required",
      "body expires_after.anchor: is required",
      "body expires_after.seconds: must be >= 3600",
    ]);
  });

  it("checks responses, nullable 3.1 unions included, and error envelopes", () => {
    const job = {
      object: "fine_tuning.job",
      id: "ftjob-abc",
      model: "gpt-4o-mini-2024-07-18",
      created_at: 1_700_000_000,
      finished_at: null,
      fine_tuned_model: null,
      organization_id: "org-x",
      result_files: [],
      status: "queued",
      validation_file: null,
      training_file: "file-abc",
      hyperparameters: { n_epochs: 3, batch_size: 1, learning_rate_multiplier: 1.8 },
      trained_tokens: null,
      error: null,
      seed: 1,
      estimated_finish: null,
      metadata: null,
    };
    const path = "/v1/fine_tuning/jobs/ftjob-abc";
    expect(contract.checkResponse({ method: "GET", path, status: 200, body: job })).toEqual([]);
    expect(
      contract.checkResponse({
        method: "GET",
        path,
        status: 200,
        body: { ...job, status: "done", seed: undefined },
      }),
    ).toEqual([
      "response seed: is required",
      'response status: must be one of "validating_files", "queued", "running", "succeeded", "failed", "cancelled"',
    ]);
    const error = {
      error: { message: "No such job", type: "invalid_request_error", param: null, code: null },
    };
    expect(contract.checkResponse({ method: "GET", path, status: 404, body: error })).toEqual([]);
    expect(contract.checkResponse({ method: "GET", path, status: 404, body: { error: "nope" } })).toEqual([
      "response error: must be object",
    ]);
  });

  it("reports an operation the document does not have", () => {
    expect(contract.checkRequest({ method: "GET", path: "/v1/fine-tunes" })).toEqual([
      `request: no operation GET /v1/fine-tunes in ${OPENAI}`,
    ]);
  });
});

describe("openapi-contract on Together's reference", () => {
  const contract = loadOpenApiContract(TOGETHER);

  it("prefers literal segments over templates", () => {
    expect(contract.matchOperation("POST", "/v1/files/upload")?.template).toBe("/files/upload");
    expect(contract.matchOperation("GET", "/v1/fine-tunes/ft-1/events")?.params).toEqual({ id: "ft-1" });
  });

  it("accepts a valid fine-tune request and rejects an invalid one", () => {
    const valid = {
      training_file: "file-1",
      model: "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference",
      n_epochs: 3,
    };
    expect(contract.checkRequest({ method: "POST", path: "/v1/fine-tunes", body: valid })).toEqual([]);
    const invalid = { model: "m", n_epochs: "three" };
    const violations = contract.inspectRequest({ method: "POST", path: "/v1/fine-tunes", body: invalid });
    expect(violations.map((violation) => violation.param)).toEqual(
      expect.arrayContaining(["training_file", "n_epochs"]),
    );
  });
});
