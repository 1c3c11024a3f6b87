// Where webhooks may go: public addresses only, unless an operator allows a network. A webhook URL is
// chosen by any participant, so without this the dispatcher would POST into the operator's own
// network (SSRF: the cloud metadata service, an admin port on loopback, a database on 10/8). The
// check runs when a subscription is created and again at every connection, on the address actually
// connected to: a name that resolved to a public address then and to 127.0.0.1 now (DNS rebinding)
// is refused at delivery.
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** The kinds of address refused by default, most specific first (metadata is also link-local). */
export const ADDRESS_CLASSES = {
  unspecified: ['0.0.0.0/8', '::/128'],
  metadata: ['169.254.169.254/32', 'fd00:ec2::254/128'],
  loopback: ['127.0.0.0/8', '::1/128'],
  link_local: ['169.254.0.0/16', 'fe80::/10'],
  private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'],
  unique_local: ['fc00::/7'],
  shared: ['100.64.0.0/10'],
  multicast: ['224.0.0.0/4', 'ff00::/8'],
  reserved: ['240.0.0.0/4'],
} as const;

export type AddressClass = keyof typeof ADDRESS_CLASSES;

/** What the class is called in messages. */
export const ADDRESS_CLASS_NAMES: Record<AddressClass, string> = {
  unspecified: 'an unspecified (0.0.0.0 or ::)',
  metadata: 'a cloud metadata service',
  loopback: 'a loopback',
  link_local: 'a link-local',
  private: 'a private network (RFC 1918)',
  unique_local: 'a unique local IPv6 (fc00::/7)',
  shared: 'a carrier-grade NAT (100.64.0.0/10)',
  multicast: 'a multicast',
  reserved: 'a reserved',
};

/** A webhook target refused: which host, the address it is or resolved to, and its class. */
export class WebhookTargetRefused extends Error {
  override name = 'WebhookTargetRefused';
  constructor(
    readonly host: string,
    readonly address: string,
    readonly addressClass: AddressClass,
  ) {
    super(
      `${host === address ? address : `${host} resolves to ${address}, which`} is ${ADDRESS_CLASS_NAMES[addressClass]} address; webhooks go to public addresses only (WEBHOOK_ALLOWED_NETWORKS allows a network)`,
    );
  }
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to all its addresses (the system resolver, as connections use). */
export type HostResolver = (host: string) => Promise<ResolvedAddress[]>;

const systemResolver: HostResolver = async (host) =>
  (await dnsLookup(host, { all: true, verbatim: true })).map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));

function blockListOf(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address, bits] = cidr.split('/');
    const family = isIP(address ?? '');
    if (!family) throw new RangeError(`"${cidr}" is not an IP address or CIDR range`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    list.addSubnet(address!, bits === undefined ? (family === 6 ? 128 : 32) : Number(bits), type);
  }
  return list;
}

/** Whether `entry` is an address or a CIDR range (`10.0.0.0/8`, `fd00::/8`). */
export function isNetwork(entry: string): boolean {
  const [address, bits, extra] = entry.split('/');
  const family = isIP(address ?? '');
  if (!family || extra !== undefined) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
}

export class WebhookTargetPolicy {
  private readonly classes: [AddressClass, BlockList][];
  private readonly allowed: BlockList;

  /**
   * @param allowedNetworks addresses or CIDR ranges accepted although their class is refused
   *   (WEBHOOK_ALLOWED_NETWORKS), e.g. `10.20.0.0/16` for a receiver on the operator's network.
   */
  constructor(
    readonly allowedNetworks: readonly string[] = [],
    private readonly resolve: HostResolver = systemResolver,
  ) {
    this.classes = Object.entries(ADDRESS_CLASSES).map(([name, cidrs]) => [name as AddressClass, blockListOf(cidrs)]);
    this.allowed = blockListOf(allowedNetworks);
  }

  /** The refused class of an IP address, or undefined when a webhook may go there. */
  classify(address: string): AddressClass | undefined {
    const family = isIP(address);
    if (!family) throw new RangeError(`"${address}" is not an IP address`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (this.allowed.check(address, type)) return undefined;
    return this.classes.find(([, list]) => list.check(address, type))?.[0];
  }

  /**
   * The address to connect to for `host` (a name or an IP literal), after checking every address
   * it resolves to: one refused address refuses the name, so a resolver cannot slip one in beside
   * public ones. Throws `WebhookTargetRefused`, or the resolver's error.
   */
  async addressFor(host: string): Promise<ResolvedAddress> {
    const bare = host.replace(/^\[(.*)\]$/, '$1');
    const literal = isIP(bare);
    const addresses = literal ? [{ address: bare, family: literal as 4 | 6 }] : await this.resolve(bare);
    if (addresses.length === 0) throw new Error(`${bare} resolves to no address`);
    for (const { address } of addresses) {
      const refused = this.classify(address);
      if (refused) throw new WebhookTargetRefused(bare, address, refused);
    }
    return addresses[0]!;
  }

  /**
   * The check when a subscription is created: refused if its host is or resolves to a refused
   * address. A name that does not resolve now (or not within `timeoutMs`) is accepted: every
   * delivery checks again.
   */
  async checkUrl(url: string, timeoutMs = 3_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    // A slow resolver does not hold the request up for long: the name counts as unresolved.
    const slow = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    try {
      await Promise.race([this.addressFor(new URL(url).hostname), slow]);
    } catch (error) {
      if (error instanceof WebhookTargetRefused) throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}
