#!/usr/bin/env -S node --max-semi-space-size=4
// Runs the TypeScript sources directly, so `npx fineflow` works right after `npm install`, with no build step.
//
// The flag above caps V8's young generation at 4 MB a semi-space instead of up to 16: a process holding
// PGlite peaked ~70 MB lower on the 50 MB ingest benchmark (420–445 MB against 480–540 MB in alternating
// runs), at the same speed. Node reads it only at start-up, so it is given here, and `npm start` and the
// benchmarks pass the same (bench/node-flags.ts reads them from this line).
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
