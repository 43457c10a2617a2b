// Not fatal: a stray invalid byte should cost one U+FFFD, not the whole upload.
const utf8 = new TextDecoder("utf-8");

/**
 * Bytes of a text format to a string with "\n" line ends. UTF-8 is assumed, but a UTF-16 byte order mark is
 * honoured because Windows editors still save "Unicode" text that way. TextDecoder drops the BOM itself.
 */
export function decodeText(bytes: Uint8Array): string {
  return decoderFor(bytes).decode(bytes).replace(/\r\n?/g, "\n");
}

function decoderFor(bytes: Uint8Array): TextDecoder {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder("utf-16le");
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder("utf-16be");
  return utf8;
}
