// Targets of one request under sloppy quorum (PROTOCOL.md §2.4): healthy primaries, and for
// each unhealthy primary the next healthy fallback carrying a hint naming that primary.

export interface Target {
  readonly node: number
  /** Set when this node stands in for a primary: the hint's intended owner. */
  readonly hintFor?: number | undefined
}

export interface TargetSelection {
  /** Primaries first in preference order, each down one replaced in place by a fallback. */
  readonly targets: readonly Target[]
  /** Healthy fallbacks not used, in walk order: spares for replicas that do not answer. */
  readonly spares: readonly number[]
}

export function selectTargets(primaries: readonly number[], fallbacks: readonly number[], isHealthy: (node: number) => boolean): TargetSelection {
  const healthyFallbacks = fallbacks.filter(isHealthy)
  let next = 0
  const targets: Target[] = []
  for (const p of primaries) {
    if (isHealthy(p)) targets.push({ node: p })
    else if (next < healthyFallbacks.length) targets.push({ node: healthyFallbacks[next++]!, hintFor: p })
  }
  return { targets, spares: healthyFallbacks.slice(next) }
}

/**
 * The coordinator among the targets (§5.2): the local node if it is a healthy primary,
 * else the first healthy primary, else the first target. Returns undefined with no targets.
 */
export function chooseCoordinator(targets: readonly Target[], self: number): number | undefined {
  const primaries = targets.filter((t) => t.hintFor === undefined)
  if (primaries.some((t) => t.node === self)) return self
  return (primaries[0] ?? targets[0])?.node
}

/** Targets reordered so that the coordinator is first (the put machine's expectation). */
export function coordinatorFirst(targets: readonly Target[], coordinator: number): Target[] {
  const i = targets.findIndex((t) => t.node === coordinator)
  if (i <= 0) return [...targets]
  return [targets[i]!, ...targets.slice(0, i), ...targets.slice(i + 1)]
}
