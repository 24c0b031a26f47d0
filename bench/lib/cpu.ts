import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: /proc reports CPU time in ticks of 10 ms on Linux. */
const TICK_MS = 10;

/** Milliseconds of CPU a run took, by party. */
export interface CpuParties {
  /** This process: Earshot under test, or the reference's minimal client. */
  app: number;
  /** The webhook sender process (0 without one). */
  senders: number;
  /** Every PostgreSQL process on this machine; null when none is visible (a remote server). */
  postgres: number | null;
}

/** utime + stime of a process, in ms; 0 once it has exited. */
function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may hold spaces: state is the first, utime the 12th, stime the 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

function postgresCpu(): Map<number, number> {
  const byPid = new Map<number, number>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return byPid;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
    } catch {
      continue;
    }
    byPid.set(Number(entry), processCpuMs(Number(entry)));
  }
  return byPid;
}

/**
 * Starts counting CPU by party; `stop()` answers what each spent since. Call `stop` before the run's
 * database connections close: a PostgreSQL backend that exits in between takes its count with it.
 * A backend that starts in between counts from zero. This process's count is every thread of it
 * (its event loop, the garbage collector's and libuv's threads).
 */
export function startCpuCount(senderPid?: number): { stop(): CpuParties } {
  const selfAt = process.cpuUsage();
  const sendersAt = senderPid ? processCpuMs(senderPid) : 0;
  const postgresAt = postgresCpu();
  return {
    stop() {
      const self = process.cpuUsage(selfAt);
      const postgresNow = postgresCpu();
      let postgres = 0;
      for (const [pid, ms] of postgresNow) postgres += ms - (postgresAt.get(pid) ?? 0);
      return {
        app: (self.user + self.system) / 1000,
        senders: senderPid ? processCpuMs(senderPid) - sendersAt : 0,
        postgres: postgresNow.size > 0 ? postgres : null,
      };
    },
  };
}
