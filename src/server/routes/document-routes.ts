import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { ListedChunk } from "../../db/repositories/chunks-repository.js";
import type { DocumentRow } from "../../db/repositories/documents-repository.js";
import { type DocumentService, MAX_NAME_LENGTH } from "../../services/document-service.js";
import type { AppEnv } from "../env.js";
import { queryNumber } from "../query.js";
import {
  ChunkSchema,
  DocumentSchema,
  errorResponses,
  IdParams,
  IngestResultSchema,
  json,
} from "../schemas.js";

export const toDocumentDto = (d: DocumentRow) => ({
  id: d.id,
  projectId: d.projectId,
  name: d.name,
  type: d.type,
  sizeBytes: d.sizeBytes,
  contentHash: d.contentHash,
  status: d.status,
  error: d.error,
  chunkCount: d.chunkCount,
  duplicateChunks: d.duplicateChunks,
  flaggedChunks: d.flaggedChunks,
  chunkTargetTokens: d.chunkTargetTokens,
  chunkOverlapTokens: d.chunkOverlapTokens,
  duplicateThreshold: d.duplicateThreshold,
  createdAt: d.createdAt.toISOString(),
  updatedAt: d.updatedAt.toISOString(),
});

export const toChunkDto = (c: ListedChunk) => ({
  id: c.id,
  documentId: c.documentId,
  chunkIndex: c.chunkIndex,
  text: c.text,
  headingPath: c.headingPath,
  tokenCount: c.tokenCount,
  pageStart: c.pageStart,
  pageEnd: c.pageEnd,
  qualityScore: c.qualityScore,
  qualityBreakdown: c.qualityBreakdown,
  isDuplicate: c.isDuplicate,
  duplicateOf: c.duplicateOf,
  duplicateOfChunk: c.original,
  duplicateSimilarity: c.duplicateSimilarity,
  injection: { flagged: c.injectionFlagged, score: c.injectionScore, reasons: c.injectionReasons },
});

const FileField = z.instanceof(File).openapi({ type: "string", format: "binary" });
const UploadBody = z
  .object({
    files: z.union([FileField, z.array(FileField)], {
      error: "send each document as a file in a multipart field named files",
    }),
  })
  .openapi("DocumentUpload");

const onlyOrExclude = z.enum(["only", "exclude"]).optional();
const ChunkQuery = z.object({
  documentId: z.string().optional(),
  minQuality: queryNumber(z.number().min(0).max(1).optional()),
  duplicates: onlyOrExclude,
  flagged: onlyOrExclude,
  limit: queryNumber(z.number().int().min(1).max(500).default(50)),
  offset: queryNumber(z.number().int().min(0).default(0)),
});

export function documentRoutes(app: OpenAPIHono<AppEnv>, documents: DocumentService) {
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/projects/{id}/documents",
      summary: "Upload documents (multipart field `files`, repeatable); each is processed in the background",
      description:
        "An unchanged file (same name and content) is left as it is; the same content under another name is a " +
        "document of its own, its chunks marked as duplicates. A changed file named as a document already in the " +
        "project replaces that earlier version once it has been processed; if it fails, nothing is replaced. " +
        `Each file of a request needs a name of its own, of at most ${MAX_NAME_LENGTH} characters: a request with a nameless, ` +
        "repeated or longer name is refused whole, storing none of its files.",
      request: {
        params: IdParams,
        body: { content: { "multipart/form-data": { schema: UploadBody } }, required: true },
      },
      responses: {
        201: json(z.object({ documents: z.array(IngestResultSchema) }), "What became of each file"),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { files } = c.req.valid("form");
      const uploads = await Promise.all(
        [files]
          .flat()
          .map(async (file) => ({ name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) })),
      );
      const results = await documents.ingest(c.get("actor"), c.req.valid("param").id, uploads);
      return c.json({ documents: results }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/projects/{id}/documents",
      summary: "A project's documents with their status and chunk counts",
      request: { params: IdParams },
      responses: {
        200: json(z.object({ documents: z.array(DocumentSchema) }), "The documents"),
        ...errorResponses,
      },
    }),
    async (c) => {
      const rows = await documents.list(c.get("actor"), c.req.valid("param").id);
      return c.json({ documents: rows.map(toDocumentDto) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/documents/{id}",
      summary: "One document",
      request: { params: IdParams },
      responses: { 200: json(DocumentSchema, "The document"), ...errorResponses },
    }),
    async (c) => c.json(toDocumentDto(await documents.get(c.get("actor"), c.req.valid("param").id)), 200),
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/api/documents/{id}",
      summary: "Delete a document and its chunks",
      request: { params: IdParams },
      responses: { 204: { description: "Deleted" }, ...errorResponses },
    }),
    async (c) => {
      await documents.delete(c.get("actor"), c.req.valid("param").id);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/projects/{id}/chunks",
      summary: "A project's chunks, paged, filtered by document, quality, duplicates and injection flags",
      request: { params: IdParams, query: ChunkQuery },
      responses: {
        200: json(z.object({ total: z.number().int(), chunks: z.array(ChunkSchema) }), "One page of chunks"),
        ...errorResponses,
      },
    }),
    async (c) => {
      const query = c.req.valid("query");
      const page = await documents.listChunks(c.get("actor"), {
        ...query,
        projectId: c.req.valid("param").id,
      });
      return c.json({ total: page.total, chunks: page.chunks.map(toChunkDto) }, 200);
    },
  );
}
