// The runtime facade: starts the supervisor's endpoint and the node workers, and hands out
// the supervisor's endpoint (to send to nodes), the control plane and close(). Holds no logic.

import fs from 'node:fs'
import path from 'node:path'
import type * as Comlink from 'comlink'
import { assertInteger } from '../assert'
import { endpointsMax, mailboxRingBytesDefault, mailboxRingBytesMax, mailboxRingBytesMin, requestTimeoutMsMax } from '../constants'
import { invalidArgument } from '../errors'
import { systemClock, type Clock } from '../util'
import type { NodeControl } from './control'
import { createDoorbell } from './doorbell'
import { Endpoint, type PeerListener } from './endpoint'
import type { IdlePolicy } from './receive_loop'
import { Supervisor, type CallOptions } from './supervisor'
import { checkNodeNice } from './thread'

export interface RuntimeOptions {
  /** Node workers to start (endpoint ids 1..nodes). */
  nodes: number
  /** Absolute path of a compiled module exporting setupNode(ctx); default: the echo node. */
  setupModule?: string
  /** Passed to every node's setup (structured-cloned). */
  setupData?: unknown
  /** Data bytes of each mailbox ring (a power of two). */
  ringBytes?: number
  /**
   * Nice levels each node worker lowers its thread's priority by, relative to the thread that
   * started the runtime (RUNTIME.md §11; Linux, else ignored). Default 0.
   */
  nodeNice?: number
  idle?: Partial<IdlePolicy>
  clock?: Clock
  restartBackoffMsMin?: number
  restartBackoffMsMax?: number
  /** The supervisor's watchdog (RUNTIME.md §8): a node that answers no heartbeat for this long is restarted. 0 (default): off. */
  hangTimeoutMs?: number
  onNodeExit?: (id: number, generation: number, exitCode: number) => void
}

export class Runtime {
  private constructor(
    /** The supervisor's endpoint (id 0): send and request to nodes 1..N from here. */
    readonly endpoint: Endpoint,
    private readonly supervisor: Supervisor,
    readonly nodes: number,
  ) {}

  static async start(opts: RuntimeOptions): Promise<Runtime> {
    if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > endpointsMax - 1) {
      throw invalidArgument(`nodes must be an integer in [1, ${endpointsMax - 1}]`, { nodes: opts.nodes })
    }
    const ringBytes = opts.ringBytes ?? mailboxRingBytesDefault
    if (!Number.isInteger(Math.log2(ringBytes)) || ringBytes < mailboxRingBytesMin || ringBytes > mailboxRingBytesMax) {
      throw invalidArgument(`ringBytes must be a power of two in [${mailboxRingBytesMin}, ${mailboxRingBytesMax}]`, { ringBytes })
    }
    const nice = checkNodeNice(opts.nodeNice ?? 0)
    const hangTimeoutMs = opts.hangTimeoutMs ?? 0
    if (!Number.isInteger(hangTimeoutMs) || hangTimeoutMs < 0 || hangTimeoutMs > requestTimeoutMsMax) {
      throw invalidArgument(`hangTimeoutMs must be an integer in [0, ${requestTimeoutMsMax}]`, { hangTimeoutMs })
    }
    // libuv's thread pool starts all its threads at the first queued job of the process, and
    // they inherit the nice value of the thread that queued it: queue one from here before the
    // nodes lower their priority, so that the application's pool keeps its own (§11).
    if (nice > 0) await fs.promises.access(__dirname)
    const clock = opts.clock ?? systemClock
    const idle = opts.idle ?? {}
    const endpoint = new Endpoint({ id: 0, generation: 1, doorbell: createDoorbell(), clock, idle, localRingBytes: ringBytes })
    const supervisor = new Supervisor(endpoint, {
      nodes: opts.nodes,
      setupModule: opts.setupModule ?? path.join(__dirname, 'echo_node.js'),
      setupData: opts.setupData,
      ringBytes, nice, idle, clock,
      restartBackoffMsMin: opts.restartBackoffMsMin,
      restartBackoffMsMax: opts.restartBackoffMsMax,
      hangTimeoutMs,
      onNodeExit: opts.onNodeExit,
    })
    const rt = new Runtime(endpoint, supervisor, opts.nodes)
    try {
      await supervisor.start()
    } catch (err) {
      await supervisor.close()
      throw err
    }
    return rt
  }

  /** Node ids: 1..nodes. */
  nodeIds(): number[] {
    return Array.from({ length: this.nodes }, (_, i) => i + 1)
  }

  /** Messages can be sent to node `id`: its worker is running or starting (what is sent waits for its setup). */
  isUp(id: number): boolean {
    return this.endpoint.isUp(id)
  }

  /** Node `id` has finished its setup and runs: its control functions answer. */
  isReady(id: number): boolean {
    return this.supervisor.state(id) === 'up'
  }

  /** Node up/down events, as seen by the supervisor's endpoint. */
  onPeer(listener: PeerListener): () => void {
    return this.endpoint.onPeer(listener)
  }

  waitUp(id: number): Promise<void> {
    assertInteger(id, 1, this.nodes, 'node id')
    return this.supervisor.waitUp(id)
  }

  generationOf(id: number): number {
    return this.supervisor.generationOf(id)
  }

  /** Why node `id`'s last worker ended: 'exited with code N', or the watchdog's reason; undefined if none has. */
  lastExitOf(id: number): string | undefined {
    return this.supervisor.lastExitOf(id)
  }

  /** The control plane of node `id` (comlink): stats, ping, crash, setup's functions. */
  control(id: number): Comlink.Remote<NodeControl> {
    return this.supervisor.control(id)
  }

  /** A control-plane call to node `id`, bounded by `timeoutMs` (Supervisor.call). */
  call<T>(id: number, what: string, f: (c: Comlink.Remote<NodeControl>) => Promise<T>, timeoutMs: number, options?: CallOptions): Promise<T> {
    try {
      assertInteger(id, 1, this.nodes, 'node id')
    } catch (err) {
      return Promise.reject(err)
    }
    return this.supervisor.call(id, what, f, timeoutMs, options)
  }

  /** Stops restarts and the watchdog, fails waitUp with KV_CLOSED: for stopping nodes cleanly before close() (RUNTIME.md §9). */
  beginClose(): void {
    this.supervisor.beginClose()
  }

  /** Test hook: kills node `id` (as a crash); it is restarted after the backoff. */
  kill(id: number): Promise<void> {
    assertInteger(id, 1, this.nodes, 'node id')
    return this.supervisor.kill(id)
  }

  /** Node threads still running. */
  threads(): number {
    return this.supervisor.threads()
  }

  /** RUNTIME.md §9: delivers or fails everything in flight; resolves when no thread is left. */
  close(): Promise<{ requestsFailed: number; messagesUndelivered: number }> {
    return this.supervisor.close()
  }
}
