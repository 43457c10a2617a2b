import { createRequire } from "node:module";

/** The package's version, read once from package.json so there is one place for it. */
export const VERSION: string = (createRequire(import.meta.url)("../package.json") as { version: string })
  .version;
