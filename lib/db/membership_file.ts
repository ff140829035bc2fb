// The cluster's membership on disk (PROTOCOL.md §9.4): `${dir}/membership.json`, written
// when the cluster is created, read at every open. Options that contradict it are refused.

import fs from 'node:fs'
import path from 'node:path'
import { invalidArgument } from '../errors'
import { createMembership, parseMembership, claimingNodes, type Membership } from '../cluster'

export function membershipPath(dir: string): string {
  return path.join(dir, 'membership.json')
}

/**
 * The stored membership, or a new one of `nodes` nodes (ids 1..nodes) and `partitions`.
 * `explicit` says which of those the caller gave (a default may differ between machines).
 */
export function loadOrCreateMembership(dir: string, nodes: number, partitions: number, explicit: { nodes: boolean; partitions: boolean }): Membership {
  const file = membershipPath(dir)
  if (fs.existsSync(file)) {
    const m = parseMembership(JSON.parse(fs.readFileSync(file, 'utf8')))
    const n = claimingNodes(m).length
    if (explicit.nodes && n !== nodes) throw invalidArgument(`${dir} holds a cluster of ${n} nodes, not ${nodes}`, { nodes, stored: n })
    if (explicit.partitions && m.partitions !== partitions) throw invalidArgument(`${dir} holds a cluster of ${m.partitions} partitions, not ${partitions}`, { partitions, stored: m.partitions })
    return m
  }
  fs.mkdirSync(dir, { recursive: true })
  const m = createMembership(Array.from({ length: nodes }, (_, i) => ({ id: i + 1 })), partitions)
  const tmp = `${file}.tmp`
  fs.writeFileSync(tmp, JSON.stringify(m))
  fs.renameSync(tmp, file)
  return m
}
