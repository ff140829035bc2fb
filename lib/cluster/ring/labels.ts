// Placement labels of a node (PROTOCOL.md §2.2, §2.3): data center, rack, host. A missing
// label counts as one shared value, so a cluster without labels is spread over nodes only.
// A host belongs to one rack and dc; racks are named within their dc.

export interface PlacedNode {
  readonly id: number
  readonly host?: string | undefined
  readonly rack?: string | undefined
  readonly dc?: string | undefined
}

export function dcKey(n: PlacedNode): string {
  return n.dc ?? ''
}

export function rackKey(n: PlacedNode): string {
  return `${n.dc ?? ''}\u0000${n.rack ?? ''}`
}

export function hostKey(n: PlacedNode): string {
  return `${n.dc ?? ''}\u0000${n.rack ?? ''}\u0000${n.host ?? ''}`
}

/**
 * Round-robin merge: the first of each list, then the second of each, and so on, skipping
 * lists that ran out.
 */
export function roundRobin<T>(lists: readonly (readonly T[])[]): T[] {
  const out: T[] = []
  for (let i = 0; ; i++) {
    let any = false
    for (const l of lists) {
      const x = l[i]
      if (x !== undefined) {
        out.push(x)
        any = true
      }
    }
    if (!any) return out
  }
}

function groupSorted<T>(items: readonly T[], key: (x: T) => string): T[][] {
  const m = new Map<string, T[]>()
  for (const x of items) {
    const k = key(x)
    const g = m.get(k)
    if (g === undefined) m.set(k, [x])
    else g.push(x)
  }
  return [...m.keys()].sort().map((k) => m.get(k)!)
}

/**
 * Label-interleaved order (§2.2): deal round-robin from the dcs, each dc from its racks,
 * each rack from its hosts, each host its nodes by id. Consecutive entries differ in the
 * widest label the counts allow.
 */
export function interleavedOrder<T extends PlacedNode>(nodes: readonly T[]): T[] {
  const byId = [...nodes].sort((a, b) => a.id - b.id)
  return roundRobin(
    groupSorted(byId, dcKey).map((dc) =>
      roundRobin(groupSorted(dc, rackKey).map((rack) => roundRobin(groupSorted(rack, hostKey)))),
    ),
  )
}
