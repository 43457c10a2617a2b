import { Command } from "commander";
import { ConfigError } from "../config.js";
import { AppError } from "../core/errors.js";
import { DataDirBusyError } from "../db/data-dir-lock.js";
import { limitHeapGrowth } from "../heap.js";
import { VERSION } from "../version.js";
import { ApiError } from "./api-client.js";
import { registerAccounts } from "./commands/account.js";
import { registerBundle } from "./commands/bundle.js";
import { registerDocuments } from "./commands/documents.js";
import { registerFiles } from "./commands/files.js";
import { registerGenerate } from "./commands/generate.js";
import { registerKeys } from "./commands/keys.js";
import { registerLlm } from "./commands/llm.js";
import { registerPairs } from "./commands/pairs.js";
import { registerProject } from "./commands/project.js";
import { registerServe } from "./commands/serve.js";
import { registerTrain } from "./commands/train.js";
import { CliError } from "./connect.js";
import { fileProblem } from "./file-errors.js";

limitHeapGrowth();

// A reader that stops early (`fineflow chunks --json | head`, or `|& head` on the progress) closes the
// pipe: the command ends quietly, as other command-line tools do, instead of with an unhandled EPIPE's stack.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE" && error.code !== "ERR_STREAM_DESTROYED") throw error;
  });
}

const program = new Command("fineflow")
  .description("Turn documents into fine-tuning datasets and run the fine-tuning jobs.")
  .version(VERSION)
  .showHelpAfterError("(run with --help for usage)");

registerServe(program);
registerProject(program);
registerDocuments(program);
registerGenerate(program);
registerPairs(program);
registerFiles(program);
registerBundle(program);
registerAccounts(program);
registerKeys(program);
registerLlm(program);
registerTrain(program);

/** Errors users can act on are one line on stderr; anything else is a bug, shown with its stack. */
const EXPECTED = [ApiError, AppError, CliError, ConfigError, DataDirBusyError];

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const expected = EXPECTED.some((type) => error instanceof type);
  const message = expected
    ? (error as Error).message
    : (fileProblem(error) ?? (error as Error).stack ?? String(error));
  process.stderr.write(`error: ${message}\n`);
  process.exitCode = 1;
}
