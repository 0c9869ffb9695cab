import type { Bus } from '@topology/bus';
import { ContentTypes, Headers, Topics } from '@topology/contracts';
import { lineChunks } from './payload-chunks';

export type FlowFormat = 'canonical' | 'canonical-protobuf' | 'vpc' | 'hubble';

const TOPIC: Record<FlowFormat, string> = {
  canonical: Topics.flowsCanonical,
  'canonical-protobuf': Topics.flowsCanonical,
  vpc: Topics.flowsVpc,
  hubble: Topics.flowsHubble,
};

const CONTENT_TYPE: Record<FlowFormat, string> = {
  canonical: ContentTypes.flowJsonLines,
  'canonical-protobuf': ContentTypes.flowProtobuf,
  vpc: ContentTypes.vpcText,
  hubble: ContentTypes.hubbleJsonLines,
};

/** Recognises the format from a request's content type (or an explicit `format`). */
export function flowFormatOf(contentType: string | undefined, explicit?: string): FlowFormat | undefined {
  if (explicit) return (['canonical', 'canonical-protobuf', 'vpc', 'hubble'] as const).find((f) => f === explicit);
  const ct = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  switch (ct) {
    case ContentTypes.flowJsonLines:
    case 'application/x-ndjson':
    case 'application/jsonl':
    case 'application/json':
      return 'canonical';
    case ContentTypes.flowProtobuf:
    case 'application/x-protobuf':
      return 'canonical-protobuf';
    case ContentTypes.vpcText:
    case 'text/plain':
      return 'vpc';
    case ContentTypes.hubbleJsonLines:
      return 'hubble';
    default:
      return undefined;
  }
}

/**
 * Puts flow records received by the all-in-one (HTTP, file replay) onto the same topics an exporter
 * writes to in production, in chunks of whole lines. Returns the number of messages published.
 */
export async function publishFlows(bus: Bus, format: FlowFormat, payload: Uint8Array, vpcFormat?: string, maxMessageBytes = 512 * 1024): Promise<number> {
  const headers: Record<string, string> = { [Headers.contentType]: CONTENT_TYPE[format] };
  if (format === 'vpc' && vpcFormat) headers[Headers.vpcFormat] = vpcFormat;
  const chunks = format === 'canonical-protobuf' ? [payload] : [...lineChunks(payload, maxMessageBytes)];
  await bus.publish(
    TOPIC[format],
    chunks.map((value) => ({ key: null, value, headers })),
  );
  return chunks.length;
}

export async function publishMetadata(bus: Bus, payload: Uint8Array): Promise<number> {
  const chunks = [...lineChunks(payload, 512 * 1024)];
  await bus.publish(
    Topics.metadata,
    chunks.map((value) => ({ key: null, value, headers: { [Headers.contentType]: ContentTypes.metadataJsonLines } })),
  );
  return chunks.length;
}
