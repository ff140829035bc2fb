// Membership as data (PROTOCOL.md §3.1, §3.2): the nodes with their labels and status, and
// the ring. Plain JSON-safe objects so that gossip can carry them later. Only explicit
// commands change it; each change bumps the epoch and re-runs the claim from the previous ring.

import { assert } from '../../assert'
import { nodesMax } from '../../constants'
import { KvError, invalidArgument } from '../../errors'
import { claim } from '../ring/claim'
import { isValidPartitionCount } from '../ring/partition'
import { hostKey } from '../ring/labels'

export type NodeStatus = 'joining' | 'member' | 'leaving' | 'removed'
const statuses: readonly NodeStatus[] = ['joining', 'member', 'leaving', 'removed']

export interface NodeInfo {
  readonly id: number
  readonly host?: string
  readonly rack?: string
  readonly dc?: string
  readonly status: NodeStatus
}

export const membershipVersion = 1

export interface Membership {
  readonly version: 1
  readonly epoch: number
  readonly partitions: number
  readonly nodes: readonly NodeInfo[]
  /** owners[p]: the node id owning partition p. */
  readonly owners: readonly number[]
}

/** Nodes that take part in the claim (own partitions). */
export function claimingNodes(m: Pick<Membership, 'nodes'>): NodeInfo[] {
  return m.nodes.filter((n) => n.status === 'joining' || n.status === 'member')
}

export function createMembership(nodes: readonly Omit<NodeInfo, 'status'>[], partitions: number): Membership {
  const infos: NodeInfo[] = nodes.map((n) => ({ ...n, status: 'member' }))
  checkNodes(infos, partitions)
  return { version: 1, epoch: 1, partitions, nodes: sortNodes(infos), owners: claim(infos, partitions) }
}

export function addNode(m: Membership, node: Omit<NodeInfo, 'status'>): Membership {
  if (m.nodes.some((n) => n.id === node.id)) throw invalidArgument(`node id ${node.id} is already (or was) in the cluster`, { id: node.id })
  return change(m, [...m.nodes, { ...node, status: 'joining' }])
}

/** Marks a node leaving: it gives up its partitions (ownership handoff moves them). */
export function markLeaving(m: Membership, id: number): Membership {
  return change(m, m.nodes.map((n) => (n.id === id ? { ...n, status: 'leaving' as const } : n)))
}

/** Removes a node for good; its id stays listed and is never reused. */
export function removeNode(m: Membership, id: number): Membership {
  return change(m, m.nodes.map((n) => (n.id === id ? { ...n, status: 'removed' as const } : n)))
}

/** Promotes a joining node to member once handoff to it has finished (the ring is unchanged). */
export function markMember(m: Membership, id: number): Membership {
  const nodes = m.nodes.map((n) => (n.id === id && n.status === 'joining' ? { ...n, status: 'member' as const } : n))
  return { ...m, epoch: m.epoch + 1, nodes }
}

function change(m: Membership, nodes: NodeInfo[]): Membership {
  checkNodes(nodes, m.partitions)
  const claiming = claimingNodes({ nodes })
  if (claiming.length === 0) throw new KvError('KV_UNAVAILABLE', 'a cluster needs at least one node')
  return { ...m, epoch: m.epoch + 1, nodes: sortNodes(nodes), owners: claim(claiming, m.partitions, m.owners) }
}

function sortNodes(nodes: NodeInfo[]): NodeInfo[] {
  return [...nodes].sort((a, b) => a.id - b.id)
}

/** Of two views of the membership, the one to keep (gossip merge): the higher epoch. */
export function newerMembership(a: Membership, b: Membership): Membership {
  return b.epoch > a.epoch ? b : a
}

function checkNodes(nodes: readonly NodeInfo[], partitions: number): void {
  if (!isValidPartitionCount(partitions)) throw invalidArgument('partitions must be a power of two within limits', { partitions })
  if (nodes.length === 0 || nodes.length > nodesMax) throw invalidArgument(`a cluster has 1 to ${nodesMax} nodes`, { nodes: nodes.length })
  const ids = new Set<number>()
  const hostPlace = new Map<string, string>()
  for (const n of nodes) {
    if (!Number.isInteger(n.id) || n.id < 0 || n.id > 0xffffffff) throw invalidArgument('node ids are u32', { id: n.id })
    if (ids.has(n.id)) throw invalidArgument(`duplicate node id ${n.id}`, { id: n.id })
    ids.add(n.id)
    if (!statuses.includes(n.status)) throw invalidArgument(`unknown node status ${String(n.status)}`)
    for (const label of [n.host, n.rack, n.dc]) {
      if (label !== undefined && typeof label !== 'string') throw invalidArgument('node labels are strings', { id: n.id })
    }
    if (n.host !== undefined) {
      const place = hostKey(n)
      const prev = hostPlace.get(n.host)
      if (prev !== undefined && prev !== place) throw invalidArgument(`host ${n.host} is in two racks or dcs`, { host: n.host })
      hostPlace.set(n.host, place)
    }
  }
}

/** Parses and checks a membership carried as JSON (gossip, a file); KV_INVALID_ARGUMENT if malformed. */
export function parseMembership(x: unknown): Membership {
  if (typeof x !== 'object' || x === null) throw invalidArgument('membership must be an object')
  const m = x as Record<string, unknown>
  if (m['version'] !== membershipVersion) throw new KvError('KV_UNSUPPORTED_VERSION', `membership version ${String(m['version'])}`)
  const { epoch, partitions, nodes, owners } = m
  if (!Number.isSafeInteger(epoch) || (epoch as number) < 1) throw invalidArgument('membership epoch must be a positive integer')
  if (!Array.isArray(nodes) || !Array.isArray(owners)) throw invalidArgument('membership nodes and owners must be arrays')
  const infos = nodes.map((n: unknown): NodeInfo => {
    if (typeof n !== 'object' || n === null) throw invalidArgument('a node must be an object')
    const r = n as Record<string, unknown>
    return { ...(r as object), id: r['id'] as number, status: r['status'] as NodeStatus }
  })
  checkNodes(infos, partitions as number)
  if (owners.length !== partitions) throw invalidArgument('owners must list every partition')
  const claimingIds = new Set(claimingNodes({ nodes: infos }).map((n) => n.id))
  for (const o of owners) if (!claimingIds.has(o as number)) throw invalidArgument(`partition owner ${String(o)} is not a claiming node`)
  return { version: 1, epoch: epoch as number, partitions: partitions as number, nodes: sortNodes(infos), owners: owners as number[] }
}

/** Partition counts per claiming node (for status output and balance checks). */
export function ownershipCounts(m: Membership): Map<number, number> {
  const counts = new Map<number, number>(claimingNodes(m).map((n) => [n.id, 0]))
  for (const o of m.owners) {
    assert(counts.has(o), `owner ${o} is not claiming`)
    counts.set(o, counts.get(o)! + 1)
  }
  return counts
}
