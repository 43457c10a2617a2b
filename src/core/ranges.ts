/**
 * The ranges the API takes for numbers that the CLI's flags and the web app's fields set too, so that they
 * refuse what the API would, in the same terms, before anything is sent. Apart from the schemas, which the
 * web app does not load.
 */
export const RANGES = {
  chunkTargetTokens: { min: 32, max: 8192 },
  duplicateThreshold: { min: 0.5, max: 1 },
  pairsPerChunk: { min: 1, max: 10 },
  epochs: { min: 1, max: 50 },
  batchSize: { min: 1, max: 256 },
  validationSplit: { min: 0.01, max: 0.5 },
} as const;
