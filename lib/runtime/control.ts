// The control plane between the supervisor and a node worker (RUNTIME.md §8-§10): plain
// messages over parentPort for peer-up/down and close, and the comlink API for stats and
// test hooks. Nothing here is on the data plane.

import type { IdlePolicy } from './receive_loop'
import type { PeerLink } from './peer'
import type { Endpoint, EndpointStats } from './endpoint'
import type { MessagePort } from 'node:worker_threads'
import type { ThreadTimes } from './thread'

export type ToNode =
  | { t: 'peer-up'; link: PeerLink }
  | { t: 'peer-down'; id: number; generation: number }
  | { t: 'close' }

export type FromNode = { t: 'ready' } | { t: 'setup-failed'; message: string }

export interface NodeWorkerData {
  id: number
  generation: number
  doorbell: SharedArrayBuffer
  links: PeerLink[]
  setupModule: string
  setupData: unknown
  idle: Partial<IdlePolicy>
  localRingBytes: number
  controlPort: MessagePort
  /** Nice levels the worker lowers its thread's priority by (RUNTIME.md §11); 0 = unchanged. */
  nice: number
}

/** What a node's setup module gets. */
export interface NodeContext {
  /** This node's endpoint id (1..N). */
  readonly id: number
  /** 1 at first start, +1 per restart. */
  readonly generation: number
  readonly endpoint: Endpoint
  /** The runtime's `setupData`, structured-cloned. */
  readonly data: unknown
}

/**
 * A setup module exports `setupNode(ctx)`: it registers the node's actors (and recovers its
 * state) before the node reads its mailboxes. It may return extra control-plane functions,
 * reachable through runtime.control(id).
 */
export type SetupNode = (ctx: NodeContext) => void | Record<string, (...args: never[]) => unknown> | Promise<void | Record<string, (...args: never[]) => unknown>>

/** The control API every node exposes over comlink. */
export interface NodeControl {
  stats(): EndpointStats & { id: number; generation: number; pendingRequests: number; threadNice: number | null; threadTimes: ThreadTimes | null }
  ping(): string
  /** Test hook: throws an uncaught error on the node's thread, which crashes it. */
  crash(): void
  /** Test hook: blocks the node's thread for `ms` (a busy loop, as a bug or a stalled call would), after answering. */
  block(ms: number): void
  /** Extra functions returned by the setup module. */
  call(name: string, ...args: unknown[]): unknown
}
