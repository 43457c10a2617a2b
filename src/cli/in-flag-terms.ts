/** The API fields a command's flags set, each with its flag: `{ chunkOverlapTokens: "--chunk-overlap" }`. */
export type FlagNames = Readonly<Record<string, `--${string}`>>;

/** A request body of exactly the fields `F` names: a field added to the body cannot go without its flag. */
export type BodyOf<F extends FlagNames> = Record<keyof F, unknown>;

/** A field labelling one of the API's issues: `chunkOverlapTokens: …`, or with a path, `documentIds.2: …`. */
const ISSUE_LABEL = /(^|; )([a-z]\w*)(?:\.\w+)*:/g;
/**
 * A field named inside a sentence. Only camelCase ones are taken for fields there: a one-word field
 * (`model`, `provider`) is as likely the English word.
 */
const CAMEL_CASE_WORD = /\b[a-z]+(?:[A-Z][a-z\d]*)+\b/g;

/**
 * An API message restated in the words of the command line: the API names its JSON fields, but the user
 * typed flags, so each field that one of the command's flags sets is named by that flag. Fields no flag
 * sets keep their name.
 */
export function inFlagTerms(message: string, flags: FlagNames): string {
  const flagOf = (field: string) => (Object.hasOwn(flags, field) ? flags[field] : undefined);
  return message
    .replace(ISSUE_LABEL, (label, start: string, field: string) => {
      const flag = flagOf(field);
      return flag ? `${start}${flag}:` : label;
    })
    .replace(CAMEL_CASE_WORD, (word) => flagOf(word) ?? word);
}
