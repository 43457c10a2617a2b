import { parentPort } from "node:worker_threads";
import { DocumentParseError } from "../parsers/parse-document.js";
import type { AnalysisReply, AnalysisRequest } from "./analysis-thread.js";
import { analyzeDocument } from "./analyze-document.js";

// The analysis thread's entry (see AnalysisThread), which sends one document at a time.
const port = parentPort;
if (!port) throw new Error("analysis-worker runs as a worker thread, started by AnalysisThread.");

async function answer({ type, bytes, chunking }: AnalysisRequest): Promise<AnalysisReply> {
  try {
    return { chunks: await analyzeDocument(type, bytes, chunking) };
  } catch (error) {
    // An error reaches the other thread as a plain Error: what the user is to see is sent as data.
    if (error instanceof DocumentParseError)
      return { failure: { reason: error.reason, message: error.message } };
    return { failure: { message: error instanceof Error ? error.message : String(error) } };
  }
}

port.on("message", async (request: AnalysisRequest) => port.postMessage(await answer(request)));
