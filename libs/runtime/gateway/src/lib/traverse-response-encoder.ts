import * as path from 'path';
import * as protobuf from 'protobufjs';
import { API_PROTO_FILE, protoDir } from '@topology/contracts';
import type { EdgeMessage, TraverseResponseMessage } from './api-messages';

type LayerField = 'network' | 'application' | 'request';
const LAYER_FIELDS: readonly LayerField[] = ['network', 'application', 'request'];

/** The tag of a length-delimited field: its number and wire type 2. */
function lengthDelimitedTag(type: protobuf.Type, field: string): number {
  const found = type.fields[field];
  if (found === undefined) throw new Error(`${type.fullName} has no field ${field}`);
  return (found.id << 3) | 2;
}

/**
 * Encodes `TraverseResponse` as the schema does, faster for large answers: each layer's property
 * message of an edge is encoded once and its bytes reused by every later response that carries
 * the same message object (see the memoized messages of `api-mapping.ts`). A page of a wide
 * traversal carries hundreds of edges whose properties rarely change between queries; encoding
 * them was most of the cost of answering.
 *
 * The bytes are what protobufjs writes for the whole message: an embedded message is its fields'
 * bytes behind its tag and length, wherever they were encoded.
 */
export class TraverseResponseEncoder {
  private readonly response: protobuf.Type;
  private readonly edge: protobuf.Type;
  private readonly edgesTag: number;
  private readonly layers: Record<LayerField, { type: protobuf.Type; tag: number }>;
  private readonly encoded = new WeakMap<object, Uint8Array>();

  constructor(root: protobuf.Root = loadApiRoot()) {
    this.response = root.lookupType('topology.v1.TraverseResponse');
    this.edge = root.lookupType('topology.v1.Edge');
    this.edgesTag = lengthDelimitedTag(this.response, 'edges');
    const layer = (field: LayerField) => {
      const type = this.edge.fields[field]?.resolve().resolvedType;
      if (!(type instanceof protobuf.Type)) throw new Error(`topology.v1.Edge.${field} is not a message`);
      return { type, tag: lengthDelimitedTag(this.edge, field) };
    };
    this.layers = { network: layer('network'), application: layer('application'), request: layer('request') };
  }

  encode(message: TraverseResponseMessage): Buffer {
    const writer = protobuf.Writer.create();
    this.response.encode(this.response.fromObject({ ...message, edges: [] }), writer);
    for (const edge of message.edges) {
      writer.uint32(this.edgesTag).fork();
      this.writeEdge(edge, writer);
      writer.ldelim();
    }
    const bytes = writer.finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private writeEdge(edge: EdgeMessage, writer: protobuf.Writer): void {
    const { network, application, request, ...own } = edge;
    this.edge.encode(this.edge.fromObject(own), writer);
    const props = { network, application, request };
    for (const field of LAYER_FIELDS) {
      const value = props[field];
      if (value === undefined || value === null) continue;
      const { type, tag } = this.layers[field];
      let bytes = this.encoded.get(value);
      if (bytes === undefined) {
        bytes = type.encode(type.fromObject(value)).finish();
        this.encoded.set(value, bytes);
      }
      writer.uint32(tag).bytes(bytes);
    }
  }
}

/** The `topology.v1` schema as protobufjs types, from the repository's proto folder. */
export function loadApiRoot(): protobuf.Root {
  const root = new protobuf.Root();
  const dir = protoDir();
  root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(dir, target));
  root.loadSync(API_PROTO_FILE, { keepCase: false });
  root.resolveAll();
  return root;
}
