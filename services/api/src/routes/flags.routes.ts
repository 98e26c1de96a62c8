// /v1/flags/:file: the flags the workers saved, served from the FlagStore. The store
// refuses any name that could leave its folder (separators, `..`, dot files, control
// characters); here such names are a 400 problem and missing files a 404 problem.
//
// Two ways to answer (FLAG_DELIVERY, docs/architecture.md "Flags in an object store"):
// `stream` (default) sends the bytes through the API from any store; `redirect` (S3
// only) answers 302 to a short-lived presigned URL, so the bytes go from the store to
// the client. Both give the same weak ETag (size and modification time) and answer a
// matching If-None-Match with 304, found with a stat (no body is opened for it).
import { FlagFileParams, UnsafeFileNameError, isSafeFileName, type FileInfo, type FlagStore } from '@flagship/common';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Readable } from 'node:stream';
import { Type } from 'typebox';
import { FlagNotFoundError, InvalidRequestError } from '../errors.ts';
import { problemResponses } from '../http/problem.ts';

export interface FlagDeliveryOptions {
  mode: 'stream' | 'redirect';
  /** Lifetime of a presigned URL (redirect). */
  urlTtlSeconds: number;
}

export interface FlagsRoutesOptions {
  store: FlagStore;
  /** Default: stream. */
  delivery?: Readonly<FlagDeliveryOptions>;
}

/** Saved flags never change under the same name and bytes; a day is safe, and the ETag revalidates. */
const CACHE_CONTROL = 'public, max-age=86400';

function unsafeName(fileName: string): InvalidRequestError {
  return new InvalidRequestError(`unsafe file name ${JSON.stringify(fileName)}`, [
    {
      field: '/params/file',
      reason: 'must be a plain file name: no separators, no leading dot, no control characters',
    },
  ]);
}

/** `read` of the store on a flag's name: 400 for an unsafe name, 404 for a missing file or one that is not a GIF. */
async function fromStore<T>(fileName: string, read: (name: string) => Promise<T | undefined>): Promise<T> {
  if (!isSafeFileName(fileName)) throw unsafeName(fileName);
  if (!fileName.toLowerCase().endsWith('.gif')) throw new FlagNotFoundError(fileName);
  try {
    const file = await read(fileName);
    if (file === undefined) throw new FlagNotFoundError(fileName);
    return file;
  } catch (error) {
    // The store checks again (it may be another implementation with stricter rules).
    if (error instanceof UnsafeFileNameError) throw unsafeName(fileName);
    throw error;
  }
}

/** A weak validator: the same bytes saved again keep it, new bytes change it. */
function etagOf(file: FileInfo): string {
  return `W/"${file.size.toString(16)}-${file.modifiedAt.getTime().toString(16)}"`;
}

export const flagsRoutes: FastifyPluginAsyncTypebox<FlagsRoutesOptions> = async (app, options) => {
  const { store, delivery } = options;
  const stat = store.stat?.bind(store);
  const urlTtlSeconds = delivery?.urlTtlSeconds ?? 60;
  const presign = delivery?.mode === 'redirect' ? store.presign?.bind(store) : undefined;
  if (delivery?.mode === 'redirect' && (presign === undefined || stat === undefined)) {
    throw new Error('FLAG_DELIVERY=redirect needs a store that presigns URLs (STORE=s3)');
  }
  app.get(
    '/v1/flags/:file',
    {
      schema: {
        summary: 'A saved flag image (GIF)',
        tags: ['flags'],
        produces: ['image/gif'],
        params: FlagFileParams,
        response: {
          200: {
            description: 'The GIF',
            content: { 'image/gif': { schema: Type.Unsafe<Readable>({ type: 'string', format: 'binary' }) } },
          },
          302: Type.Unsafe<void>({
            description: 'FLAG_DELIVERY=redirect: the GIF is at the short-lived presigned URL in Location',
            type: 'null',
          }),
          304: Type.Unsafe<void>({ description: 'Not modified (If-None-Match matched the ETag)', type: 'null' }),
          ...problemResponses(400, 404, 500),
        },
      },
    },
    async (request, reply) => {
      const { file: fileName } = request.params;
      const ifNoneMatch = request.headers['if-none-match'];
      // A conditional request (or a redirect) needs only the validator: a stat, no body.
      if (stat !== undefined && (ifNoneMatch !== undefined || presign !== undefined)) {
        const info = await fromStore(fileName, stat);
        const etag = etagOf(info);
        if (ifNoneMatch === etag) {
          return reply.header('cache-control', CACHE_CONTROL).header('etag', etag).code(304).send();
        }
        if (presign !== undefined) {
          // The 302 is cached no longer than half the URL's life: a cached redirect to an
          // expired URL would fail.
          const maxAge = Math.floor(urlTtlSeconds / 2);
          return reply
            .header('cache-control', `private, max-age=${maxAge}`)
            .header('etag', etag)
            .redirect(await presign(fileName, urlTtlSeconds), 302);
        }
      }
      const file = await fromStore(fileName, (name) => options.store.open(name));
      const etag = etagOf(file);
      reply.header('cache-control', CACHE_CONTROL).header('etag', etag);
      if (ifNoneMatch === etag) {
        file.stream.destroy();
        return reply.code(304).send();
      }
      return reply
        .type('image/gif')
        .header('content-length', file.size)
        .header('last-modified', file.modifiedAt.toUTCString())
        .send(file.stream);
    },
  );
};
