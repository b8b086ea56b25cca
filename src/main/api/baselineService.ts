import type { ApiResult, BaselineState } from '../../shared/api';
import { ruleFor, ruleWith, type BaselineRule, type RuleChoice } from '../../shared/baseline';
import type { Socket } from '../../shared/model';
import { BaselineStore } from '../engine';

/** The expected-ports baseline as the API offers it: its state, and the ways to add to it and edit it. */
export class BaselineService {
  private readonly store: BaselineStore | null;

  /** `path` null: this engine keeps no baseline (embedded use, tests); every listener is unexpected. */
  constructor(
    path: string | null,
    private readonly onChange: (b: BaselineState) => void,
  ) {
    this.store = path ? new BaselineStore(path) : null;
  }

  rules(): BaselineRule[] {
    return this.store?.rules() ?? [];
  }

  state(): BaselineState {
    if (!this.store) return { ok: false, path: '', message: 'no baseline file in this mode' };
    const c = this.store.current();
    return c.ok ? { ok: true, path: this.store.path, exists: c.exists, rules: c.baseline.rules } : { ok: false, path: this.store.path, message: c.message };
  }

  /** Expects this listener from now on: exactly it, or as wide as `choice` says (any port, a range, any exposure). */
  markExpected(socket: Socket | undefined, choice?: RuleChoice): ApiResult<BaselineState> {
    if (!socket) return { ok: false, code: 'bad-request', message: 'no such socket now' };
    if (!socket.listening) return { ok: false, code: 'bad-request', message: 'only listening sockets are judged' };
    const rule = choice ? ruleWith(socket, choice) : ruleFor(socket);
    if (!rule) {
      return {
        ok: false,
        code: 'bad-request',
        message: socket.process ? `the range does not hold port ${socket.localPort}` : 'a rule for any port needs a process to hold on to',
      };
    }
    return this.add([rule]);
  }

  /** Expects exactly these rules (the first-run offer: the ones its confirmation showed). */
  acceptAll(rules: BaselineRule[]): ApiResult<BaselineState> {
    return this.add(rules);
  }

  /** Replaces a rule with another, or removes it (null). */
  edit(old: BaselineRule, next: BaselineRule | null): ApiResult<BaselineState> {
    return this.write((store) => store.replace(old, next));
  }

  private add(rules: BaselineRule[]): ApiResult<BaselineState> {
    return this.write((store) => store.add(rules));
  }

  private write(change: (store: BaselineStore) => void): ApiResult<BaselineState> {
    if (!this.store) return { ok: false, code: 'bad-request', message: 'no baseline file in this mode' };
    try {
      change(this.store);
    } catch (e) {
      return { ok: false, code: 'internal', message: e instanceof Error ? e.message : String(e) };
    }
    const state = this.state();
    this.onChange(state);
    return { ok: true, value: state };
  }
}
