/**
 * VPC flow log lines of a NAT gateway's interface, in a custom format with the packet-level
 * addresses (as in the AWS "traffic through a NAT gateway" example). For one connection and one
 * aggregation interval the interface sees four flows:
 *
 * | line               | srcaddr → dstaddr   | pkt-srcaddr → pkt-dstaddr | direction |
 * |--------------------|---------------------|---------------------------|-----------|
 * | request in         | client → NAT        | client → external         | ingress   |
 * | request out        | NAT → external      | NAT → external            | egress    |
 * | response in        | external → NAT      | external → NAT            | ingress   |
 * | response out       | NAT → client        | external → client         | egress    |
 *
 * The format is written as field names separated by spaces (the AWS `${field}` form without the
 * `${}`), as the reference examples pair each record with its format.
 * `start`/`end` are whole seconds inside the connection's own record, so the client's address is
 * owned by the reporting client at those instants.
 */
export const NAT_FLOW_LOG_FORMAT =
  'version account-id instance-id interface-id srcaddr dstaddr srcport dstport pkt-srcaddr pkt-dstaddr protocol packets bytes start end action log-status tcp-flags flow-direction';

/** The fields of `NAT_FLOW_LOG_FORMAT`, in order. */
export const NAT_FLOW_LOG_FIELDS: readonly string[] = NAT_FLOW_LOG_FORMAT.split(' ');

/** flow-direction is a version 5 field, so records carry version 5. */
const VERSION = 5;
const TCP = 6;
const SYN = 2;
const SYN_ACK = 18;
const FIN = 1;

export interface NatConnectionSlice {
  account: string;
  interfaceId: string;
  natIp: string;
  /** Source port the NAT gave the connection on the public side. */
  natPort: number;
  clientIp: string;
  clientPort: number;
  externalIp: string;
  externalPort: number;
  startMs: number;
  endMs: number;
  bytesSent: number;
  bytesReceived: number;
  packetsSent: number;
  packetsReceived: number;
  /** The connection opened / closed inside this slice (sets SYN / FIN in tcp-flags). */
  opened: boolean;
  closed: boolean;
}

/** Appends the four lines of one connection slice to `out`. */
export function appendNatFlowLogLines(s: NatConnectionSlice, out: string[]): void {
  const start = Math.ceil(s.startMs / 1000);
  const end = Math.max(start, Math.floor(s.endMs / 1000));
  const fin = s.closed ? FIN : 0;
  const requestFlags = (s.opened ? SYN : 0) | fin;
  const responseFlags = (s.opened ? SYN_ACK : 0) | fin;
  // A NAT gateway's interface is requester-managed: it names no instance.
  const head = `${VERSION} ${s.account} - ${s.interfaceId} `;
  const tail = ` ${start} ${end} ACCEPT OK `;
  out.push(
    `${head}${s.clientIp} ${s.natIp} ${s.clientPort} ${s.externalPort} ${s.clientIp} ${s.externalIp} ${TCP} ${s.packetsSent} ${s.bytesSent}${tail}${requestFlags} ingress`,
    `${head}${s.natIp} ${s.externalIp} ${s.natPort} ${s.externalPort} ${s.natIp} ${s.externalIp} ${TCP} ${s.packetsSent} ${s.bytesSent}${tail}${requestFlags} egress`,
    `${head}${s.externalIp} ${s.natIp} ${s.externalPort} ${s.natPort} ${s.externalIp} ${s.natIp} ${TCP} ${s.packetsReceived} ${s.bytesReceived}${tail}${responseFlags} ingress`,
    `${head}${s.natIp} ${s.clientIp} ${s.externalPort} ${s.clientPort} ${s.externalIp} ${s.clientIp} ${TCP} ${s.packetsReceived} ${s.bytesReceived}${tail}${responseFlags} egress`,
  );
}
