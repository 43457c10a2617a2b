/** A field labelling one of the API's issues: `chunkOverlapTokens: …`, or with a path, `documentIds.2: …`. */
const ISSUE_LABEL = /(^|; )([a-z]\w*)(?:\.\w+)*:/g;
/**
 * A field named inside a sentence. Only camelCase ones are taken for fields there: a one-word field
 * (`model`, `provider`) is as likely the English word.
 */
const CAMEL_CASE_WORD = /\b[a-z]+(?:[A-Z][a-z\d]*)+\b/g;

/**
 * An API message restated in a client's own words: the API names its JSON fields, but the user typed a
 * command's flags or filled in a form's fields, so each field `terms` has a word for is named by it (a flag,
 * a label). Fields it has none for keep their name.
 */
export function inTermsOf(message: string, terms: Readonly<Record<string, string>>): string {
  const termOf = (field: string) => (Object.hasOwn(terms, field) ? terms[field] : undefined);
  return message
    .replace(ISSUE_LABEL, (label, start: string, field: string) => {
      const term = termOf(field);
      return term ? `${start}${term}:` : label;
    })
    .replace(CAMEL_CASE_WORD, (word) => termOf(word) ?? word);
}
