// A node's identity on disk (PROTOCOL.md §9.4): the node id file, and the incarnation that
// makes its replica id fresh after an unclean stop (so a lost, acknowledged write never has
// its dot reused, §4.1), with the counter floor a graceful stop saved (§4.5). Opens the node's
// engine, breaking the lock of a crashed worker.

import fs from 'node:fs'
import path from 'node:path'
import { nodesMax } from '../../constants'
import { KvError } from '../../errors'
import { Engine, type BatchOp, type Durability } from '../../storage'
import type { Clock } from '../../util/clock'
import { readVarint, varintBytes } from '../../util/varint'
import { metaKey } from './storage_keys'

export function nodeDir(dir: string, id: number): string {
  return path.join(dir, `node-${id}`)
}

/** Replica ids: incarnation × nodesMax + node id (a u32 for 4 M incarnations). */
export function replicaIdOf(nodeId: number, incarnation: number): number {
  return incarnation * nodesMax + nodeId
}

const INCARNATION = metaKey('incarnation')
const CLEAN = metaKey('clean')
const COUNTER_FLOOR = metaKey('counterFloor')
const DURABILITY = metaKey('durability')

export interface OpenedNode {
  readonly engine: Engine
  readonly incarnation: number
  readonly replicaId: number
  /** The replica id's counter floor (§4.5): saved by the last graceful stop; 0 for a new incarnation. */
  readonly counterFloor: number
}

/**
 * Checks (or writes) the node id file, opens the engine (on `clock`, which times its TTL
 * entries), and settles the incarnation and its counter floor: kept after a graceful stop,
 * or after an unclean one of a run at durability sync (where every write, and every rise of
 * the floor with it, was synced); otherwise a new incarnation, whose floor is 0.
 */
export async function openNode(dir: string, id: number, durability: Durability, clock: Clock): Promise<OpenedNode> {
  const home = nodeDir(dir, id)
  fs.mkdirSync(home, { recursive: true })
  const idFile = path.join(home, 'NODE_ID')
  if (fs.existsSync(idFile)) {
    const stored = Number(fs.readFileSync(idFile, 'utf8').trim())
    if (stored !== id) throw new KvError('KV_CORRUPTION', `${idFile} names node ${stored}, expected ${id}`, { file: idFile })
  } else {
    fs.writeFileSync(idFile, `${id}\n`)
  }
  const engineDir = path.join(home, 'engine')
  // A crashed worker could not release its lock; we are its only successor (one supervisor).
  if (fs.existsSync(engineDir)) Engine.breakLock(engineDir)
  const engine = await Engine.open(engineDir, { durability, clock })
  const raw = engine.getSync(INCARNATION)
  let incarnation = raw === undefined ? 0 : readVarint(raw, 0)
  const clean = engine.getSync(CLEAN) !== undefined
  // What the last run promised: at sync, every acknowledged write (and every rise of the
  // floor, saved with it) was synced before it was acknowledged.
  const lastRunSynced = engine.getSync(DURABILITY)?.toString('latin1') === 'sync'
  let counterFloor = 0
  const ops: BatchOp[] = []
  if (raw === undefined || (!clean && !lastRunSynced)) {
    incarnation++
    ops.push({ type: 'put', key: INCARNATION, value: varintBytes(incarnation) }, { type: 'del', key: COUNTER_FLOOR })
  } else {
    const floor = engine.getSync(COUNTER_FLOOR)
    if (floor !== undefined) counterFloor = readVarint(floor, 0)
  }
  if (clean) ops.push({ type: 'del', key: CLEAN })
  ops.push({ type: 'put', key: DURABILITY, value: Buffer.from(durability, 'latin1') })
  await engine.batch(ops, { sync: true })
  return { engine, incarnation, replicaId: replicaIdOf(id, incarnation), counterFloor }
}

/** The batch operation that saves the counter floor (with a store that raised it, at durability sync). */
export function counterFloorOp(counterFloor: number): BatchOp {
  return { type: 'put', key: COUNTER_FLOOR, value: varintBytes(counterFloor) }
}

/** A graceful stop: saves the counter floor and marks the shutdown clean (synced), then closes the engine. */
export async function closeNode(engine: Engine, counterFloor: number): Promise<void> {
  if (engine.isClosed) return
  await engine.batch([counterFloorOp(counterFloor), { type: 'put', key: CLEAN, value: Buffer.alloc(0) }], { sync: true })
  await engine.close()
}
