/**
 * Splits a line-oriented payload into chunks of at most `maxBytes`, cutting only at line ends, so a
 * large upload becomes several bus messages (Kafka's default message limit is 1 MB) and no line is
 * ever split. A single line longer than `maxBytes` becomes its own chunk.
 */
export function* lineChunks(payload: Uint8Array, maxBytes: number): Generator<Uint8Array> {
  let start = 0;
  while (start < payload.length) {
    let end = Math.min(start + maxBytes, payload.length);
    if (end < payload.length) {
      const newline = payload.lastIndexOf(0x0a, end - 1);
      if (newline >= start) {
        end = newline + 1;
      } else {
        const next = payload.indexOf(0x0a, end);
        end = next === -1 ? payload.length : next + 1;
      }
    }
    yield payload.subarray(start, end);
    start = end;
  }
}
