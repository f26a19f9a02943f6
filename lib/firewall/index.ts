/** Picks a backend by name. */
import { FirewallError, parsePorts, type BackendOptions, type BanRequest, type FirewallBackend } from './backend';
import { DryRunBackend } from './dry-run';
import { ActionBackend } from './action';
import { CommandBackend } from './command';
import { HostsDenyBackend } from './hostsdeny';
import { IpsetBackend } from './ipset';
import { IptablesBackend } from './iptables';
import { NftablesBackend } from './nftables';
import { RouteBackend } from './route';
import { ShorewallBackend } from './shorewall';
import { UfwBackend } from './ufw';
import { FirewalldBackend } from './firewalld';

export { FirewallError, parsePorts, DryRunBackend, NftablesBackend, IpsetBackend, IptablesBackend, RouteBackend, HostsDenyBackend, CommandBackend, ActionBackend, UfwBackend, FirewalldBackend, ShorewallBackend, type BackendOptions, type BanRequest, type FirewallBackend };
export { elementsOf } from './nftables';

/** Every backend name of SPEC.md. */
export const BACKENDS = ['nftables', 'iptables-ipset', 'iptables', 'ufw', 'firewalld', 'shorewall', 'route', 'hostsdeny', 'fail2ban-action', 'command', 'dry-run'] as const;

export function createBackend(name: string, options: BackendOptions): FirewallBackend {
  switch (name) {
    case 'dry-run':
      return new DryRunBackend();
    case 'nftables':
      return new NftablesBackend(options);
    case 'iptables-ipset':
      return new IpsetBackend(options);
    case 'iptables':
      return new IptablesBackend(options);
    case 'route':
      return new RouteBackend(options);
    case 'ufw':
      return new UfwBackend(options);
    case 'firewalld':
      return new FirewalldBackend(options);
    case 'shorewall':
      return new ShorewallBackend(options);
    case 'hostsdeny':
      return new HostsDenyBackend(options);
    case 'command':
      return new CommandBackend(options);
    case 'fail2ban-action':
      return new ActionBackend(options);
    default:
      throw new FirewallError(`unknown backend "${name}": choose one of ${BACKENDS.join(', ')}`);
  }
}
export { BanManager, InvalidAddressError, ProtectedAddressError, type BanInput, type ManagerOptions } from './manager';
export { selfConflict } from './self';
export { killConnections } from './connections';
export { banLogLine } from './log-line';
