// The in-memory index of the hints one node holds (PROTOCOL.md §6.2): at most one per
// (intended owner, key), capped in total bytes and in age. The records themselves are
// durable in the node's storage; the ledger holds metadata only. No I/O.

import { hintAgeMsMax, hintBytesMax } from '../../constants'
import { KvError } from '../../errors'
import { assert } from '../../assert'

export interface HintMeta {
  /** Ledger-assigned, never reused in one ledger; the driver's storage key for the record. */
  readonly id: number
  /** Bumped when the record is replaced by a merge, so a stale replay ack does not drop it. */
  readonly revision: number
  readonly owner: number
  readonly key: Buffer
  readonly partition: number
  readonly createdAtMs: number
  /** Encoded record bytes (§6.1). */
  readonly bytes: number
}

export interface HintAdmission {
  readonly owner: number
  readonly key: Buffer
  readonly partition: number
  readonly createdAtMs: number
  readonly bytes: number
}

export class HintLedger {
  private readonly byId = new Map<number, HintMeta>()
  private readonly byOwnerKey = new Map<string, number>()
  private nextId = 1
  private bytesTotal = 0

  constructor(
    readonly bytesMax = hintBytesMax,
    readonly ageMsMax = hintAgeMsMax,
  ) {}

  private static slot(owner: number, key: Buffer): string {
    return `${owner}:${key.toString('latin1')}`
  }

  /** The hint already held for (owner, key): the driver merges into it by sync (§6.1). */
  find(owner: number, key: Buffer): HintMeta | undefined {
    const id = this.byOwnerKey.get(HintLedger.slot(owner, key))
    return id === undefined ? undefined : this.byId.get(id)
  }

  get(id: number): HintMeta | undefined {
    return this.byId.get(id)
  }

  /**
   * Records a hint, replacing the one for the same (owner, key) (which keeps its id and the
   * older createdAtMs). Throws KV_OVERLOADED when it would exceed bytesMax: the fallback
   * refuses the write and the coordinator tries another node.
   */
  admit(h: HintAdmission): HintMeta {
    assert(h.bytes > 0, 'a hint record has bytes')
    const prev = this.find(h.owner, h.key)
    const total = this.bytesTotal - (prev?.bytes ?? 0) + h.bytes
    if (total > this.bytesMax) {
      throw new KvError('KV_OVERLOADED', `hints would take ${total} bytes (limit ${this.bytesMax})`, { bytes: total, limit: this.bytesMax })
    }
    const meta: HintMeta = prev
      ? { ...prev, revision: prev.revision + 1, bytes: h.bytes, createdAtMs: Math.min(prev.createdAtMs, h.createdAtMs) }
      : { id: this.nextId++, revision: 1, owner: h.owner, key: Buffer.from(h.key), partition: h.partition, createdAtMs: h.createdAtMs, bytes: h.bytes }
    this.byId.set(meta.id, meta)
    this.byOwnerKey.set(HintLedger.slot(meta.owner, meta.key), meta.id)
    this.bytesTotal = total
    return meta
  }

  remove(id: number): HintMeta | undefined {
    const meta = this.byId.get(id)
    if (meta === undefined) return undefined
    this.byId.delete(id)
    this.byOwnerKey.delete(HintLedger.slot(meta.owner, meta.key))
    this.bytesTotal -= meta.bytes
    return meta
  }

  /** Drops hints older than ageMsMax; returns them so the driver deletes their records. */
  expire(nowMs: number): HintMeta[] {
    const old = [...this.byId.values()].filter((m) => nowMs - m.createdAtMs > this.ageMsMax)
    for (const m of old) this.remove(m.id)
    return old
  }

  /** The hints for one owner, oldest first. */
  forOwner(owner: number): HintMeta[] {
    return [...this.byId.values()].filter((m) => m.owner === owner).sort((a, b) => a.createdAtMs - b.createdAtMs || a.id - b.id)
  }

  owners(): number[] {
    return [...new Set([...this.byId.values()].map((m) => m.owner))].sort((a, b) => a - b)
  }

  get bytes(): number {
    return this.bytesTotal
  }

  get count(): number {
    return this.byId.size
  }

  pendingBytes(owner?: number): number {
    let n = 0
    for (const m of this.byId.values()) if (owner === undefined || m.owner === owner) n += m.bytes
    return n
  }

  isDrained(owner?: number): boolean {
    return this.pendingBytes(owner) === 0
  }
}
