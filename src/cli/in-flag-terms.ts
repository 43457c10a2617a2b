/**
 * The API fields a command's flags set, each with its flag, or with its argument as the command's usage
 * writes it: `{ chunkOverlapTokens: "--chunk-overlap", name: "<name>" }`.
 */
export type FlagNames = Readonly<Record<string, `--${string}` | `<${string}>`>>;

/** A request body of exactly the fields `F` names: a field added to the body cannot go without its flag. */
export type BodyOf<F extends FlagNames> = Record<keyof F, unknown>;
