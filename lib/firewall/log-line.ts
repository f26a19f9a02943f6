/** What firewall-ban writes to Node-RED's log for each ban and unban: the admin's first view of a jail at work. */
import { formatDuration } from '../duration';
import type { FirewallEvent } from '../messages';

/**
 * One line for a ban or an unban (address, jail, ban time and its end, backend); null for other events,
 * which have their own status and Catch reports. `until` is shown in local time, as the log's own stamp.
 */
export function banLogLine(e: FirewallEvent): string | null {
  if (e.event === 'ban') {
    const end = e.until === null ? 'for ever' : `for ${formatDuration(e.bantime)}, until ${localTime(e.until)}`;
    return `ban ${e.ip} (jail ${e.jail}) ${end}, backend ${e.backend}`;
  }
  if (e.event === 'unban') return `unban ${e.ip} (jail ${e.jail}), backend ${e.backend}`;
  return null;
}

function localTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
