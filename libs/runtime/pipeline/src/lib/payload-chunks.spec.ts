import { lineChunks } from './payload-chunks';

const text = (chunks: Iterable<Uint8Array>) => [...chunks].map((c) => Buffer.from(c).toString());

describe('splitting an upload into bus messages at line ends', () => {
  it('never splits a line and keeps every byte', () => {
    const payload = Buffer.from('aaaa\nbbbb\ncccc\ndd\n');
    const chunks = text(lineChunks(payload, 10));
    expect(chunks).toEqual(['aaaa\nbbbb\n', 'cccc\ndd\n']);
    expect(chunks.join('')).toBe(payload.toString());
  });

  it('gives an over-long line its own chunk, and keeps a last line without a newline', () => {
    expect(text(lineChunks(Buffer.from('x\nyyyyyyyyyyyy\nz'), 4))).toEqual(['x\n', 'yyyyyyyyyyyy\n', 'z']);
  });
});
