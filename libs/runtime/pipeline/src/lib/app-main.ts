import { ConfigError } from './env';

export interface RunningApp {
  /** Lines printed once the app is up. */
  banner(): string[];
  /** Drains and closes; the process exits 0 when it resolves. */
  stop(): Promise<void>;
}

/**
 * The `main` of a standalone app: starts it; on a wrong configuration prints every problem and
 * exits 2; on SIGTERM or SIGINT stops it (stop consuming, flush, commit, close) and exits 0, or 1
 * if that fails or takes longer than `stopTimeoutMs`. A second signal exits at once.
 */
export function runApp(name: string, start: () => Promise<RunningApp>, stopTimeoutMs = 60_000): void {
  let app: RunningApp | undefined;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      console.error(`${name}: ${signal} again; exiting without draining`);
      process.exit(1);
    }
    stopping = true;
    // Nothing is committed before the stage is up, and a restart reads from the checkpoints anyway.
    if (app === undefined) process.exit(0);
    console.error(`${name}: ${signal}: stopping: in-flight work finishes, is flushed and committed`);
    const timer = setTimeout(() => {
      console.error(`${name}: stop took longer than ${stopTimeoutMs} ms; exiting`);
      process.exit(1);
    }, stopTimeoutMs);
    timer.unref();
    app.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(`${name}: stop failed:`, e);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  start().then(
    (started) => {
      app = started;
      console.log(started.banner().join('\n'));
    },
    (e: unknown) => {
      if (e instanceof ConfigError) {
        console.error(`${name}: ${e.message}`);
        process.exit(2);
      }
      console.error(`${name}: failed to start:`, e);
      process.exit(1);
    },
  );
}
