import type { BusMessage } from '@topology/bus';
import { ContentTypes, Headers, decodeMetadataEvent, type MetadataEvent, type Rejection } from '@topology/contracts';
import { parseMetadataEvent, readMetadataJsonLines } from '@topology/enrich';

/** Decodes one message of the metadata topic: protobuf MetadataEvent, or JSON lines (the default). */
export function decodeMetadataMessage(message: Pick<BusMessage, 'value' | 'headers'>): { events: MetadataEvent[]; rejections: Rejection[] } {
  const contentType = message.headers[Headers.contentType] ?? ContentTypes.metadataJsonLines;
  if (contentType === ContentTypes.metadataProtobuf) {
    try {
      const parsed = parseMetadataEvent(decodeMetadataEvent(message.value));
      return 'reason' in parsed && 'raw' in parsed ? { events: [], rejections: [{ ...parsed, raw: message.value }] } : { events: [parsed], rejections: [] };
    } catch (e) {
      return { events: [], rejections: [{ reason: 'malformed', message: `metadata protobuf: ${e instanceof Error ? e.message : String(e)}`, raw: message.value }] };
    }
  }
  if (contentType !== ContentTypes.metadataJsonLines && contentType !== 'application/json') {
    return { events: [], rejections: [{ reason: 'unsupported-format', message: `metadata content-type ${contentType}`, raw: message.value }] };
  }
  return readMetadataJsonLines(Buffer.from(message.value).toString('utf8'));
}
