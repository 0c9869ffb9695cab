import { Random } from './random';

/**
 * Readable app names. An app name never contains a dash: cluster names are `app-stack-detail-vNNN`
 * and the app is everything before the first dash.
 */

/** Business domains and the words their services are named after. */
export const DOMAIN_WORDS: Readonly<Record<string, readonly string[]>> = {
  commerce: ['checkout', 'cart', 'orders', 'pricing', 'promotions', 'giftcards', 'tax', 'invoices', 'returns', 'subscriptions', 'wishlist', 'coupons', 'quotes', 'bundles'],
  payments: ['payments', 'ledger', 'refunds', 'payouts', 'wallet', 'billing', 'fraud', 'risk', 'chargebacks', 'settlement', 'currency', 'vault'],
  catalog: ['catalog', 'products', 'inventory', 'search', 'reviews', 'ratings', 'media', 'images', 'taxonomy', 'availability', 'variants', 'sellers'],
  identity: ['accounts', 'auth', 'profiles', 'sessions', 'consent', 'permissions', 'devices', 'tokens', 'households', 'verification'],
  logistics: ['shipping', 'fulfillment', 'warehouse', 'tracking', 'carriers', 'dispatch', 'labels', 'slots', 'stores', 'pickup'],
  engagement: ['notifications', 'messaging', 'recommendations', 'personalization', 'loyalty', 'rewards', 'campaigns', 'ads', 'experiments', 'referrals', 'surveys'],
  platform: ['config', 'flags', 'ratelimits', 'audit', 'geo', 'locale', 'scheduler', 'events', 'secrets', 'quotas', 'webhooks', 'exports'],
  content: ['articles', 'videos', 'playback', 'transcoding', 'subtitles', 'thumbnails', 'playlists', 'artwork', 'licensing'],
  support: ['tickets', 'chat', 'knowledge', 'feedback', 'callbacks', 'escalations'],
};

const MID_SUFFIXES = ['', 'api', 'service', 'engine', 'worker', 'sync', 'resolver', 'planner', 'scorer', 'indexer', 'router', 'tracker', 'builder', 'validator'];
const DATA_SUFFIXES = ['db', 'cache', 'store', 'index', 'queue', 'archive', 'stream', 'kv'];
const EDGE_WORDS = ['storefront', 'mobile', 'partner', 'admin', 'seller', 'kiosk', 'tv', 'courier', 'merchant', 'affiliate', 'developer', 'marketing', 'helpdesk', 'backoffice', 'watch', 'car', 'voice', 'embedded'];
const EDGE_SUFFIXES = ['web', 'bff', 'portal', 'app'];
const SQUADS = ['core', 'platform', 'growth', 'experience', 'data', 'reliability'];

export const GATEWAY_APP = 'apigateway';

export interface AppName {
  name: string;
  domain: string;
}

/** Draws `count` distinct names per layer, never reusing a name across layers. */
export class AppNamer {
  private readonly used = new Set<string>([GATEWAY_APP]);
  private readonly domains = Object.keys(DOMAIN_WORDS);

  constructor(private readonly random: Random) {}

  edge(count: number): AppName[] {
    return this.draw(count, () => ({ name: this.random.pick(EDGE_WORDS) + this.random.pick(EDGE_SUFFIXES), domain: 'experience' }));
  }

  mid(count: number): AppName[] {
    return this.draw(count, () => {
      const domain = this.random.pick(this.domains);
      // Bare words (`checkout`) are the common case for the main service of a domain.
      const suffix = this.random.chance(0.3) ? '' : this.random.pick(MID_SUFFIXES);
      return { name: this.random.pick(DOMAIN_WORDS[domain] ?? []) + suffix, domain };
    });
  }

  data(count: number): AppName[] {
    return this.draw(count, () => {
      const domain = this.random.pick(this.domains);
      return { name: this.random.pick(DOMAIN_WORDS[domain] ?? []) + this.random.pick(DATA_SUFFIXES), domain };
    });
  }

  owner(domain: string): string {
    return `${domain}-${this.random.pick(SQUADS)}`;
  }

  private draw(count: number, candidate: () => AppName): AppName[] {
    const names: AppName[] = [];
    let attempts = 0;
    while (names.length < count) {
      const c = candidate();
      // A large fleet outgrows the vocabulary: number the names past that point.
      const name = attempts > count * 20 ? `${c.name}${names.length}` : c.name;
      attempts++;
      if (this.used.has(name)) continue;
      this.used.add(name);
      names.push({ name, domain: c.domain });
    }
    return names;
  }
}
