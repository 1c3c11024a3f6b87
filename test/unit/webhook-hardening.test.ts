// The pieces of webhook hardening that need no database: Standard Webhooks signatures (against the
// scheme's published test vector), the target policy's address classes and allow list, the sealed
// secrets' box, and the settings that configure them.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadAppConfig } from '../../app/config/app-config.js';
import { SecretBox, SecretUnreadableError } from '../../domain/streams/secret-box.js';
import { newWebhookSecret, signWebhook, verifyWebhook, webhookHeaders } from '../../domain/streams/webhook-signature.js';
import { WebhookTargetPolicy, WebhookTargetRefused } from '../../domain/streams/webhook-targets.js';

describe('Standard Webhooks signatures', () => {
  it('matches the scheme’s published test vector', () => {
    // From the Standard Webhooks reference libraries' tests.
    const signature = signWebhook(
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'msg_p5jXN8AQM9LWM0D4loKWxJek',
      1614265330,
      '{"test": 2432232314}',
    );
    expect(signature).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('verifies within the window only, any of several signatures, and nothing with a header missing', () => {
    const secret = newWebhookSecret();
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    const now = Date.UTC(2026, 0, 1);
    const headers = webhookHeaders(secret, 'sub:1', '{"a":1}', now);
    expect(headers['webhook-timestamp']).toBe(String(now / 1000));
    expect(verifyWebhook(secret, '{"a":1}', headers, { now })).toEqual({ ok: true });
    expect(verifyWebhook(secret, '{"a":1}', headers, { now: now + 300_000 })).toEqual({ ok: true });
    expect(verifyWebhook(secret, '{"a":1}', headers, { now: now + 301_000 })).toEqual({ ok: false, reason: 'too_old' });
    expect(verifyWebhook(secret, '{"a":1}', headers, { now: now + 60_000, toleranceSeconds: 30 })).toEqual({
      ok: false,
      reason: 'too_old',
    });
    expect(verifyWebhook(secret, '{"a":1}', headers, { now: now - 301_000 })).toEqual({ ok: false, reason: 'too_new' });
    const rotated = { ...headers, 'webhook-signature': `v1,AAAA ${headers['webhook-signature']}` };
    expect(verifyWebhook(secret, '{"a":1}', rotated, { now })).toEqual({ ok: true });
    const { 'webhook-id': _, ...noId } = headers;
    expect(verifyWebhook(secret, '{"a":1}', noId, { now })).toEqual({ ok: false, reason: 'missing_headers' });
    expect(verifyWebhook(secret, '{"a":1}', { ...headers, 'webhook-timestamp': 'soon' }, { now })).toEqual({
      ok: false,
      reason: 'bad_timestamp',
    });
  });

  it('uses a secret without the whsec_ prefix as its UTF-8 bytes', () => {
    const headers = webhookHeaders('a-secret-of-my-own-choosing', 'sub:2', 'x');
    expect(verifyWebhook('a-secret-of-my-own-choosing', 'x', headers)).toEqual({ ok: true });
    expect(verifyWebhook(`whsec_${Buffer.from('a-secret-of-my-own-choosing').toString('base64')}`, 'x', headers)).toEqual({ ok: true });
  });
});

describe('webhook target policy', () => {
  const policy = new WebhookTargetPolicy();

  it('refuses private, loopback, link-local, metadata, CGNAT and unspecified addresses, IPv4 and IPv6', () => {
    const cases: [string, string | undefined][] = [
      ['10.0.0.1', 'private'],
      ['172.16.5.4', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.1.1', 'private'],
      ['127.0.0.1', 'loopback'],
      ['127.255.0.1', 'loopback'],
      ['::1', 'loopback'],
      ['169.254.169.254', 'metadata'],
      ['169.254.1.1', 'link_local'],
      ['fe80::1', 'link_local'],
      ['febf::1', 'link_local'],
      ['fc00::1', 'unique_local'],
      ['fd00:ec2::254', 'metadata'],
      ['100.64.0.1', 'shared'],
      ['100.127.255.254', 'shared'],
      ['0.0.0.0', 'unspecified'],
      ['::', 'unspecified'],
      ['224.0.0.1', 'multicast'],
      ['255.255.255.255', 'reserved'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:a00:1', 'private'],
      // Public: accepted.
      ['8.8.8.8', undefined],
      ['172.32.0.1', undefined],
      ['100.128.0.1', undefined],
      ['2001:4860:4860::8888', undefined],
    ];
    expect(cases.map(([address]) => [address, policy.classify(address)])).toEqual(cases);
  });

  it('accepts what the allow list names, and only that', () => {
    const allowing = new WebhookTargetPolicy(['10.20.0.0/16', '127.0.0.1', 'fd00::/8']);
    expect(allowing.classify('10.20.3.4')).toBeUndefined();
    expect(allowing.classify('10.21.0.1')).toBe('private');
    expect(allowing.classify('127.0.0.1')).toBeUndefined();
    expect(allowing.classify('127.0.0.2')).toBe('loopback');
    expect(allowing.classify('fd12::1')).toBeUndefined();
    expect(allowing.classify('fc00::1')).toBe('unique_local');
    expect(() => new WebhookTargetPolicy(['not-a-network'])).toThrow(RangeError);
  });

  it('refuses a name when any address it resolves to is refused', async () => {
    const mixed = new WebhookTargetPolicy([], async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '10.0.0.5', family: 4 },
    ]);
    const refusal = await mixed.addressFor('hooks.example').catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(WebhookTargetRefused);
    expect(refusal).toMatchObject({ host: 'hooks.example', address: '10.0.0.5', addressClass: 'private' });
    expect((refusal as Error).message).toBe(
      'hooks.example resolves to 10.0.0.5, which is a private network (RFC 1918) address; webhooks go to public addresses only (WEBHOOK_ALLOWED_NETWORKS allows a network)',
    );
    // An IP literal is checked as is, brackets and all.
    await expect(policy.addressFor('[::1]')).rejects.toMatchObject({ addressClass: 'loopback' });
    await expect(policy.addressFor('8.8.4.4')).resolves.toEqual({ address: '8.8.4.4', family: 4 });
  });

  it('accepts at subscription a name that does not resolve now (each delivery checks again)', async () => {
    const unresolvable = new WebhookTargetPolicy([], async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND hooks.example'), { code: 'ENOTFOUND' });
    });
    await expect(unresolvable.checkUrl('https://hooks.example/tracewell')).resolves.toBeUndefined();
    await expect(unresolvable.addressFor('hooks.example')).rejects.toThrow('ENOTFOUND');
    const hanging = new WebhookTargetPolicy([], () => new Promise(() => {}));
    await expect(hanging.checkUrl('https://hooks.example/tracewell', 50)).resolves.toBeUndefined();
  });
});

describe('secret box', () => {
  it('seals with a fresh nonce each time and opens only with its own key, unedited', () => {
    const box = new SecretBox(randomBytes(32));
    const [a, b] = [box.seal('whsec_abc'), box.seal('whsec_abc')];
    expect(a).toMatch(/^enc:v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('abc');
    expect([box.open(a), box.open(b)]).toEqual(['whsec_abc', 'whsec_abc']);
    expect(() => new SecretBox(randomBytes(32)).open(a)).toThrow(SecretUnreadableError);
    const [prefix, sealed] = [a.slice(0, a.lastIndexOf(':') + 1), Buffer.from(a.slice(a.lastIndexOf(':') + 1), 'base64')];
    sealed[0] = sealed[0]! ^ 1;
    expect(() => box.open(prefix + sealed.toString('base64'))).toThrow(SecretUnreadableError);
    expect(() => box.open('whsec_abc')).toThrow(SecretUnreadableError);
    // A key derived from a passphrase is the same each time, and another purpose gets another key.
    const sealedByPhrase = SecretBox.fromPassphrase('phrase', 'webhook-secrets').seal('s');
    expect(SecretBox.fromPassphrase('phrase', 'webhook-secrets').open(sealedByPhrase)).toBe('s');
    expect(() => SecretBox.fromPassphrase('phrase', 'other').open(sealedByPhrase)).toThrow(SecretUnreadableError);
  });
});

describe('webhook settings', () => {
  it('reads the allow list, the secrets key and the retention, and refuses malformed values', () => {
    const defaults = loadAppConfig({});
    expect(defaults).toMatchObject({ WEBHOOK_ALLOWED_NETWORKS: [], WEBHOOK_DELIVERY_RETENTION: 7 * 86_400_000 });
    expect(defaults.WEBHOOK_SECRETS_KEY).toBeUndefined();
    const set = loadAppConfig({
      WEBHOOK_ALLOWED_NETWORKS: ' 10.0.0.0/8, 127.0.0.1 ,fd00::/8',
      WEBHOOK_DELIVERY_RETENTION: '36h',
      WEBHOOK_SECRETS_KEY: 'ab'.repeat(32),
    });
    expect(set).toMatchObject({
      WEBHOOK_ALLOWED_NETWORKS: ['10.0.0.0/8', '127.0.0.1', 'fd00::/8'],
      WEBHOOK_DELIVERY_RETENTION: 36 * 3_600_000,
    });
    expect(() => loadAppConfig({ WEBHOOK_ALLOWED_NETWORKS: '10.0.0.0/33' })).toThrow(/WEBHOOK_ALLOWED_NETWORKS/);
    expect(() => loadAppConfig({ WEBHOOK_ALLOWED_NETWORKS: 'intranet.local' })).toThrow(/WEBHOOK_ALLOWED_NETWORKS/);
    expect(() => loadAppConfig({ WEBHOOK_DELIVERY_RETENTION: '7 days' })).toThrow(/WEBHOOK_DELIVERY_RETENTION/);
    expect(() => loadAppConfig({ WEBHOOK_SECRETS_KEY: 'short' })).toThrow(/WEBHOOK_SECRETS_KEY/);
  });
});
