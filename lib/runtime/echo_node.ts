// The default setup module of a node: hosts the echo actor (echo_actor.ts) and nothing else.

import type { NodeContext } from './control'
import { registerEcho } from './echo_actor'

export function setupNode(ctx: NodeContext): void {
  registerEcho(ctx.endpoint)
}
