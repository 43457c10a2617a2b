import { useEffect } from "react";

/** While something is under way (documents processed, a dataset generated), a page asks again this often. */
const BUSY_REFRESH_MS = 1000;
/** Otherwise it still asks, less often, to show what the CLI or another tab changed. */
const IDLE_REFRESH_MS = 5000;

/** Calls `refresh` every second while `busy`, else every five, for as long as the page is shown. */
export function usePolling(refresh: () => unknown, busy: boolean) {
  useEffect(() => {
    // A hidden tab is not refreshed: shown again, it catches up within one period.
    const timer = setInterval(
      () => document.visibilityState === "visible" && refresh(),
      busy ? BUSY_REFRESH_MS : IDLE_REFRESH_MS,
    );
    return () => clearInterval(timer);
  }, [busy, refresh]);
}
