import { execFileSync } from 'child_process';

/** Where a store adapter's integration suite finds the real server it runs against. */
export type ServerUnderTest = { kind: 'url'; url: string } | { kind: 'container' } | { kind: 'none'; reason: string };

/**
 * The server named by the environment variable `urlVariable`, else a container runtime in which
 * Testcontainers can start one, else none, with the reason. Decided before any test is declared,
 * so a suite can say it is skipped and why; the container runtime is probed in a child process
 * because the probe is asynchronous and Jest declares tests synchronously.
 */
export function findServerUnderTest(urlVariable: string): ServerUnderTest {
  const url = process.env[urlVariable];
  if (url) return { kind: 'url', url };
  const probe = `require(${JSON.stringify(require.resolve('testcontainers'))}).getContainerRuntimeClient().then(() => process.exit(0), (e) => { process.stderr.write(String(e && e.message)); process.exit(1); })`;
  try {
    execFileSync(process.execPath, ['-e', probe], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    return { kind: 'container' };
  } catch (error: unknown) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return { kind: 'none', reason: `${urlVariable} is not set and Testcontainers found no container runtime (${stderr || 'probe failed'})` };
  }
}
