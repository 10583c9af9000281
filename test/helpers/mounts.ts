/**
 * A small file system of its own for a test (tmpfs; the tests run as root): to fill a disk, or to
 * mount one read-only, without touching anything else on the machine.
 */
import { execFileSync } from 'node:child_process'
import { closeSync, openSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from './service-process.ts'

export interface SmallDisk {
  path: string
  /** Writes a file that takes every byte left; returns its path. */
  fill(): string
  remountReadOnly(): void
  remountReadWrite(): void
  unmount(): void
}

export function mountTmpfs(sizeKiB: number): SmallDisk {
  const dir = tempDir('printwarden-disk-')
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k`, 'tmpfs', dir.path])
  return {
    path: dir.path,
    fill() {
      const filler = join(dir.path, 'filler')
      const fd = openSync(filler, 'w')
      const chunk = Buffer.alloc(4096, 1)
      try {
        for (;;) writeSync(fd, chunk)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err
      } finally {
        closeSync(fd)
      }
      return filler
    },
    remountReadOnly: () => execFileSync('mount', ['-o', 'remount,ro', dir.path]),
    remountReadWrite: () => execFileSync('mount', ['-o', 'remount,rw', dir.path]),
    unmount() {
      execFileSync('umount', [dir.path])
      dir.remove()
    },
  }
}

export const removeFile = (path: string) => rmSync(path, { force: true })
