// Helpers for the cluster tests: quiet checks inside randomized loops (one tap assertion per
// failure, plus one pass per test), so a run prints little unless something breaks.

import type { Test } from 'tap'

export class Checks {
  count = 0
  failures = 0

  constructor(private readonly t: Test) {}

  ok(cond: unknown, msg = "should be ok", extra?: Record<string, unknown>): void {
    this.count++
    if (!cond && this.failures++ < 20) this.t.ok(cond, msg, extra === undefined ? {} : { diagnostic: true, ...extra })
  }

  same(a: unknown, b: unknown, msg = "should be equivalent"): void {
    this.ok(JSON.stringify(a) === JSON.stringify(b), msg, { found: a, wanted: b })
  }

  done(): void {
    this.t.equal(this.failures, 0, `${this.count} checks`)
  }
}
