import { ConfigError, EnvReader, readStageAppConfig, regionBrokersVariable, stageAppConfigProblems, type StageAppConfig } from '@topology/runtime-pipeline';

/** One regional Kafka cluster that exporters write flow records to. */
export interface FlowRegionConfig {
  /** Region name: tags the records read there and names their scopes (`<region>/<topic>/<partition>`). */
  region: string;
  /** Bootstrap brokers of the region's cluster, `host:port`. */
  brokers: string[];
}

export interface FlowIngestorAppConfig extends StageAppConfig {
  /**
   * The regional clusters read, one consumer group each. `TOPOLOGY_REGIONS=us-east-1,eu-west-1`
   * with `TOPOLOGY_KAFKA_BROKERS_us_east_1=…` per region; without TOPOLOGY_REGIONS, one region
   * (`TOPOLOGY_REGION`, default `local`) on the pipeline cluster.
   */
  regions: FlowRegionConfig[];
}

/** Reads and checks the flow-ingestor's environment; throws a ConfigError listing every wrong value. */
export function loadFlowIngestorConfig(env: NodeJS.ProcessEnv = process.env): FlowIngestorAppConfig {
  const r = new EnvReader(env);
  const base = readStageAppConfig(r, 'flow-ingestor', '0.0.0.0:4381');
  const names = r.list('TOPOLOGY_REGIONS', []);
  const regions: FlowRegionConfig[] = [];
  const problems: string[] = [];
  if (names.length === 0) {
    regions.push({ region: r.name('TOPOLOGY_REGION', 'local'), brokers: base.brokers });
  } else {
    for (const region of names) {
      if (!/^[A-Za-z0-9._-]+$/.test(region)) {
        problems.push(`TOPOLOGY_REGIONS: region ${JSON.stringify(region)} may hold only letters, digits, '.', '_' and '-'`);
        continue;
      }
      if (regions.some((g) => g.region === region)) {
        problems.push(`TOPOLOGY_REGIONS names ${region} twice`);
        continue;
      }
      const exact = regionBrokersVariable(region);
      const variable = env[exact] !== undefined ? exact : exact.toUpperCase();
      if (env[variable] === undefined || env[variable] === '') {
        problems.push(`${exact} is not set: every region of TOPOLOGY_REGIONS needs the brokers of its cluster`);
        continue;
      }
      regions.push({ region, brokers: r.brokers(variable, []) });
    }
  }
  const seen = new Map<string, string>();
  for (const { region, brokers } of regions) {
    const cluster = [...brokers].sort().join(',');
    const other = seen.get(cluster);
    // Two regions on one cluster would share the group and split each other's partitions.
    if (other !== undefined) problems.push(`regions ${other} and ${region} name the same brokers (${cluster}); each region needs its own cluster`);
    seen.set(cluster, region);
  }
  const all = [...r.problems, ...problems];
  if (all.length === 0) all.push(...stageAppConfigProblems(base));
  if (all.length > 0) throw new ConfigError(all);
  return { ...base, regions };
}
