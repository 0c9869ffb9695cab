import type { FlowRecord } from '@topology/contracts';
import { VPC_DEFAULT_FORMAT } from '@topology/flow-ingest';

/** The version 2 (default) format: what a log group writes when no custom format is set. */
export const VPC_V2_FORMAT = VPC_DEFAULT_FORMAT;

/** Every field AWS lists up to version 5, in its documented order: the widest common custom format. */
export const VPC_V5_FORMAT =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status ' +
  'vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id ' +
  'pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path';

export type VpcVersion = 2 | 5;

const PROTOCOL_NUMBERS: Record<string, number> = { tcp: 6, udp: 17, icmp: 1 };
const SYN = 2;
const SYN_ACK = 18;
const DEFAULT_ACCOUNT = '123456789012';

/**
 * Renders a host agent's flow record as the VPC flow log records its own network interface would
 * log for the same interval, so stage 1 can be measured on VPC text at the volume of the canonical
 * records. The mapping:
 *
 * - One canonical record (one connection seen from one host, one interval) becomes two records of
 *   that host's interface: local → remote carrying `packetsSent`/`bytesSent` (egress) and
 *   remote → local carrying `packetsReceived`/`bytesReceived` (ingress). Both hosts of a workload
 *   connection report it, so a connection gives four records, as two logged interfaces would.
 * - `start`/`end` are whole seconds inside the record (start rounded up, end rounded down, never
 *   before start), so the address owners the canonical records teach cover them.
 * - `interface-id` and `instance-id` are derived from the local address (`eni-`/`i-` + a hash of it);
 *   `account-id`, `region` and `az-id` come from the local identity.
 * - Version 5 only: `tcp-flags` is SYN on the client's direction and SYN-ACK on the server's when
 *   the record opened a connection (0 otherwise, as AWS reports no flag for a data-only interval);
 *   `pkt-srcaddr`/`pkt-dstaddr` equal the interface addresses (no NAT in between); `type` IPv4.
 *
 * Version 2 carries no flags, so its records are oriented by connection memory and ports.
 */
export function appendVpcRecords(r: FlowRecord, version: VpcVersion, out: string[]): void {
  const start = Math.ceil(r.startMs / 1000);
  const end = Math.max(start, Math.floor(r.endMs / 1000));
  const protocol = PROTOCOL_NUMBERS[r.protocol] ?? 6;
  const identity = r.localIdentity;
  const account = identity.account || DEFAULT_ACCOUNT;
  const hex = addressHex(r.local.ip);
  const local = r.local;
  const remote = r.remote;
  if (version === 2) {
    const head = `2 ${account} eni-${hex} `;
    const tail = ` ${start} ${end} ACCEPT OK`;
    out.push(
      `${head}${local.ip} ${remote.ip} ${local.port} ${remote.port} ${protocol} ${r.packetsSent} ${r.bytesSent}${tail}`,
      `${head}${remote.ip} ${local.ip} ${remote.port} ${local.port} ${protocol} ${r.packetsReceived} ${r.bytesReceived}${tail}`,
    );
    return;
  }
  const opened = r.connections > 0 && protocol === 6;
  const localIsClient = r.role === 'client';
  const outFlags = opened ? (localIsClient ? SYN : SYN_ACK) : 0;
  const inFlags = opened ? (localIsClient ? SYN_ACK : SYN) : 0;
  const region = identity.region || '-';
  const az = identity.zone || '-';
  const head = `5 ${account} eni-${hex} `;
  const mid = ` ${start} ${end} ACCEPT OK vpc-0b1d2e3f subnet-${hex} i-${hex} `;
  out.push(
    `${head}${local.ip} ${remote.ip} ${local.port} ${remote.port} ${protocol} ${r.packetsSent} ${r.bytesSent}${mid}${outFlags} IPv4 ${local.ip} ${remote.ip} ${region} ${az} - - - - egress 1`,
    `${head}${remote.ip} ${local.ip} ${remote.port} ${local.port} ${protocol} ${r.packetsReceived} ${r.bytesReceived}${mid}${inFlags} IPv4 ${remote.ip} ${local.ip} ${region} ${az} - - - - ingress -`,
  );
}

const hexByAddress = new Map<string, string>();

function addressHex(ip: string): string {
  let hex = hexByAddress.get(ip);
  if (hex === undefined) {
    // FNV-1a: a stable, well-spread id per address, so each host has its own interface.
    let h = 0x811c9dc5;
    for (let i = 0; i < ip.length; i++) h = Math.imul(h ^ ip.charCodeAt(i), 0x01000193);
    hex = (h >>> 0).toString(16).padStart(8, '0');
    hexByAddress.set(ip, hex);
  }
  return hex;
}
