import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

describe("loadConfig", () => {
  it("gives the embedded defaults when nothing is set", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ FINEFLOW_DATA_DIR: "./.fineflow", HOST: "127.0.0.1", PORT: 8787 });
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it("takes the nearest .fineflow folder above the working folder, unless FINEFLOW_DATA_DIR is set", () => {
    const root = mkdtempSync(join(tmpdir(), "fineflow-config-"));
    try {
      const deep = join(root, "a", "b", "c");
      mkdirSync(deep, { recursive: true });
      mkdirSync(join(root, "a", ".fineflow"));
      expect(loadConfig({}, deep).FINEFLOW_DATA_DIR).toBe(join(root, "a", ".fineflow"));
      expect(loadConfig({}, join(root, "a")).FINEFLOW_DATA_DIR).toBe("./.fineflow");
      // The nearest wins.
      mkdirSync(join(root, "a", "b", ".fineflow"));
      expect(loadConfig({}, deep).FINEFLOW_DATA_DIR).toBe(join(root, "a", "b", ".fineflow"));
      expect(loadConfig({ FINEFLOW_DATA_DIR: "/x" }, deep).FINEFLOW_DATA_DIR).toBe("/x");
      // A file of that name is not a database: the search goes on past it.
      mkdirSync(join(root, "a", "f", "g"), { recursive: true });
      writeFileSync(join(root, "a", "f", ".fineflow"), "notes");
      expect(loadConfig({}, join(root, "a", "f", "g")).FINEFLOW_DATA_DIR).toBe(join(root, "a", ".fineflow"));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("reads and converts the values it is given", () => {
    const config = loadConfig({
      PORT: "9000",
      DATABASE_URL: "postgres://u@127.0.0.1:5432/db",
      FINEFLOW_DATA_DIR: "/x",
      FINEFLOW_ANALYSIS_MEMORY_MB: "512",
    });
    expect(config).toMatchObject({
      FINEFLOW_ANALYSIS_MEMORY_MB: 512,
      PORT: 9000,
      DATABASE_URL: "postgres://u@127.0.0.1:5432/db",
      FINEFLOW_DATA_DIR: "/x",
    });
  });

  it("treats an empty variable as not set", () => {
    const config = loadConfig({ PORT: "", DATABASE_URL: "" });
    expect(config.PORT).toBe(8787);
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it.each([
    [{ PORT: "eighty" }, "PORT"],
    [{ PORT: "70000" }, "PORT"],
    [{ DATABASE_URL: "mysql://root@127.0.0.1/db" }, "DATABASE_URL"],
    [{ API_KEY_ENCRYPTION_SECRET: "short" }, "API_KEY_ENCRYPTION_SECRET"],
    [{ FINEFLOW_TOKEN: "sk-not-ours" }, "FINEFLOW_TOKEN"],
    [{ OPENAI_BASE_URL: "not a url" }, "OPENAI_BASE_URL"],
    [{ FINEFLOW_ANALYSIS_MEMORY_MB: "32" }, "FINEFLOW_ANALYSIS_MEMORY_MB"],
    [{ FINEFLOW_ANALYSIS_MEMORY_MB: "lots" }, "FINEFLOW_ANALYSIS_MEMORY_MB"],
  ])("stops on %o naming %s", (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`${variable}: `));
  });

  const PORT_RULE = "PORT: must be a whole number from 1 to 65535";
  const MEMORY_RULE = "FINEFLOW_ANALYSIS_MEMORY_MB: must be a whole number of megabytes, at least 64";
  it.each([
    [{ PORT: "eighty" }, PORT_RULE],
    [{ PORT: "80.5" }, PORT_RULE],
    [{ PORT: "0" }, PORT_RULE],
    [{ PORT: "70000" }, PORT_RULE],
    [{ FINEFLOW_ANALYSIS_MEMORY_MB: "lots" }, MEMORY_RULE],
    [{ FINEFLOW_ANALYSIS_MEMORY_MB: "100.5" }, MEMORY_RULE],
    [{ FINEFLOW_ANALYSIS_MEMORY_MB: "32" }, MEMORY_RULE],
  ])("tells what %o must be, whichever way it misses", (env, rule) => {
    expect(() => loadConfig(env)).toThrow(rule);
  });

  it("names every bad variable at once", () => {
    expect(() => loadConfig({ PORT: "x", DATABASE_URL: "x" })).toThrow(
      /DATABASE_URL: .*PORT: |PORT: .*DATABASE_URL: /,
    );
  });

  it("never echoes a secret's value in its message", () => {
    expect(() => loadConfig({ API_KEY_ENCRYPTION_SECRET: "hunter2" })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining("hunter2") }),
    );
  });
});
