/**
 * A validation's average pair quality in words, as the CLI and the web app say it (a module of its own: the
 * web app takes it without the validator and its tokenizer). Imported pairs have no score, and their average
 * is none, not 0.
 */
export function averageQualityText(stats: { avgQualityScore: number | null }): string {
  return stats.avgQualityScore === null
    ? "no quality scores"
    : `average quality ${stats.avgQualityScore.toFixed(2)}`;
}
