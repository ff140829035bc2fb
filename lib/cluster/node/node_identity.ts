// A node's identity on disk (PROTOCOL.md §9.4): the node id file, and the incarnation that
// makes its replica id fresh after an unclean stop (so a lost, acknowledged write never has
// its dot reused, §4.1). Opens the node's engine, breaking the lock of a crashed worker.

import fs from 'node:fs'
import path from 'node:path'
import { nodesMax } from '../../constants'
import { KvError } from '../../errors'
import { Engine, type Durability } from '../../storage'
import { readVarint, varintLength, writeVarint } from '../../util/varint'
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

export interface OpenedNode {
  readonly engine: Engine
  readonly incarnation: number
  readonly replicaId: number
}

/** Checks (or writes) the node id file, opens the engine, and settles the incarnation. */
export async function openNode(dir: string, id: number, durability: Durability): Promise<OpenedNode> {
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
  const engine = await Engine.open(engineDir, { durability })
  const raw = engine.getSync(INCARNATION)
  let incarnation = raw === undefined ? 0 : readVarint(raw, 0)
  const clean = engine.getSync(CLEAN) !== undefined
  if (raw === undefined || (!clean && durability !== 'sync')) {
    incarnation++
    const b = Buffer.allocUnsafe(varintLength(incarnation))
    writeVarint(b, 0, incarnation)
    await engine.put(INCARNATION, b, { sync: true })
  }
  if (clean) await engine.del(CLEAN, { sync: true })
  return { engine, incarnation, replicaId: replicaIdOf(id, incarnation) }
}

/** A graceful stop: marks the shutdown clean (synced), then closes the engine. */
export async function closeNode(engine: Engine): Promise<void> {
  if (engine.isClosed) return
  await engine.put(CLEAN, Buffer.alloc(0), { sync: true })
  await engine.close()
}
