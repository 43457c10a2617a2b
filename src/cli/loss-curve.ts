const BARS = "▁▂▃▄▅▆▇█";

/**
 * A loss curve in one line of block characters, scaled between its own minimum and maximum, with the
 * first and last values beside it; at most `width` points (later steps are sampled evenly). Undefined
 * when there is no value to draw.
 */
export function lossCurve(values: (number | undefined | null)[], width = 40): string | undefined {
  const points = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  if (points.length === 0) return undefined;
  const sampled =
    points.length <= width
      ? points
      : Array.from(
          { length: width },
          (_, i) => points[Math.round((i * (points.length - 1)) / (width - 1))] as number,
        );
  const min = Math.min(...sampled);
  const range = Math.max(...sampled) - min;
  const bars = sampled
    .map((v) => BARS[range === 0 ? 0 : Math.round(((v - min) / range) * (BARS.length - 1))])
    .join("");
  return `${(points[0] as number).toFixed(3)} ${bars} ${(points.at(-1) as number).toFixed(3)}`;
}
