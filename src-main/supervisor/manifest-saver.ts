/**
 * Keeping a running ensemble's D/ensemble.json current (ports, pids, settings, whose process
 * supervises it): written at once after a start or stop, and at most every 50 ms after other
 * changes. Other zoolab commands read it; the ensemble itself does not depend on it.
 */
import { writeManifest } from './workspace';
import type { Workspace } from './workspace';

export class ManifestSaver {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ws: Workspace,
    /** each server's pid (null: not running) */
    private readonly pids: () => Map<number, number | null>,
    private readonly isClosed: () => boolean,
    /** the folder goes on shutdown: nothing is written once closed */
    private readonly removeDir: boolean,
  ) {}

  save(): void {
    if (this.removeDir && this.isClosed()) return;
    try {
      writeManifest(this.ws, this.pids(), { supervisorPid: this.isClosed() ? null : process.pid, detached: false });
    } catch {
      // the manifest is for other zoolab commands; the ensemble itself does not depend on it
    }
  }

  /** save within 50 ms (many changes come in bursts) */
  saveSoon(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.isClosed()) this.save();
    }, 50);
    this.timer.unref();
  }

  /** The servers were handed over to themselves: record that no process supervises them. */
  saveDetached(): void {
    if (this.timer) clearTimeout(this.timer);
    writeManifest(this.ws, this.pids(), { supervisorPid: null, detached: true });
  }
}
