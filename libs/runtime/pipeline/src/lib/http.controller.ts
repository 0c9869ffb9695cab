import { Controller, Get, HttpCode, HttpException, HttpStatus, Inject, Post, Query, Req, Res } from '@nestjs/common';
import type { Bus } from '@topology/bus';
import type { Request, Response } from 'express';
import type { Registry } from 'prom-client';
import { flowFormatOf, publishFlows, publishMetadata } from './flow-intake';
import { BUS, METRICS_REGISTRY, READINESS, Readiness } from './tokens';

/** Largest accepted request body; bigger uploads should use the replay command, which streams. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

async function readBody(req: Request): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpException(`body larger than ${MAX_BODY_BYTES} bytes`, HttpStatus.PAYLOAD_TOO_LARGE);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Probes, metrics, and the intake of flow records and metadata over HTTP. */
@Controller()
export class HttpController {
  constructor(
    @Inject(BUS) private readonly bus: Bus,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(READINESS) private readonly readiness: Readiness,
  ) {}

  @Get('healthz')
  live(): { status: string } {
    return { status: 'ok' };
  }

  @Get('readyz')
  ready(@Res() res: Response): void {
    if (this.readiness.isReady()) res.status(200).json({ status: 'ready' });
    else res.status(503).json({ status: 'starting', waitingFor: this.readiness.notReady() });
  }

  @Get('metrics')
  async metrics(@Res() res: Response): Promise<void> {
    res.setHeader('content-type', this.registry.contentType);
    res.send(await this.registry.metrics());
  }

  /**
   * Flow records: canonical JSON lines (`application/x-flow+jsonl`, also `application/x-ndjson`),
   * a protobuf FlowRecordBatch (`application/x-flow+protobuf`), VPC flow log text
   * (`text/x-vpc-flow-log`, format string in the `vpc-format` header or `?vpcFormat=`), or Hubble
   * JSON lines (`application/x-hubble+jsonl`); `?format=` overrides the content type.
   */
  @Post('v1/flows')
  @HttpCode(HttpStatus.ACCEPTED)
  async flows(@Req() req: Request, @Query('format') format?: string, @Query('vpcFormat') vpcFormat?: string): Promise<{ accepted: number; messages: number }> {
    const kind = flowFormatOf(req.headers['content-type'], format);
    if (!kind) {
      throw new HttpException(
        `unsupported content type ${JSON.stringify(req.headers['content-type'] ?? '')}: use application/x-flow+jsonl, application/x-flow+protobuf, text/x-vpc-flow-log or application/x-hubble+jsonl`,
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      );
    }
    const body = await readBody(req);
    const header = req.headers['vpc-format'];
    const messages = await publishFlows(this.bus, kind, body, vpcFormat ?? (typeof header === 'string' ? header : undefined));
    return { accepted: body.length, messages };
  }

  /** Metadata events as JSON lines (MetadataEvent in its proto3 JSON form). */
  @Post('v1/metadata')
  @HttpCode(HttpStatus.ACCEPTED)
  async metadata(@Req() req: Request): Promise<{ accepted: number; messages: number }> {
    const body = await readBody(req);
    return { accepted: body.length, messages: await publishMetadata(this.bus, body) };
  }
}
