import { readFileSync } from "node:fs";
import type { ErrorObject, ValidateFunction } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import { Ajv as AjvDraft7 } from "ajv/dist/ajv.js";
import addFormats from "ajv-formats";
import { parse } from "yaml";

/**
 * Checks HTTP requests and responses against a reference OpenAPI document (3.0 or 3.1), so a local
 * test double can accept exactly what the real API accepts and answer in the documented shapes.
 *
 * Exported API:
 *   loadOpenApiContract(specPath, options?) → OpenApiContract   (parsed + cached per path and options)
 *   contract.checkRequest({ method, path, body?, contentType? })            → string[]  ([] = conforms)
 *   contract.checkResponse({ method, path, status, body?, contentType? })   → string[]
 *   contract.inspectRequest(...) / contract.inspectResponse(...)            → ContractViolation[]
 *   contract.matchOperation(method, path) → { template, params } | undefined
 *   formatViolation(violation) → string
 *
 * - `path` is concrete and may carry a query string (`/v1/fine_tuning/jobs?limit=2&metadata[k]=v`);
 *   the servers' base path (`/v1`) is stripped when present. Query and path parameters are checked
 *   against their declared schemas after coercing their text to the declared type; `deepObject`
 *   parameters (`metadata[k]=v`) are rebuilt as objects.
 * - `body` is the parsed JSON body. For `multipart/form-data` pass the parsed fields as an object
 *   (bracketed names such as `expires_after[seconds]` are nested; file parts may be any value, they
 *   are checked as strings of `format: binary`). Text fields are coerced to the declared types.
 * - `contentType` picks the media type when an operation declares several; by default JSON, else the
 *   first declared one.
 * - Undocumented error statuses (the OpenAI spec documents only 200s) are checked against
 *   `options.errorSchema` (a components/schemas name) when given, else accepted.
 * - The document is normalised once: OpenAPI 3.0 `nullable`, boolean `exclusiveMinimum/Maximum`,
 *   `x-*` extensions, non-string `format`s and draft 2019 `$recursiveRef` are rewritten for ajv;
 *   unknown formats (`unixtime`, `binary`, `float`, …) are accepted as is.
 */

export interface ContractOptions {
  /** A components/schemas name that error bodies of undocumented statuses must match, e.g. "ErrorResponse". */
  errorSchema?: string;
}

export interface ContractViolation {
  /** Where the fault is: "request", "query", "path", "body" or "response". */
  in: "request" | "query" | "path" | "body" | "response";
  /** Dotted name of the offending field (`hyperparameters.n_epochs`), null when it is the whole thing. */
  param: string | null;
  message: string;
}

export interface RequestToCheck {
  method: string;
  path: string;
  body?: unknown;
  contentType?: string;
}

export interface ResponseToCheck extends RequestToCheck {
  status: number;
}

export interface OpenApiContract {
  readonly specPath: string;
  /** The servers' base path, e.g. "/v1" ("" when there is none). */
  readonly basePath: string;
  matchOperation(
    method: string,
    path: string,
  ): { template: string; params: Record<string, string> } | undefined;
  inspectRequest(request: RequestToCheck): ContractViolation[];
  inspectResponse(response: ResponseToCheck): ContractViolation[];
  checkRequest(request: RequestToCheck): string[];
  checkResponse(response: ResponseToCheck): string[];
}

export function formatViolation(violation: ContractViolation): string {
  const where = violation.param ? `${violation.in} ${violation.param}` : violation.in;
  return `${where}: ${violation.message}`;
}

const cache = new Map<string, OpenApiContract>();

export function loadOpenApiContract(specPath: string, options: ContractOptions = {}): OpenApiContract {
  const key = `${specPath}\u0000${JSON.stringify(options)}`;
  let contract = cache.get(key);
  if (!contract) {
    contract = buildContract(specPath, options);
    cache.set(key, contract);
  }
  return contract;
}

// ---------------------------------------------------------------------------------------------------

type Json = unknown;
type JsonObject = Record<string, Json>;

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  style?: string;
  schema?: JsonObject;
}

interface Operation {
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: JsonObject }> };
  responses?: Record<string, { content?: Record<string, { schema?: JsonObject }> }>;
}

interface PathTemplate {
  template: string;
  regex: RegExp;
  names: string[];
  literalSegments: number;
}

const SPEC_ID = "https://openapi-contract.invalid/spec.json";

function buildContract(specPath: string, options: ContractOptions): OpenApiContract {
  const raw = parse(readFileSync(specPath, "utf8")) as JsonObject;
  const doc = normalizeDocument(raw);
  const is31 = String(raw.openapi ?? "").startsWith("3.1");
  const basePath = serverBasePath(raw);
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Json>>;
  const templates = Object.keys(paths)
    .map(compileTemplate)
    .sort((a, b) => b.literalSegments - a.literalSegments);

  // Two validators over one document: JSON bodies are checked as sent; text transports (query, path,
  // multipart) carry everything as strings, so that one coerces to the declared types first.
  const makeAjv = (coerce: boolean) => {
    const common = {
      strict: false,
      allErrors: true,
      validateSchema: false,
      logger: false as const,
      coerceTypes: coerce ? ("array" as const) : false,
    };
    const ajv = is31 ? new Ajv2020(common) : new AjvDraft7(common);
    addFormats.default(ajv);
    for (const format of collectFormats(doc)) if (!ajv.formats[format]) ajv.addFormat(format, true);
    ajv.addSchema(doc, SPEC_ID);
    return ajv;
  };
  const strictAjv = makeAjv(false);
  const coercingAjv = makeAjv(true);
  const compiled = new Map<string, ValidateFunction>();
  const validatorAt = (pointer: string, coerce: boolean): ValidateFunction => {
    const key = `${coerce}:${pointer}`;
    let validate = compiled.get(key);
    if (!validate) {
      validate = (coerce ? coercingAjv : strictAjv).compile({ $ref: `${SPEC_ID}#${pointer}` });
      compiled.set(key, validate);
    }
    return validate;
  };

  const matchOperation = (method: string, concretePath: string) => {
    const path = stripBase(splitQuery(concretePath).path, basePath);
    for (const candidate of templates) {
      const match = candidate.regex.exec(path);
      if (!match) continue;
      const operation = paths[candidate.template]?.[method.toLowerCase()];
      if (!operation) continue;
      const params: Record<string, string> = {};
      candidate.names.forEach((name, index) => {
        params[name] = decodeURIComponent(match[index + 1] ?? "");
      });
      return { template: candidate.template, params };
    }
    return undefined;
  };

  const locate = (method: string, concretePath: string) => {
    const matched = matchOperation(method, concretePath);
    if (!matched) return undefined;
    const pathItem = paths[matched.template] as JsonObject;
    const operation = pathItem[method.toLowerCase()] as Operation;
    const pointer = `/paths/${escapePointer(matched.template)}/${method.toLowerCase()}`;
    const shared = (pathItem.parameters ?? []) as Parameter[];
    return { ...matched, operation, pointer, sharedParameters: shared };
  };

  const validate = (
    pointer: string,
    data: Json,
    coerce: boolean,
    where: ContractViolation["in"],
    prefix = "",
  ): ContractViolation[] => {
    const check = validatorAt(pointer, coerce);
    return check(data) ? [] : describeErrors(check.errors ?? [], where, prefix);
  };

  const inspectRequest = (request: RequestToCheck): ContractViolation[] => {
    const method = request.method.toUpperCase();
    const found = locate(method, request.path);
    if (!found) {
      const path = splitQuery(request.path).path;
      return [{ in: "request", param: null, message: `no operation ${method} ${path} in ${specPath}` }];
    }
    const { operation, pointer } = found;
    const violations: ContractViolation[] = [];
    const query = parseQuery(splitQuery(request.path).query);
    // Parameters declared on the operation override those of its path item.
    const declared = new Map<string, { parameter: Parameter; pointer: string }>();
    found.sharedParameters.forEach((parameter, index) => {
      declared.set(`${parameter.in}:${parameter.name}`, {
        parameter,
        pointer: `/paths/${escapePointer(found.template)}/parameters/${index}`,
      });
    });
    (operation.parameters ?? []).forEach((parameter, index) => {
      declared.set(`${parameter.in}:${parameter.name}`, {
        parameter,
        pointer: `${pointer}/parameters/${index}`,
      });
    });
    for (const { parameter, pointer: at } of declared.values()) {
      if (parameter.in !== "query" && parameter.in !== "path") continue;
      const value =
        parameter.in === "path"
          ? found.params[parameter.name]
          : parameter.style === "deepObject"
            ? query.objects[parameter.name]
            : query.values[parameter.name];
      if (value === undefined) {
        if (parameter.required) {
          violations.push({ in: parameter.in, param: parameter.name, message: "is required" });
        }
        continue;
      }
      if (!parameter.schema) continue;
      const where = parameter.in === "path" ? "path" : "query";
      violations.push(...validate(`${at}/schema`, structuredClone(value), true, where, parameter.name));
    }
    const requestBody = operation.requestBody;
    const hasBody = request.body !== undefined && request.body !== null && request.body !== "";
    if (!requestBody?.content) return violations;
    if (!hasBody) {
      if (requestBody.required)
        violations.push({ in: "body", param: null, message: "a request body is required" });
      return violations;
    }
    const mediaType = pickMediaType(Object.keys(requestBody.content), request.contentType);
    if (!mediaType) {
      const message = `content type ${request.contentType} is not one of ${Object.keys(requestBody.content).join(", ")}`;
      return [...violations, { in: "body", param: null, message }];
    }
    if (!requestBody.content[mediaType]?.schema) return violations;
    const schemaPointer = `${pointer}/requestBody/content/${escapePointer(mediaType)}/schema`;
    const multipart = mediaType.startsWith("multipart/") || mediaType.includes("x-www-form-urlencoded");
    const data = multipart ? formFieldsToObject(request.body) : request.body;
    violations.push(...validate(schemaPointer, data, multipart, "body"));
    return violations;
  };

  const inspectResponse = (response: ResponseToCheck): ContractViolation[] => {
    const method = response.method.toUpperCase();
    const found = locate(method, response.path);
    if (!found) {
      const path = splitQuery(response.path).path;
      return [{ in: "request", param: null, message: `no operation ${method} ${path} in ${specPath}` }];
    }
    const responses = found.operation.responses ?? {};
    const status = String(response.status);
    const key = [status, `${status[0]}XX`, `${status[0]}xx`, "default"].find((k) => k in responses);
    if (!key) {
      if (response.status >= 400 && options.errorSchema) {
        return validate(
          `/components/schemas/${escapePointer(options.errorSchema)}`,
          response.body,
          false,
          "response",
        );
      }
      if (response.status >= 400) return [];
      const documented = Object.keys(responses).join(", ");
      return [{ in: "response", param: null, message: `status ${status} is not documented (${documented})` }];
    }
    const content = responses[key]?.content;
    if (!content) return [];
    const mediaType = pickMediaType(Object.keys(content), response.contentType);
    if (!mediaType) {
      const message = `content type ${response.contentType} is not one of ${Object.keys(content).join(", ")}`;
      return [{ in: "response", param: null, message }];
    }
    if (!content[mediaType]?.schema) return [];
    const schemaPointer = `${found.pointer}/responses/${escapePointer(key)}/content/${escapePointer(mediaType)}/schema`;
    return validate(schemaPointer, response.body, false, "response");
  };

  return {
    specPath,
    basePath,
    matchOperation,
    inspectRequest,
    inspectResponse,
    checkRequest: (request) => inspectRequest(request).map(formatViolation),
    checkResponse: (response) => inspectResponse(response).map(formatViolation),
  };
}

// ---------------------------------------------------------------------------------------------------
// Normalisation: one pass that turns OpenAPI's schema dialect into what ajv accepts.

/** Keywords whose values are maps from names (not keywords) to schemas. */
const NAME_MAPS = new Set(["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"]);

function normalizeDocument(raw: JsonObject): JsonObject {
  const doc = normalizeNode(raw, undefined) as JsonObject;
  // `$recursiveRef: "#"` (draft 2019) means "the schema that declared $recursiveAnchor": in these
  // documents that is always the enclosing component, so point straight at it.
  const schemas = ((doc.components as JsonObject | undefined)?.schemas ?? {}) as JsonObject;
  for (const [name, schema] of Object.entries(schemas)) {
    replaceRecursiveRefs(schema, `${SPEC_ID}#/components/schemas/${escapePointer(name)}`);
  }
  return doc;
}

/** Keywords whose values are data, not schemas: rewriting them would change what they mean. */
const DATA_KEYWORDS = new Set(["example", "examples", "default", "enum", "const", "required"]);

function normalizeNode(node: Json, parentKey: string | undefined): Json {
  if (parentKey !== undefined && DATA_KEYWORDS.has(parentKey)) return node;
  if (Array.isArray(node)) return node.map((item) => normalizeNode(item, undefined));
  if (!isObject(node)) return node;
  const namesHere = parentKey !== undefined && NAME_MAPS.has(parentKey);
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (namesHere) {
      out[key] = normalizeNode(value, undefined);
      continue;
    }
    if (key.startsWith("x-") || key === "example" || key === "discriminator") continue;
    if (key === "format" && typeof value !== "string") continue;
    if (key === "$ref" && typeof value === "string" && value.startsWith("#")) {
      out[key] = `${SPEC_ID}${value}`;
      continue;
    }
    out[key] = normalizeNode(value, key);
  }
  // OpenAPI 3.0 spelled an exclusive bound as a boolean beside minimum/maximum.
  for (const [flag, bound] of [
    ["exclusiveMinimum", "minimum"],
    ["exclusiveMaximum", "maximum"],
  ] as const) {
    if (typeof out[flag] === "boolean") {
      if (out[flag] === true && typeof out[bound] === "number") {
        out[flag] = out[bound];
        delete out[bound];
      } else {
        delete out[flag];
      }
    }
  }
  if (out.nullable === true) {
    delete out.nullable;
    return { anyOf: [out, { type: "null" }] };
  }
  if ("nullable" in out && typeof out.nullable === "boolean") delete out.nullable;
  return out;
}

function replaceRecursiveRefs(node: Json, target: string): void {
  if (Array.isArray(node)) {
    for (const item of node) replaceRecursiveRefs(item, target);
    return;
  }
  if (!isObject(node)) return;
  if (node.$recursiveRef === "#") {
    delete node.$recursiveRef;
    node.$ref = target;
  }
  delete node.$recursiveAnchor;
  for (const value of Object.values(node)) replaceRecursiveRefs(value, target);
}

function collectFormats(node: Json, found = new Set<string>(), parentKey?: string): Set<string> {
  if (Array.isArray(node)) {
    for (const item of node) collectFormats(item, found);
  } else if (isObject(node)) {
    const namesHere = parentKey !== undefined && NAME_MAPS.has(parentKey);
    for (const [key, value] of Object.entries(node)) {
      if (!namesHere && key === "format" && typeof value === "string") found.add(value);
      else collectFormats(value, found, namesHere ? undefined : key);
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------------
// Paths, queries, media types

function serverBasePath(doc: JsonObject): string {
  const servers = doc.servers as { url?: string }[] | undefined;
  const url = servers?.[0]?.url;
  if (!url) return "";
  try {
    return new URL(url, "http://base.invalid").pathname.replace(/\/$/, "");
  } catch {
    return "";
  }
}

function compileTemplate(template: string): PathTemplate {
  const names: string[] = [];
  let literalSegments = 0;
  const source = template
    .split("/")
    .map((segment) => {
      if (!segment.includes("{")) {
        if (segment) literalSegments++;
        return escapeRegex(segment);
      }
      return segment.replace(
        /\{([^}]+)\}|([^{]+)/g,
        (_whole, name: string | undefined, text: string | undefined) => {
          if (name) {
            names.push(name);
            return "([^/]+)";
          }
          return escapeRegex(text ?? "");
        },
      );
    })
    .join("/");
  return { template, regex: new RegExp(`^${source}/?$`), names, literalSegments };
}

function stripBase(path: string, basePath: string): string {
  let result = path;
  if (/^https?:\/\//.test(result)) result = new URL(result).pathname;
  if (basePath && (result === basePath || result.startsWith(`${basePath}/`))) {
    result = result.slice(basePath.length) || "/";
  }
  return result;
}

function splitQuery(path: string): { path: string; query: string } {
  const index = path.indexOf("?");
  return index < 0 ? { path, query: "" } : { path: path.slice(0, index), query: path.slice(index + 1) };
}

/** Plain values by name (repeated names become arrays) and `name[key]=value` pairs as objects. */
function parseQuery(query: string): { values: Record<string, Json>; objects: Record<string, JsonObject> } {
  const values: Record<string, Json> = {};
  const objects: Record<string, JsonObject> = {};
  for (const [name, value] of new URLSearchParams(query)) {
    const deep = /^([^[\]]+)\[([^\]]*)\]$/.exec(name);
    if (deep?.[1] !== undefined && deep[2] !== undefined) {
      objects[deep[1]] ??= {};
      (objects[deep[1]] as JsonObject)[deep[2]] = value;
      continue;
    }
    const previous = values[name];
    values[name] =
      previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
    // `metadata=null` style: a deepObject given as a plain value.
    if (value === "null") objects[name] ??= null as unknown as JsonObject;
  }
  return { values, objects };
}

function pickMediaType(declared: string[], wanted: string | undefined): string | undefined {
  if (wanted) {
    const base = wanted.split(";")[0]?.trim().toLowerCase() ?? "";
    return (
      declared.find((type) => type.toLowerCase() === base) ??
      declared.find((type) => type.endsWith("/*") && base.startsWith(type.slice(0, -1))) ??
      declared.find((type) => type === "*/*")
    );
  }
  return declared.find((type) => type.includes("json")) ?? declared[0];
}

/** `{ "a[b]": "1" }` → `{ a: { b: "1" } }`; binary parts become placeholder strings. */
function formFieldsToObject(fields: Json): Json {
  if (!isObject(fields)) return fields;
  const out: JsonObject = {};
  for (const [name, value] of Object.entries(fields)) {
    const keys = name.split(/[[\]]+/).filter((part) => part.length > 0);
    let target = out;
    keys.slice(0, -1).forEach((key) => {
      if (!isObject(target[key])) target[key] = {};
      target = target[key] as JsonObject;
    });
    target[keys.at(-1) ?? name] = asFormValue(value);
  }
  return out;
}

function asFormValue(value: Json): Json {
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  if (typeof Blob !== "undefined" && value instanceof Blob) return `<${value.size} bytes>`;
  return isObject(value) || Array.isArray(value) ? structuredClone(value) : value;
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, "~0").replace(/\//g, "~1");
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function isObject(value: Json): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------------
// Error messages

/**
 * Ajv reports every branch of a failed anyOf/oneOf. A reader wants one line per field: the bare
 * "must match a schema in anyOf" is dropped when a branch says more, a branch's type error is dropped
 * when the same branch also has an enum error (the enum says it all), the `null` branch that
 * `nullable` adds is dropped, and what is left for one field is joined with "or".
 */
function describeErrors(
  errors: ErrorObject[],
  where: ContractViolation["in"],
  prefix: string,
): ContractViolation[] {
  const combinators = new Set(["anyOf", "oneOf", "allOf", "if"]);
  const branch = (error: ErrorObject) => error.schemaPath.slice(0, error.schemaPath.lastIndexOf("/"));
  const useful = errors.filter((error) => {
    const others = errors.filter((other) => other !== error && !combinators.has(other.keyword));
    if (combinators.has(error.keyword)) {
      return !others.some((other) => other.instancePath.startsWith(error.instancePath));
    }
    if (error.keyword !== "type") return true;
    const samePath = others.filter((other) => other.instancePath === error.instancePath);
    if ((error.params as { type?: unknown }).type === "null" && samePath.length > 0) return false;
    return !samePath.some((other) => other.keyword === "enum" && branch(other) === branch(error));
  });
  const byParam = new Map<string, string[]>();
  for (const error of useful) {
    const { param, message } = describeError(error, prefix);
    const messages = byParam.get(param) ?? [];
    if (!messages.includes(message)) messages.push(message);
    byParam.set(param, messages);
  }
  return [...byParam].map(([param, messages]) => ({
    in: where,
    param: param || null,
    message: messages.join("; or "),
  }));
}

function describeError(error: ErrorObject, prefix: string): { param: string; message: string } {
  const param = [prefix, ...error.instancePath.split("/").slice(1).map(unescapePointer)]
    .filter((part) => part !== "")
    .join(".");
  const child = (name: unknown) => (param ? `${param}.${String(name)}` : String(name));
  const params = error.params as {
    additionalProperty?: string;
    missingProperty?: string;
    allowedValues?: unknown[];
  };
  if (error.keyword === "additionalProperties") {
    return { param: child(params.additionalProperty), message: "is not a recognised field" };
  }
  if (error.keyword === "required") return { param: child(params.missingProperty), message: "is required" };
  if (error.keyword === "enum") {
    const allowed = (params.allowedValues ?? []).map((value) => JSON.stringify(value)).join(", ");
    return { param, message: `must be one of ${allowed}` };
  }
  return { param, message: error.message ?? "is invalid" };
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, "/").replace(/~0/g, "~");
}
