/**
 * The address a server listening on `host` is opened at from this machine. Bound to every interface (0.0.0.0,
 * ::), it is reached at loopback: a browser refuses to open 0.0.0.0, and links printed with it led nowhere.
 */
export function serverUrl(host: string, port: number): string {
  const reachable = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  return `http://${reachable.includes(":") ? `[${reachable}]` : reachable}:${port}`;
}
