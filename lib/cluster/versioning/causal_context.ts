// The causal context clients carry between a get and a set, version 1 (PROTOCOL.md §4.4).
// Opaque to clients (bytes or base64). It names the key it belongs to by a hash, so that a
// context of one key is refused on another. Client input: every failure is KV_INVALID_ARGUMENT.

import { KvError, invalidArgument } from '../../errors'
import { contextBytesMax, contextKeyHashSeed } from '../../constants'
import { hash32 } from '../../util/hash'
import { toBuffer, type KeyLike } from '../../util/bytes'
import { CodecReader, CodecWriter } from './byte_codec'
import { readDots, writeVv } from './object_codec'
import { compareDots, covers, checkVv, type Dot } from './version_vector'
import type { Context } from './dvv_object'

export const contextFormatVersion = 1

function keyCheck(key: KeyLike): number {
  return hash32(toBuffer(key), contextKeyHashSeed)
}

export function encodeContext(key: KeyLike, ctx: Context): Buffer {
  const w = new CodecWriter(16 + 8 * (ctx.vv.length + ctx.dots.length))
  w.u8(contextFormatVersion)
  w.u32(keyCheck(key))
  writeVv(w, ctx.vv)
  writeVv(w, ctx.dots)
  return w.finish()
}

export function decodeContext(key: KeyLike, bytes: Uint8Array | string): Context {
  const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'base64') : bytes
  if (buf.length > contextBytesMax) throw invalidArgument('causal context too large', { bytes: buf.length, limit: contextBytesMax })
  const r = new CodecReader(buf, 'causal context', 'KV_INVALID_ARGUMENT')
  const version = r.u8()
  if (version !== contextFormatVersion) {
    throw new KvError('KV_INVALID_ARGUMENT', `causal context version ${version} is not supported`, { version })
  }
  if (r.u32() !== keyCheck(key)) r.fail('belongs to another key')
  const vv = readDots(r)
  const dots = readDots(r)
  r.end()
  if (!checkVv(vv)) r.fail('malformed version vector')
  if (!dotsSorted(dots) || dots.some((d) => covers(vv, d))) r.fail('malformed dots')
  return { vv, dots }
}

function dotsSorted(dots: readonly Dot[]): boolean {
  return dots.every((d, i) => d.counter >= 1 && (i === 0 || compareDots(dots[i - 1]!, d) < 0))
}

export function contextToBase64(key: KeyLike, ctx: Context): string {
  return encodeContext(key, ctx).toString('base64')
}
