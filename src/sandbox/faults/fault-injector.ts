/**
 * Decides, once per request, whether an emulator injects a fault and when: 'before' (the request
 * is refused and nothing is written) or 'after' (the write is applied, then the answer is lost:
 * the nastiest case for exactly-once). Two sources: targeted rules for the reliability suite and
 * a seeded random rate for soak runs. The same seed and request sequence give the same faults.
 */
import { pick, seededRandom, type RandomSource } from './seeded-random.ts';

/**
 * 'during' (Stripe emulator): the endpoint started and failed without writing, and its 500 is
 * saved under the idempotency key; emulators without idempotency treat it as 'after'.
 */
export type FaultTiming = 'before' | 'during' | 'after';

/** What the emulator knows about a request when it asks for faults. */
export interface FaultRequest {
  method: string;
  /** Concrete path, e.g. /v1/customers/cus_123. */
  path: string;
  /** Path with ids folded, e.g. /v1/customers/:id. */
  route: string;
  /** Decoded body or query (form or JSON), for rules that target one developer. */
  params: unknown;
}

export interface FaultRule<K extends string> {
  kind: K;
  /** HTTP method; any when omitted. */
  method?: string;
  /** Exact concrete path or route template ('/v1/customers/:id'), or a RegExp on the path. Any when omitted. */
  path?: string | RegExp;
  /** Extra predicate, e.g. only requests for one email. */
  match?: (request: FaultRequest) => boolean;
  /** Default 'before'. */
  when?: FaultTiming;
  /** How many matching requests fault; default 1, Infinity for every one. */
  times?: number;
  /** Let this many matching requests through before the rule starts firing; default 0. */
  skip?: number;
}

interface RandomFaults<K extends string> {
  /** Probability 0..1 that a request faults; 0 disables. */
  rate: number;
  seed: number;
  /** Kinds drawn from (uniformly). */
  kinds: readonly K[];
  /** 'mixed' draws before/after per fault. Default 'before'. */
  when?: FaultTiming | 'mixed';
  /** Methods the random faults apply to; all when omitted. */
  methods?: readonly string[];
}

export interface FaultDecision<K extends string> {
  kind: K;
  when: FaultTiming;
  source: 'rule' | 'random';
}

/** One injected fault, for assertions and logs. */
interface FiredFault<K extends string> extends FaultDecision<K> {
  method: string;
  path: string;
}

export interface FaultHandle {
  /** How many times this rule fired so far. */
  readonly fired: number;
  /** True when the rule has fired `times` times. */
  readonly exhausted: boolean;
  remove(): void;
}

interface ActiveRule<K extends string> {
  rule: FaultRule<K>;
  seen: number;
  fired: number;
}

export class FaultInjector<K extends string> {
  readonly #allowedKinds: ReadonlySet<K>;
  #rules: ActiveRule<K>[] = [];
  #random: RandomFaults<K> | undefined;
  #rng: RandomSource = seededRandom(0);
  #log: FiredFault<K>[] = [];

  constructor(allowedKinds: readonly K[], random?: RandomFaults<K>) {
    this.#allowedKinds = new Set(allowedKinds);
    this.setRandom(random);
  }

  /** Adds a targeted fault rule; the returned handle says how often it fired and removes it. */
  add(rule: FaultRule<K>): FaultHandle {
    this.#checkKind(rule.kind);
    const times = rule.times ?? 1;
    if (!(times >= 0)) throw new RangeError(`fault rule "times" must be 0 or more, got ${rule.times}`);
    const active: ActiveRule<K> = { rule: { ...rule, times }, seen: 0, fired: 0 };
    this.#rules.push(active);
    return {
      get fired() {
        return active.fired;
      },
      get exhausted() {
        return active.fired >= times;
      },
      remove: () => {
        this.#rules = this.#rules.filter((r) => r !== active);
      },
    };
  }

  /** Sets (or clears, with undefined or rate 0) random faults; restarts the seeded sequence. */
  setRandom(random: RandomFaults<K> | undefined): void {
    if (random && random.rate > 0) {
      if (!(random.rate <= 1)) throw new RangeError(`fault rate must be between 0 and 1, got ${random.rate}`);
      if (random.kinds.length === 0) throw new RangeError('random faults need at least one kind');
      random.kinds.forEach((kind) => this.#checkKind(kind));
      this.#random = { ...random };
      this.#rng = seededRandom(random.seed);
    } else {
      this.#random = undefined;
    }
  }

  get random(): RandomFaults<K> | undefined {
    return this.#random ? { ...this.#random } : undefined;
  }

  /** Faults injected so far, oldest first. */
  get fired(): readonly FiredFault<K>[] {
    return this.#log;
  }

  /** Removes every rule, random faults and the log. */
  clear(): void {
    this.#rules = [];
    this.#log = [];
    this.setRandom(undefined);
  }

  /**
   * The fault for this request, if any. Call exactly once per request: rules count matches and
   * random faults consume the seeded sequence. Targeted rules win over random ones.
   */
  decide(request: FaultRequest): FaultDecision<K> | undefined {
    const decision = this.#fromRules(request) ?? this.#fromRandom(request);
    if (decision) this.#log.push({ ...decision, method: request.method, path: request.path });
    return decision;
  }

  #fromRules(request: FaultRequest): FaultDecision<K> | undefined {
    for (const active of this.#rules) {
      const { rule } = active;
      if (active.fired >= (rule.times ?? 1) || !ruleMatches(rule, request)) continue;
      active.seen += 1;
      if (active.seen <= (rule.skip ?? 0)) continue;
      active.fired += 1;
      return { kind: rule.kind, when: rule.when ?? 'before', source: 'rule' };
    }
    return undefined;
  }

  #fromRandom(request: FaultRequest): FaultDecision<K> | undefined {
    const random = this.#random;
    if (!random || (random.methods && !random.methods.includes(request.method))) return undefined;
    if (this.#rng() >= random.rate) return undefined;
    const kind = pick(this.#rng, random.kinds);
    const when = random.when === 'mixed' ? (this.#rng() < 0.5 ? 'before' : 'after') : (random.when ?? 'before');
    return { kind, when, source: 'random' };
  }

  #checkKind(kind: K): void {
    if (!this.#allowedKinds.has(kind)) throw new RangeError(`unknown fault kind "${kind}"; use one of ${[...this.#allowedKinds].join(', ')}`);
  }
}

function ruleMatches<K extends string>(rule: FaultRule<K>, request: FaultRequest): boolean {
  if (rule.method && rule.method.toUpperCase() !== request.method) return false;
  if (rule.path instanceof RegExp) {
    if (!rule.path.test(request.path)) return false;
  } else if (rule.path !== undefined && rule.path !== request.path && rule.path !== request.route) return false;
  return rule.match ? rule.match(request) : true;
}
