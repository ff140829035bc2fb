// Keys in a node's engine (PROTOCOL.md §9.4): vnode data by partition, hint records by
// (owner, key), node metadata. The one module that names every key range on a node.

export const DATA_PREFIX = 0x00
export const HINT_PREFIX = 0x01
export const META_PREFIX = 0x02

/** 0x00 u16be partition key. */
export function dataKey(partition: number, key: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(3 + key.length)
  out[0] = DATA_PREFIX
  out[1] = partition >>> 8
  out[2] = partition & 0xff
  out.set(key, 3)
  return out
}

/** 0x01 u32be owner key. */
export function hintKey(owner: number, key: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + key.length)
  out[0] = HINT_PREFIX
  out.writeUInt32BE(owner, 1)
  out.set(key, 5)
  return out
}

export const hintRange = { gte: Buffer.from([HINT_PREFIX]), lt: Buffer.from([HINT_PREFIX + 1]) }
export const dataRange = { gte: Buffer.from([DATA_PREFIX]), lt: Buffer.from([DATA_PREFIX + 1]) }

export function partitionRange(partition: number): { gte: Buffer; lt: Buffer } {
  const lt = partition + 1 < 0x10000 ? Buffer.from([DATA_PREFIX, (partition + 1) >>> 8, (partition + 1) & 0xff]) : Buffer.from([DATA_PREFIX + 1])
  return { gte: Buffer.from([DATA_PREFIX, partition >>> 8, partition & 0xff]), lt }
}

/** The user key of a data key. */
export function userKeyOf(storageKey: Buffer): Buffer {
  return storageKey.subarray(3)
}

export function metaKey(name: string): Buffer {
  return Buffer.concat([Buffer.from([META_PREFIX]), Buffer.from(name, 'ascii')])
}
