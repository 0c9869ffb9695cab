import type { TraceHopMessage, TraceOverlayResponseMessage } from '@topology/runtime-gateway';
import { formatTraceOverlay } from './format';

const START_MS = Date.UTC(2026, 10, 26, 7, 0, 0);

function hop(src: string, dst: string, atMs: number, durationMs: number, operation: string, error = false): TraceHopMessage {
  return { src, dst, operation, kind: 'client', startUnixNano: (START_MS + atMs) * 1e6, durationMs, error, spanId: `${src}-${dst}`, parentSpanId: '' };
}

function overlay(hops: TraceHopMessage[], found = true): TraceOverlayResponseMessage {
  return { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', found, nodes: [], edges: [], hops, startMs: START_MS, durationMs: 312, layerStatus: [{ layer: 'LAYER_REQUEST', state: 'STATE_OK', message: '', latencyMs: 2 }] };
}

describe('the CLI trace output', () => {
  it('prints the calls in the order they started, each under the call into its caller, with failures marked', () => {
    // Given out of order, as a store may return them.
    const text = formatTraceOverlay(
      overlay([
        hop('app:checkout', 'app:payments', 40, 80, 'POST /pay', true),
        hop('app:web', 'app:checkout', 5, 300, 'GET /checkout'),
        hop('app:payments', 'external:api.stripe.com', 50, 60, 'POST /v1/charges', true),
        hop('app:checkout', 'app:stock', 130, 12.5, 'GET /stock/{sku}'),
      ]),
    ).split('\n');
    expect(text[0]).toBe('trace 4bf92f3577b34da6a3ce929d0e0e4736  2026-11-26T07:00:00.000Z  312 ms  4 call(s) across 5 service(s), 2 failed');
    expect(text.slice(1).map((l) => l.replace(/\s+/g, ' ').trim())).toEqual([
      'app:web → app:checkout GET /checkout + 5 ms 300 ms',
      'app:checkout → app:payments POST /pay + 40 ms 80.0 ms ERROR',
      'app:payments → external:api.stripe.com POST /v1/charges + 50 ms 60.0 ms ERROR',
      'app:checkout → app:stock GET /stock/{sku} + 130 ms 12.5 ms',
    ]);
    const indent = (line: string | undefined) => (line ?? '').length - (line ?? '').trimStart().length;
    expect([1, 2, 3, 4].map((i) => indent(text[i]))).toEqual([2, 4, 6, 4]);
  });

  it('says when the span index does not have the trace', () => {
    expect(formatTraceOverlay(overlay([], false))).toBe('trace 4bf92f3577b34da6a3ce929d0e0e4736 is not in the span index (unknown, unsampled, or older than the span retention)');
  });
});
