import { type Browser, chromium } from "playwright-core";

/** Debian's Chromium (.ci/run installs it). */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** The flags keep it off the network, which is closed here. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-quic",
  "--no-first-run",
  "--disable-component-update",
  "--disable-sync",
];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}
