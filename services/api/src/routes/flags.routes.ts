// /v1/flags/:file: the flags the workers saved, served from the FlagStore. The store
// refuses any name that could leave its folder (separators, `..`, dot files, control
// characters); here such names are a 400 problem and missing files a 404 problem.
import { FlagFileParams, UnsafeFileNameError, isSafeFileName, type FlagStore, type StoredFile } from '@flagship/common';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Readable } from 'node:stream';
import { Type } from 'typebox';
import { FlagNotFoundError, InvalidRequestError } from '../errors.ts';
import { problemResponses } from '../http/problem.ts';

export interface FlagsRoutesOptions {
  store: FlagStore;
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

async function openFlag(store: FlagStore, fileName: string): Promise<StoredFile> {
  if (!isSafeFileName(fileName)) throw unsafeName(fileName);
  if (!fileName.toLowerCase().endsWith('.gif')) throw new FlagNotFoundError(fileName);
  try {
    const file = await store.open(fileName);
    if (file === undefined) throw new FlagNotFoundError(fileName);
    return file;
  } catch (error) {
    // The store checks again (it may be another implementation with stricter rules).
    if (error instanceof UnsafeFileNameError) throw unsafeName(fileName);
    throw error;
  }
}

export const flagsRoutes: FastifyPluginAsyncTypebox<FlagsRoutesOptions> = async (app, options) => {
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
          304: Type.Unsafe<void>({ description: 'Not modified (If-None-Match matched the ETag)', type: 'null' }),
          ...problemResponses(400, 404, 500),
        },
      },
    },
    async (request, reply) => {
      const file = await openFlag(options.store, request.params.file);
      const etag = `W/"${file.size.toString(16)}-${file.modifiedAt.getTime().toString(16)}"`;
      reply.header('cache-control', CACHE_CONTROL).header('etag', etag);
      if (request.headers['if-none-match'] === etag) {
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
