import { describe, expect, it } from "vitest";
import { serverUrl } from "./server-url.js";

describe("serverUrl", () => {
  it("gives a server bound to every interface at loopback, and any other at its own address", () => {
    expect(serverUrl("0.0.0.0", 8787)).toBe("http://127.0.0.1:8787");
    expect(serverUrl("::", 8787)).toBe("http://127.0.0.1:8787");
    expect(serverUrl("127.0.0.1", 8787)).toBe("http://127.0.0.1:8787");
    expect(serverUrl("::1", 9000)).toBe("http://[::1]:9000");
    expect(serverUrl("fineflow.internal", 80)).toBe("http://fineflow.internal:80");
  });
});
