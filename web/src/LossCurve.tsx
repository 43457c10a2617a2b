import { useEffect, useRef, useState } from "react";
import { api, type LossPoint } from "./api";

/** At most one fetch of a job's curve per this many milliseconds, however fast its updates come. */
const THROTTLE_MS = 1500;
const WIDTH = 240;
const HEIGHT = 60;

type Series = "trainLoss" | "validLoss";

function polyline(points: LossPoint[], series: Series, min: number, max: number, lastStep: number) {
  const span = max - min || 1;
  return points
    .filter((p) => p[series] !== undefined)
    .map((p) => {
      const x = (p.step / Math.max(1, lastStep)) * WIDTH;
      const y = HEIGHT - (((p[series] as number) - min) / span) * HEIGHT;
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(" ");
}

/**
 * A job's loss curve, fetched from its events: again when `version` (the job's updatedAt) changes, throttled
 * so a job that updates every fraction of a second costs one request per THROTTLE_MS.
 */
export function LossCurve({ jobId, version }: { jobId: string; version: string }) {
  const [points, setPoints] = useState<LossPoint[]>([]);
  const lastFetch = useRef(0);
  const sequence = useRef({ sent: 0, shown: 0 });
  const mounted = useRef(true);

  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  useEffect(() => {
    // `version` is what makes a new update fetch again; the request itself needs only the id.
    void version;
    const wait = Math.max(0, lastFetch.current + THROTTLE_MS - Date.now());
    const timer = setTimeout(() => {
      lastFetch.current = Date.now();
      const mine = ++sequence.current.sent;
      api<{ metrics: LossPoint[] }>("GET", `/api/training-jobs/${jobId}/events`)
        .then(({ metrics }) => {
          // A slow answer never replaces a newer one.
          if (!mounted.current || mine < sequence.current.shown) return;
          sequence.current.shown = mine;
          setPoints(metrics);
        })
        .catch(() => undefined);
    }, wait);
    return () => clearTimeout(timer);
  }, [jobId, version]);

  const losses = points.flatMap((p) => [p.trainLoss, p.validLoss]).filter((v) => v !== undefined);
  if (points.length < 2 || losses.length === 0) return null;
  const min = Math.min(...losses);
  const max = Math.max(...losses);
  const lastStep = points[points.length - 1]?.step ?? 1;
  const train = points.filter((p) => p.trainLoss !== undefined);
  const first = train[0]?.trainLoss;
  const last = train[train.length - 1]?.trainLoss;
  const summary =
    first !== undefined && last !== undefined
      ? `Loss curve: train loss ${first.toFixed(3)} to ${last.toFixed(3)} over ${lastStep} steps`
      : `Loss curve over ${lastStep} steps`;

  return (
    <figure className="loss-curve">
      <svg
        role="img"
        aria-label={summary}
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        width={WIDTH}
        height={HEIGHT}
        preserveAspectRatio="none"
      >
        <polyline className="train" points={polyline(points, "trainLoss", min, max, lastStep)} />
        <polyline className="valid" points={polyline(points, "validLoss", min, max, lastStep)} />
      </svg>
      <figcaption className="muted">
        {summary.replace("Loss curve: ", "")} (max {max.toFixed(3)}, min {min.toFixed(3)})
        {points.some((p) => p.validLoss !== undefined) && "; dashed: validation loss"}
      </figcaption>
    </figure>
  );
}
