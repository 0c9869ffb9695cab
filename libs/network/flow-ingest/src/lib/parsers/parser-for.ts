import type { Rejection } from '@topology/contracts';
import { ContentTypes, Headers } from '@topology/contracts';
import type { Clock, CounterSet } from '@topology/model';
import { CanonicalFlowJsonParser, CanonicalFlowProtobufParser } from './canonical-flow-parser';
import type { FlowParser, FlowParserCounter } from './flow-parser';
import { newFlowParserCounters, RecordProblem } from './flow-parser';
import { HubbleFlowParser } from './hubble-flow-parser';
import { parseVpcFormat } from './vpc-flow-log-format';
import { VpcFlowLogParser } from './vpc-flow-log-parser';

export interface FlowParserOptions {
  /** Region of the Kafka cluster the payloads come from. */
  region?: string;
  /** Processing time, for VPC formats without start and end (default: the system clock). */
  clock?: Clock;
  /** Shared by every parser made here (default: a new set). */
  counters?: CounterSet<FlowParserCounter>;
  /** Connections the Hubble parser remembers for de-duplication (default 100 000). */
  hubbleMemorySize?: number;
  /** How long the Hubble parser remembers a connection after its last flow, event time (default 60 s). */
  hubbleMemoryTtlMs?: number;
  /** Connections and server endpoints each VPC parser remembers for orientation (default 100 000). */
  vpcMemorySize?: number;
  /** How long a VPC parser remembers them, event time (default 1 h). */
  vpcMemoryTtlMs?: number;
}

/** Distinct VPC formats kept per partition; a log group has one format, so a few is plenty. */
const MAX_VPC_FORMATS = 64;

/**
 * The parsers of one source partition, kept across its messages: the Hubble parser's connection
 * memory and each VPC format's orientation memory only work if the same instance sees the
 * partition's next messages. Create one per partition (scope) and call `parserFor` per message.
 */
export class FlowParsers {
  readonly counters: CounterSet<FlowParserCounter>;
  private readonly options: FlowParserOptions;
  private canonicalJson: CanonicalFlowJsonParser | undefined;
  private canonicalProtobuf: CanonicalFlowProtobufParser | undefined;
  private hubble: HubbleFlowParser | undefined;
  private readonly vpcByFormat = new Map<string, VpcFlowLogParser | Rejection>();

  constructor(options: FlowParserOptions = {}) {
    this.options = options;
    this.counters = options.counters ?? newFlowParserCounters();
  }

  /** The parser for a message's content type (and `vpc-format` header), or why there is none. */
  parserFor(contentType: string, headers: Record<string, string>): FlowParser | Rejection {
    const found = this.find(contentType.split(';')[0]?.trim().toLowerCase() ?? '', headers);
    if (!isParser(found)) this.counters.inc('payloads_unsupported');
    return found;
  }

  private find(mediaType: string, headers: Record<string, string>): FlowParser | Rejection {
    const region = this.options.region;
    const counters = this.counters;
    switch (mediaType) {
      case ContentTypes.flowJsonLines:
        return (this.canonicalJson ??= new CanonicalFlowJsonParser({ region, counters }));
      case ContentTypes.flowProtobuf:
        return (this.canonicalProtobuf ??= new CanonicalFlowProtobufParser({ region, counters }));
      case ContentTypes.hubbleJsonLines:
        return (this.hubble ??= new HubbleFlowParser({
          region,
          counters,
          memorySize: this.options.hubbleMemorySize,
          memoryTtlMs: this.options.hubbleMemoryTtlMs,
        }));
      case ContentTypes.vpcText:
        return this.vpcParser(headers[Headers.vpcFormat] ?? '');
      default:
        return {
          reason: 'unsupported-format',
          message: `no flow parser for content-type ${JSON.stringify(mediaType)}; expected one of ${[
            ContentTypes.flowJsonLines,
            ContentTypes.flowProtobuf,
            ContentTypes.vpcText,
            ContentTypes.hubbleJsonLines,
          ].join(', ')}`,
          raw: '',
        };
    }
  }

  private vpcParser(formatText: string): FlowParser | Rejection {
    const known = this.vpcByFormat.get(formatText);
    if (known !== undefined) return known;
    const format = parseVpcFormat(formatText);
    const made: VpcFlowLogParser | Rejection =
      format instanceof RecordProblem
        ? { reason: format.reason, message: format.message, raw: '' }
        : new VpcFlowLogParser(format, {
            region: this.options.region,
            clock: this.options.clock,
            counters: this.counters,
            memorySize: this.options.vpcMemorySize,
            memoryTtlMs: this.options.vpcMemoryTtlMs,
          });
    if (this.vpcByFormat.size >= MAX_VPC_FORMATS) this.vpcByFormat.clear();
    this.vpcByFormat.set(formatText, made);
    return made;
  }
}

/**
 * The parser for one message, made fresh. Enough for stateless formats; a consumer of Hubble or
 * VPC topics should keep a `FlowParsers` per partition instead, so connection memory carries over
 * from one message to the next. The rejection's `raw` is empty: the caller attaches the payload.
 */
export function parserFor(contentType: string, headers: Record<string, string>, options: FlowParserOptions): FlowParser | Rejection {
  return new FlowParsers(options).parserFor(contentType, headers);
}

export function isParser(value: FlowParser | Rejection): value is FlowParser {
  return typeof (value as Partial<FlowParser>).parse === 'function';
}
