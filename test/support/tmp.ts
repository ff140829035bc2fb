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

export function thrown(fn: () => unknown): { code?: string } | undefined {
  try {
    fn()
  } catch (err) {
    return err as { code?: string }
  }
  return undefined
}
