import * as os from 'os';

/** What a figure was measured on: printed beside every result so results can be compared honestly. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  /** 1, 5 and 15 minute load averages when the bench started. */
  loadAverage: [number, number, number];
  date: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  const [l1, l5, l15] = os.loadavg();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadAverage: [round2(l1 ?? 0), round2(l5 ?? 0), round2(l15 ?? 0)],
    date: new Date().toISOString(),
  };
}

export function describeMachine(m: MachineInfo): string {
  return `${m.date} · ${m.cores} cores (${m.cpuModel}) · ${m.memoryGiB} GiB · node ${m.node} · ${m.platform} · load ${m.loadAverage.join(' ')}`;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
