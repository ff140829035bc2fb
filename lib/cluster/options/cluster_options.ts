// Options of open() for the replicated core (PROTOCOL.md §7): defaults and validation, before
// any worker starts. Storage options are checked by lib/storage; the caller passes their
// names in `extraKeys` so that they are not "unknown".

import { invalidArgument } from '../../errors'
import { nodesMax, nodesMinDefault, partitionsDefault, readQuorumDefault, replicasDefault, requestTimeoutMsDefault, requestTimeoutMsMax, writeQuorumDefault } from '../../constants'
import { isValidPartitionCount } from '../ring/partition'
import { checkReplicas, levelNames, resolveLevel, type LevelName } from '../coordinator/levels'
import type { ConflictPolicy, Resolver } from '../versioning/conflict_policy'
import { checkKnownKeys, integerIn, optionsObject } from './check'

export type ClusterDurability = 'none' | 'interval' | 'sync'

export interface ClusterOptions {
  dir: string
  nodes?: number
  replicas?: number
  readQuorum?: number | LevelName
  writeQuorum?: number | LevelName
  durability?: ClusterDurability
  partitions?: number
  /** 'siblings' (default), 'lww' (opt-in), or a resolver function run in the coordinator. */
  conflict?: 'siblings' | 'lww' | Resolver
  timeoutMs?: number
}

export interface ResolvedClusterOptions {
  readonly dir: string
  readonly nodes: number
  readonly replicas: number
  readonly readQuorum: number
  readonly writeQuorum: number
  readonly durability: ClusterDurability
  readonly partitions: number
  readonly conflict: ConflictPolicy
  readonly timeoutMs: number
}

const known = ['dir', 'nodes', 'replicas', 'readQuorum', 'writeQuorum', 'durability', 'partitions', 'conflict', 'timeoutMs']

export function resolveClusterOptions(input: unknown, cores: number, extraKeys: readonly string[] = []): ResolvedClusterOptions {
  const o = optionsObject(input, 'open')
  checkKnownKeys(o, [...known, ...extraKeys], 'open')
  if (typeof o['dir'] !== 'string' || o['dir'] === '') throw invalidArgument('dir must be a non-empty string')
  const nodes = integerIn(o['nodes'] ?? Math.max(nodesMinDefault, cores), 1, nodesMax, 'nodes')
  const partitions = (o['partitions'] ?? partitionsDefault) as number
  if (!isValidPartitionCount(partitions)) throw invalidArgument('partitions must be a power of two within limits', { partitions })
  if (nodes > partitions) throw invalidArgument(`nodes (${nodes}) exceed partitions (${partitions})`, { nodes, partitions })
  const replicas = (o['replicas'] ?? replicasDefault) as number
  checkReplicas(replicas, nodes)
  const readQuorum = resolveLevel(quorumArg(o['readQuorum'] ?? Math.min(readQuorumDefault, replicas), 'readQuorum'), replicas, 'readQuorum')
  const writeQuorum = resolveLevel(quorumArg(o['writeQuorum'] ?? Math.min(writeQuorumDefault, replicas), 'writeQuorum'), replicas, 'writeQuorum')
  const durability = o['durability'] ?? 'interval'
  if (durability !== 'none' && durability !== 'interval' && durability !== 'sync') {
    throw invalidArgument(`durability must be 'none', 'interval' or 'sync'`, { durability: String(durability) })
  }
  const timeoutMs = integerIn(o['timeoutMs'] ?? requestTimeoutMsDefault, 1, requestTimeoutMsMax, 'timeoutMs')
  return { dir: o['dir'], nodes, replicas, readQuorum, writeQuorum, durability, partitions, conflict: conflictPolicy(o['conflict']), timeoutMs }
}

export function quorumArg(v: unknown, name: string): number | LevelName {
  if (typeof v === 'number' || (typeof v === 'string' && (levelNames as readonly string[]).includes(v))) return v as number | LevelName
  throw invalidArgument(`${name} must be a number or one of ${levelNames.join(', ')}`, { [name]: String(v) })
}

function conflictPolicy(v: unknown): ConflictPolicy {
  if (v === undefined || v === 'siblings') return { kind: 'siblings' }
  if (v === 'lww') return { kind: 'lww' }
  if (typeof v === 'function') return { kind: 'resolver', resolve: v as Resolver }
  throw invalidArgument(`conflict must be 'siblings', 'lww' or a resolver function`)
}
