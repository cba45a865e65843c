import * as fs from 'node:fs';

/** A volume the operator named (FILER_VOLUMES): a directory and the id it has on every host. */
export interface HashVolume {
  root: string;
  id: string;
}

/** A volume as found on this host: its root resolved, and the device that root is on here. */
export interface MountedVolume extends HashVolume {
  dev: number;
}

/**
 * The configured volumes present on this host, roots resolved (realpath) and with their device.
 * A root that does not exist here (not mounted on this host) is left out: its files are simply
 * not cached, the job still runs. Checked per call, so a volume mounted later is picked up.
 */
export function mountedVolumes(volumes: readonly HashVolume[]): MountedVolume[] {
  const out: MountedVolume[] = [];
  for (const v of volumes) {
    try {
      const root = fs.realpathSync(v.root);
      out.push({ root, id: v.id, dev: fs.statSync(root).dev });
    } catch {
      // Not here: nothing of it is cached on this host.
    }
  }
  return out;
}
