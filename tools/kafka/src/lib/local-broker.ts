import { execFile } from 'child_process';
import * as path from 'path';
import { repositoryRoot } from './repository';

/** A single-node Kafka of `tools/kafka/kafka.sh` on its own port: an independent cluster (a second region). */
export class LocalBroker {
  constructor(readonly port: number) {}

  get brokers(): string {
    return `127.0.0.1:${this.port}`;
  }

  start(): Promise<void> {
    return this.run('start');
  }

  stop(): Promise<void> {
    return this.run('stop');
  }

  private run(command: 'start' | 'stop'): Promise<void> {
    const script = path.join(repositoryRoot(), 'tools/kafka/kafka.sh');
    return new Promise((resolve, reject) => {
      execFile('bash', [script, command], { env: { ...process.env, KAFKA_PORT: String(this.port) }, timeout: 180_000 }, (error, _stdout, stderr) => {
        if (error) reject(new Error(`kafka.sh ${command} on port ${this.port} failed: ${stderr || error.message}`));
        else resolve();
      });
    });
  }
}
