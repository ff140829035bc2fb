// Failure suspicion for routing (PROTOCOL.md §3.3): worker exits and replica timeouts make a
// node unhealthy for a while. This never changes membership. `FailureDetector` is the seam
// for gossip and a phi accrual detector later; the driver feeds events and passes nowMs
// from its Clock.

import { suspectAfterTimeouts, suspectForMs } from '../../constants'

export interface FailureDetector {
  isHealthy(node: number, nowMs: number): boolean
}

interface NodeHealth {
  exited: boolean
  consecutiveTimeouts: number
  suspectedUntilMs: number
}

export class SuspicionTable implements FailureDetector {
  private readonly nodes = new Map<number, NodeHealth>()

  constructor(
    private readonly afterTimeouts = suspectAfterTimeouts,
    private readonly forMs = suspectForMs,
  ) {}

  private get(node: number): NodeHealth {
    let h = this.nodes.get(node)
    if (h === undefined) {
      h = { exited: false, consecutiveTimeouts: 0, suspectedUntilMs: 0 }
      this.nodes.set(node, h)
    }
    return h
  }

  workerExited(node: number): void {
    this.get(node).exited = true
  }

  /** Marked exited (workerExited, and no workerStarted since). */
  isExited(node: number): boolean {
    return this.nodes.get(node)?.exited ?? false
  }

  /** Clears the exited mark alone; timeouts and suspicion stay (an admin stop that was not sent). */
  clearExited(node: number): void {
    this.get(node).exited = false
  }

  workerStarted(node: number): void {
    const h = this.get(node)
    h.exited = false
    h.consecutiveTimeouts = 0
    h.suspectedUntilMs = 0
  }

  replicaTimeout(node: number, nowMs: number): void {
    const h = this.get(node)
    h.consecutiveTimeouts++
    if (h.consecutiveTimeouts >= this.afterTimeouts) h.suspectedUntilMs = nowMs + this.forMs
  }

  replyReceived(node: number): void {
    const h = this.get(node)
    h.consecutiveTimeouts = 0
    h.suspectedUntilMs = 0
  }

  isHealthy(node: number, nowMs: number): boolean {
    const h = this.nodes.get(node)
    if (h === undefined) return true
    return !h.exited && nowMs >= h.suspectedUntilMs
  }
}
