import { Controller, HttpCode, HttpException, HttpStatus, Inject, Module, Post, Req, type DynamicModule } from '@nestjs/common';
import type { Bus } from '@topology/bus';
import { ContentTypes, Headers, Topics } from '@topology/contracts';
import { IpcIngestor } from '@topology/ipc-ingest';
import type { Request } from 'express';
import { MAX_BODY_BYTES } from './http.controller';
import { lineChunks } from './payload-chunks';
import { BUS } from './tokens';

export type IpcTextFormat = 'spectator' | 'prometheus';

/** Spectator JSON lines or Prometheus text (Istio's metrics), from a content type. */
export function ipcTextFormatOf(contentType: string | undefined): IpcTextFormat | undefined {
  const encoding = IpcIngestor.encodingOf(contentType);
  return encoding === 'spectator' || encoding === 'prometheus' ? encoding : undefined;
}

/**
 * Puts IPC metrics received over HTTP onto `ipc.metrics.v1` with their content type. Spectator
 * lines are cut into messages at line ends; a Prometheus scrape stays one message, because a
 * histogram's buckets must be read together.
 */
export async function publishIpcMetrics(bus: Bus, format: IpcTextFormat, payload: Uint8Array, maxMessageBytes = 512 * 1024): Promise<number> {
  const contentType = format === 'spectator' ? ContentTypes.spectatorJsonLines : ContentTypes.prometheusText;
  const chunks = format === 'spectator' ? [...lineChunks(payload, maxMessageBytes)] : [payload];
  await bus.publish(
    Topics.ipcMetrics,
    chunks.map((value) => ({ key: null, value, headers: { [Headers.contentType]: contentType } })),
  );
  return chunks.length;
}

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

/** `POST /v1/ipc`: Spectator IPC measurements or an Istio Prometheus scrape, told apart by content type. */
@Controller()
export class IpcIntakeController {
  constructor(@Inject(BUS) private readonly bus: Bus) {}

  @Post('v1/ipc')
  @HttpCode(HttpStatus.ACCEPTED)
  async ipc(@Req() req: Request): Promise<{ accepted: number; messages: number }> {
    const format = ipcTextFormatOf(req.headers['content-type']);
    if (!format) {
      throw new HttpException(
        `unsupported content type ${JSON.stringify(req.headers['content-type'] ?? '')}: use ${ContentTypes.spectatorJsonLines} (Spectator) or ${ContentTypes.prometheusText} (Istio); OTLP goes to the OTLP receivers`,
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      );
    }
    const body = await readBody(req);
    return { accepted: body.length, messages: await publishIpcMetrics(this.bus, format, body) };
  }
}

/** The IPC metrics intake, added next to the HTTP intake of an app. */
@Module({})
export class IpcIntakeModule {
  static forRoot(options: { bus: Bus }): DynamicModule {
    return { module: IpcIntakeModule, controllers: [IpcIntakeController], providers: [{ provide: BUS, useValue: options.bus }] };
  }
}
