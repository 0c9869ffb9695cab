import { RecordProblem } from './flow-parser';

/** The default (version 2) format: fixed fields, fixed order. */
export const VPC_DEFAULT_FORMAT = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';

/** Every field AWS documents for VPC flow logs, versions 2 to 8. */
const KNOWN_FIELDS = new Set([
  'version', 'account-id', 'interface-id', 'srcaddr', 'dstaddr', 'srcport', 'dstport', 'protocol', 'packets', 'bytes', 'start', 'end', 'action', 'log-status',
  'vpc-id', 'subnet-id', 'instance-id', 'tcp-flags', 'type', 'pkt-srcaddr', 'pkt-dstaddr',
  'region', 'az-id', 'sublocation-type', 'sublocation-id',
  'pkt-src-aws-service', 'pkt-dst-aws-service', 'flow-direction', 'traffic-path',
  'ecs-cluster-arn', 'ecs-cluster-name', 'ecs-container-instance-arn', 'ecs-container-instance-id', 'ecs-container-id', 'ecs-second-container-id',
  'ecs-service-name', 'ecs-task-definition-arn', 'ecs-task-arn', 'ecs-task-id',
  'reject-reason', 'resource-id', 'encryption-status',
]);

/**
 * A parsed VPC flow log format: the field names in record order, and the position of each field
 * the parser reads (-1 when the format does not have it).
 */
export interface VpcFlowLogFormat {
  readonly text: string;
  readonly fields: readonly string[];
  readonly srcaddr: number;
  readonly dstaddr: number;
  readonly pktSrcaddr: number;
  readonly pktDstaddr: number;
  readonly srcport: number;
  readonly dstport: number;
  readonly protocol: number;
  readonly packets: number;
  readonly bytes: number;
  readonly start: number;
  readonly end: number;
  readonly action: number;
  readonly logStatus: number;
  readonly instanceId: number;
  readonly tcpFlags: number;
  readonly region: number;
  readonly pktSrcAwsService: number;
  readonly pktDstAwsService: number;
}

/**
 * Reads a format as AWS writes it (`${version} ${srcaddr} ...`) or as plain space-separated
 * names. Unknown names are refused rather than ignored: a typo would otherwise turn a counter
 * into a silent zero. A format must name both ends (srcaddr or pkt-srcaddr, dstaddr or pkt-dstaddr).
 */
export function parseVpcFormat(text: string | undefined): VpcFlowLogFormat | RecordProblem {
  const source = text === undefined || text.trim() === '' ? VPC_DEFAULT_FORMAT : text;
  const fields: string[] = [];
  const unknown: string[] = [];
  for (const token of source.trim().split(/\s+/)) {
    const name = token.startsWith('${') && token.endsWith('}') ? token.slice(2, -1) : token;
    if (!KNOWN_FIELDS.has(name)) unknown.push(token);
    else if (fields.includes(name)) return new RecordProblem('unsupported-format', `VPC flow log format names ${name} twice: ${source}`);
    fields.push(name);
  }
  if (unknown.length > 0) return new RecordProblem('unsupported-format', `VPC flow log format has unknown fields ${unknown.join(', ')}: ${source}`);
  const at = (name: string) => fields.indexOf(name);
  const format: VpcFlowLogFormat = {
    text: source,
    fields,
    srcaddr: at('srcaddr'),
    dstaddr: at('dstaddr'),
    pktSrcaddr: at('pkt-srcaddr'),
    pktDstaddr: at('pkt-dstaddr'),
    srcport: at('srcport'),
    dstport: at('dstport'),
    protocol: at('protocol'),
    packets: at('packets'),
    bytes: at('bytes'),
    start: at('start'),
    end: at('end'),
    action: at('action'),
    logStatus: at('log-status'),
    instanceId: at('instance-id'),
    tcpFlags: at('tcp-flags'),
    region: at('region'),
    pktSrcAwsService: at('pkt-src-aws-service'),
    pktDstAwsService: at('pkt-dst-aws-service'),
  };
  if (format.srcaddr < 0 && format.pktSrcaddr < 0) return new RecordProblem('unsupported-format', `VPC flow log format has no source address: ${source}`);
  if (format.dstaddr < 0 && format.pktDstaddr < 0) return new RecordProblem('unsupported-format', `VPC flow log format has no destination address: ${source}`);
  return format;
}
