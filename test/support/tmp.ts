// Temporary directories for tests: created under the OS temp dir, removed when the test ends.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export function tempDir(t: { teardown(fn: () => void): void }, prefix = 'ringwood-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Awaits `p` and returns its rejection (or undefined if it resolved). */
export async function rejection(p: Promise<unknown>): Promise<{ code?: string } | undefined> {
  try {
    await p
  } catch (err) {
    return err as { code?: string }
  }
  return undefined
}

/** Runs `fn` and returns what it threw (or undefined if it returned). */
export function catchErr(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  return undefined
}

/** `catchErr`, typed for reading an error's code. */
export function thrown(fn: () => unknown): { code?: string } | undefined {
  return catchErr(fn) as { code?: string } | undefined
}

/** The `code` of what `fn` threw (undefined if it returned or threw something without one). */
export function errorCode(fn: () => unknown): string | undefined {
  return (catchErr(fn) as { code?: string } | undefined)?.code
}

/**
 * The time budget of a randomized run: `defaultMs` in `npm test`, or RINGWOOD_SOAK_SECONDS
 * (`npm run soak`) for a longer one. `steps` caps the operations of the short run only.
 */
export function soakBudget(defaultMs: number, steps: number): { until: number; steps: number } {
  const s = Number(process.env['RINGWOOD_SOAK_SECONDS'] ?? '')
  return s > 0 ? { until: Date.now() + s * 1000, steps: Number.POSITIVE_INFINITY } : { until: Date.now() + defaultMs, steps }
}
