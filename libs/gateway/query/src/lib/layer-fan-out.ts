import { Clock, Layer } from '@topology/model';
import { LayerReader, LayerStatus } from './queries';

/** Schedules the layer timeouts; injected so tests can move time with fake timers or by hand. */
export interface Timer {
  setTimeout(fire: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimer: Timer = {
  setTimeout: (fire, ms) => setTimeout(fire, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface LayerAnswer<T> {
  status: LayerStatus;
  /** Present only when the layer answered in time. */
  value?: T;
}

/**
 * Asks every layer at once, each under its own timeout, and never rejects: a layer that stalls or
 * throws becomes a status, so the layers that did answer still make a (partial) answer.
 */
export function fanOut<T>(
  layers: readonly Layer[],
  readers: ReadonlyMap<Layer, LayerReader>,
  work: (reader: LayerReader, layer: Layer) => Promise<T>,
  timeoutMs: number,
  clock: Clock,
  timer: Timer,
): Promise<LayerAnswer<T>[]> {
  return Promise.all(layers.map((layer) => askLayer(layer, readers.get(layer), work, timeoutMs, clock, timer)));
}

function askLayer<T>(
  layer: Layer,
  reader: LayerReader | undefined,
  work: (reader: LayerReader, layer: Layer) => Promise<T>,
  timeoutMs: number,
  clock: Clock,
  timer: Timer,
): Promise<LayerAnswer<T>> {
  if (reader === undefined) {
    // A client written for layers this deployment does not serve yet still gets the others.
    return Promise.resolve({ status: { layer, state: 'failed', message: `the ${layer} layer is not served by this gateway`, latencyMs: 0 } });
  }
  const startMs = clock.now();
  const elapsed = () => Math.max(0, clock.now() - startMs);
  return new Promise((resolve) => {
    let settled = false;
    const handle = timer.setTimeout(() => {
      if (settled) return;
      settled = true;
      resolve({ status: { layer, state: 'timed-out', message: `the ${layer} layer did not answer within ${timeoutMs} ms`, latencyMs: elapsed() } });
    }, timeoutMs);
    let pending: Promise<T>;
    try {
      pending = work(reader, layer);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (value) => {
        if (settled) return;
        settled = true;
        timer.clearTimeout(handle);
        resolve({ status: { layer, state: 'ok', message: '', latencyMs: elapsed() }, value });
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        timer.clearTimeout(handle);
        resolve({ status: { layer, state: 'failed', message: `the ${layer} layer failed: ${describe(error)}`, latencyMs: elapsed() } });
      },
    );
  });
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
