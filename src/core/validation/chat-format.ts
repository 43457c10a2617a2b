/**
 * The format checks of OpenAI's fine-tuning data-prep cookbook ("Chat_finetuning_data_prep"), with its
 * error names, so an imported file is judged as OpenAI's own script would judge it. The one reading of our
 * own: the cookbook checks a whole JSONL line, the validator only its `messages`, so `data_type` means
 * "`messages` (or one of them) is not the right kind of value" rather than "the line is not an object".
 */

export const FORMAT_ERROR_CODES = [
  "data_type",
  "missing_messages_list",
  "message_missing_key",
  "message_unrecognized_key",
  "unrecognized_role",
  "missing_content",
  "example_missing_assistant_message",
] as const;

export type FormatErrorCode = (typeof FORMAT_ERROR_CODES)[number];

const KNOWN_KEYS: ReadonlySet<string> = new Set(["role", "content", "name", "function_call", "weight"]);
const KNOWN_ROLES: ReadonlySet<string> = new Set(["system", "user", "assistant", "function"]);

/** A message that passed every check: a known role and string content. */
export interface ChatMessage {
  role: string;
  content: string;
  name?: string;
}

export type ChatFormat =
  | { errors: []; messages: ChatMessage[] }
  | { errors: FormatErrorCode[]; messages?: undefined };

export function checkChatFormat(messages: unknown): ChatFormat {
  if (!pythonTruthy(messages)) return { errors: ["missing_messages_list"] };
  if (!Array.isArray(messages) || !messages.every(isPlainObject)) return { errors: ["data_type"] };
  const errors = new Set<FormatErrorCode>();
  for (const message of messages) {
    for (const code of messageErrors(message)) errors.add(code);
  }
  if (!messages.some((message) => message.role === "assistant")) {
    errors.add("example_missing_assistant_message");
  }
  if (errors.size > 0) return { errors: FORMAT_ERROR_CODES.filter((code) => errors.has(code)) };
  return { errors: [], messages: messages.map(toChatMessage) };
}

function messageErrors(message: Record<string, unknown>): FormatErrorCode[] {
  const errors: FormatErrorCode[] = [];
  if (!("role" in message) || !("content" in message)) errors.push("message_missing_key");
  if (Object.keys(message).some((key) => !KNOWN_KEYS.has(key))) errors.push("message_unrecognized_key");
  if (typeof message.role !== "string" || !KNOWN_ROLES.has(message.role)) errors.push("unrecognized_role");
  // As the cookbook: "" is missing content unless the message is a function call.
  const { content } = message;
  if (typeof content !== "string" || (content === "" && !pythonTruthy(message.function_call))) {
    errors.push("missing_content");
  }
  return errors;
}

function toChatMessage(message: Record<string, unknown>): ChatMessage {
  const chat: ChatMessage = { role: String(message.role), content: String(message.content) };
  if (typeof message.name === "string") chat.name = message.name;
  return chat;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The cookbook tests `not value`: empty strings, lists and objects count as absent. */
function pythonTruthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === "") return false;
  if (Array.isArray(value)) return value.length > 0;
  if (isPlainObject(value)) return Object.keys(value).length > 0;
  return true;
}
