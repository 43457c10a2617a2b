import { setFlagsFromString } from "node:v8";

/**
 * How much V8 lets its old generation grow past the live data before the next full collection: 25%
 * instead of its default of up to 300%. Validation, export and ingest make a steady stream of short-lived
 * garbage around a small live set, which V8 otherwise lets pile up to several times that set. Measured
 * (bench/, same machine and runs): validating and exporting 200k pairs peaked at 335–366 MB, now 233 MB;
 * ingesting 20 MB of Markdown at 630 MB, now 422 MB; both at the same speed. There is no hard limit, so
 * work that needs a larger heap still gets one.
 */
const HEAP_GROWING_PERCENT = 25;

/** Called first thing by the `fineflow` command (and the benchmarks, which measure what it does). */
export function limitHeapGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
