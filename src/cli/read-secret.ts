import { createInterface } from "node:readline";

/**
 * Reads a secret (password, API key) from standard input, never from the command line, where it would be
 * kept in shell history and visible to other users in the process list. On a terminal it prompts without
 * echoing; otherwise it reads the first line piped in.
 */
export async function readSecret(prompt: string): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of input) chunks.push(chunk as Buffer);
    return (Buffer.concat(chunks).toString("utf8").split(/\r?\n/)[0] ?? "").trim();
  }
  const rl = createInterface({ input, output: process.stderr, terminal: true });
  process.stderr.write(prompt);
  // Swallow the echo of each typed character.
  (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {};
  const answer = await new Promise<string>((resolve) => rl.question("", resolve));
  rl.close();
  process.stderr.write("\n");
  return answer.trim();
}
