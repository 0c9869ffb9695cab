import { fork } from 'child_process';
import { createTopologyClient, type TraverseRequestMessage } from '@topology/runtime-gateway';

/** What the parent sends the client process: the gateway and the requests, warm-up first. */
interface ClientJob {
  address: string;
  warmup: TraverseRequestMessage[];
  timed: TraverseRequestMessage[];
}

/** What the client process sends back: one latency per timed request, milliseconds, or why it failed. */
type ClientResult = { latencies: number[]; nodes: number[] } | { error: string };

/**
 * Times Traverse calls from a client in a process of its own, as the CLI or a UI calls the
 * gateway: the client's decoding and its garbage run on another core, not on the gateway's event
 * loop. Requests go one after another; the result is each timed call's latency.
 */
export function timeTraversalsFromAnotherProcess(address: string, warmup: TraverseRequestMessage[], timed: TraverseRequestMessage[]): Promise<{ latencies: number[]; nodes: number[] }> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (result: ClientResult) => {
      child.kill();
      if ('error' in result) reject(new Error(`client process: ${result.error}`));
      else resolve(result);
    });
    child.once('exit', (code) => reject(new Error(`client process exited with ${String(code)} before answering`)));
    child.once('error', reject);
    const job: ClientJob = { address, warmup, timed };
    child.send(job);
  });
}

async function runJob(job: ClientJob): Promise<ClientResult> {
  const client = createTopologyClient(job.address);
  try {
    for (const request of job.warmup) await client.traverse(request);
    const latencies: number[] = [];
    const nodes: number[] = [];
    for (const request of job.timed) {
      const t0 = performance.now();
      const response = await client.traverse(request);
      latencies.push(performance.now() - t0);
      nodes.push(response.nodes.length);
    }
    return { latencies, nodes };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  } finally {
    client.close();
  }
}

if (require.main === module) {
  process.once('message', (job: ClientJob) => {
    void runJob(job).then((result) => process.send?.(result));
  });
}
