import type { Command } from "commander";
import { loadConfig } from "../../config.js";
import { withClient } from "../connect.js";
import { printJson } from "../output.js";

interface LlmEndpointDto {
  source: "user" | "server" | "none";
  baseUrl: string | null;
  model: string | null;
  keySet: boolean;
  updatedAt: string | null;
}

function describe(endpoint: LlmEndpointDto): string {
  if (endpoint.source === "none") {
    return "No LLM endpoint: `generate` uses the offline extractive generator. Set one with `fineflow llm set`.\n";
  }
  const where = `${endpoint.model} at ${endpoint.baseUrl}`;
  if (endpoint.source === "server") return `Generation uses the server's endpoint: ${where}.\n`;
  const key = endpoint.keySet
    ? "with your `llm` key"
    : "with no key (set one with `fineflow keys set llm` if the endpoint needs it)";
  return `Generation uses your endpoint: ${where}, ${key}.\n`;
}

export function registerLlm(program: Command) {
  const llm = program
    .command("llm")
    .description(
      "Your own OpenAI-compatible endpoint for dataset generation (its key: `fineflow keys set llm`)",
    );

  llm
    .command("set")
    .description("Use your own endpoint for generation: OpenAI, Gemini's OpenAI endpoint, Ollama, vLLM …")
    .requiredOption("--base-url <url>", "the endpoint's base URL, e.g. http://127.0.0.1:11434/v1")
    .requiredOption("--model <model>", "the model to ask, e.g. llama3.1")
    .option("--json", "print the endpoint as JSON")
    .action(async (options: { baseUrl: string; model: string; json?: boolean }) => {
      const endpoint = await withClient(loadConfig(process.env), "llm set", (client) =>
        client.request<LlmEndpointDto>(
          "PUT",
          "/api/llm-endpoint",
          { baseUrl: options.baseUrl, model: options.model },
          { baseUrl: "--base-url", model: "--model" },
        ),
      );
      if (options.json) return printJson(endpoint);
      process.stdout.write(describe(endpoint));
    });

  llm
    .command("show")
    .description("Which endpoint your generation uses: yours, the server's, or none")
    .option("--json", "print the endpoint as JSON")
    .action(async (options: { json?: boolean }) => {
      const endpoint = await withClient(loadConfig(process.env), "llm show", (client) =>
        client.request<LlmEndpointDto>("GET", "/api/llm-endpoint"),
      );
      if (options.json) return printJson(endpoint);
      process.stdout.write(describe(endpoint));
    });

  llm
    .command("clear")
    .description("Stop using your own endpoint (your `llm` key stays until `fineflow keys delete llm`)")
    .action(async () => {
      const endpoint = await withClient(loadConfig(process.env), "llm clear", async (client) => {
        await client.request("DELETE", "/api/llm-endpoint");
        return client.request<LlmEndpointDto>("GET", "/api/llm-endpoint");
      });
      process.stdout.write(`Cleared your endpoint. ${describe(endpoint)}`);
    });
}
