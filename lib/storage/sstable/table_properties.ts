// The properties block of an SSTable (FORMAT.md §3.4): facts about the table that compaction
// and the engine use without reading data blocks. Encoded as a data-block-shaped block
// (restart interval 1) of string keys in bytewise order; numbers are varints, keys are bytes.

import { corruption } from '../../errors'
import { readVarint, varintBytes, varintEnd } from '../../util/varint'
import { Kind } from '../types'
import { BlockBuilder } from './block_builder'
import { BlockIterator } from './block_iterator'

export interface TableProperties {
  entries: number
  keys: number
  tombstones: number
  rawKeyBytes: number
  rawValueBytes: number
  /** Before zeroing (FORMAT.md §3.1); 0 for an empty table. */
  minSeq: number
  maxSeq: number
  /** First and last key; empty for an empty table. */
  smallest: Buffer
  largest: Buffer
  /** Earliest expiresAtMs of a PutTtl entry; 0 if none. */
  minExpiresAtMs: number
  /** PutTtl entries (0 in tables written before this property). */
  ttlEntries: number
  /**
   * With the PutTtl entries' expiresAtMs sorted as e[1..n]: e[ceil(j × n / 8)] for j = 1..8
   * (FORMAT.md §3.4); empty when there are none (or in tables written before this property).
   */
  ttlExpiryEighths: readonly number[]
}

const numberFields = ['entries', 'keys', 'tombstones', 'rawKeyBytes', 'rawValueBytes', 'minSeq', 'maxSeq', 'minExpiresAtMs', 'ttlEntries'] as const
const bytesFields = ['smallest', 'largest'] as const
const varintListFields = ['ttlExpiryEighths'] as const
/** Added after the format's first tables: 0 or empty where absent (FORMAT.md §3.4). */
const optionalFields: readonly string[] = ['ttlEntries', 'ttlExpiryEighths']
const allFields: string[] = [...numberFields, ...bytesFields, ...varintListFields].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
const isBytes = (name: string): boolean => (bytesFields as readonly string[]).includes(name)
const isVarintList = (name: string): boolean => (varintListFields as readonly string[]).includes(name)

export function encodeProperties(p: TableProperties): Buffer {
  const b = new BlockBuilder(1)
  for (const name of allFields) {
    const value = isBytes(name)
      ? p[name as (typeof bytesFields)[number]]
      : isVarintList(name)
        ? Buffer.concat(p[name as (typeof varintListFields)[number]].map(varintBytes))
        : varintBytes(p[name as (typeof numberFields)[number]])
    b.add(Buffer.from(name, 'latin1'), Kind.Put, 0, 0, value)
  }
  return Buffer.from(b.finish())
}

/** Unknown names are skipped (a newer writer may add some); a missing required one is KV_CORRUPTION. */
export function decodeProperties(buf: Buffer, start: number, size: number, file: string, fileOffset: number): TableProperties {
  const it = new BlockIterator(false)
  it.reset(buf, start, size, file, fileOffset)
  const seen = new Map<string, Buffer>()
  for (it.seekToStart(); it.valid(); it.next()) seen.set(it.key().toString('latin1'), Buffer.from(it.value()))
  const out: Record<string, unknown> = {}
  for (const name of allFields) {
    const v = seen.get(name)
    if (v === undefined && optionalFields.includes(name)) {
      out[name] = isVarintList(name) ? [] : 0
      continue
    }
    if (v === undefined) throw corruption(`${file}: properties block lacks "${name}"`, { file, offset: fileOffset })
    if (isBytes(name)) out[name] = v
    else if (isVarintList(name)) {
      const list: number[] = []
      for (let at = 0; at < v.length; at = varintEnd.offset) list.push(readVarint(v, at))
      out[name] = list
    } else {
      const n = readVarint(v, 0)
      if (varintEnd.offset !== v.length) throw corruption(`${file}: property "${name}" is not one varint`, { file, offset: fileOffset })
      out[name] = n
    }
  }
  const p = out as unknown as TableProperties
  const e = p.ttlExpiryEighths
  if (e.length !== (p.ttlEntries > 0 ? 8 : 0) || e.some((x, i) => i > 0 && x < e[i - 1]!)) {
    throw corruption(`${file}: property "ttlExpiryEighths" is not 8 ascending times for a table with TTLs, or empty for one without`, { file, offset: fileOffset })
  }
  return p
}
