#!/usr/bin/env -S node --max-semi-space-size=4
// Runs the TypeScript sources directly, so `npx fineflow` works right after `npm install`, with no build step.
//
// The flag above caps V8's young generation at 4 MB a semi-space instead of up to 16: a process holding
// PGlite peaks ~60 MB lower, at the same speed (the ingest benchmark's true peak: 419–444 MB in four runs
// on 50 MB against ~500 MB without it; on 20 MB, 405–463 MB against 482–538 MB in alternating runs).
// Node reads it only at start-up, so it is given here, and `npm start` and the benchmarks pass the same
// (bench/node-flags.ts reads them from this line).
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
