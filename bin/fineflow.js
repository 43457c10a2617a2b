#!/usr/bin/env node
// Runs the TypeScript sources directly, so `npx fineflow` works right after `npm install`, with no build step.
//
// No Node flags on the line above: Linux hands `env` everything after it as one word, and only GNU's and
// the BSDs' `env` split it (`-S`); BusyBox's, Alpine's, refuses the option, and the command would not start
// at all. `npm start` passes its `--max-semi-space-size=4` itself; NODE_OPTIONS can give it to any other
// command (README, Configuration).
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
