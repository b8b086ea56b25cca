import type { ApiResult, BaselineState } from '../../shared/api';
import { ruleFor, rulesFor, type BaselineRule } from '../../shared/baseline';
import type { Socket } from '../../shared/model';
import { BaselineStore } from '../engine';

/** The expected-ports baseline as the API offers it: its state, and the two ways to add to it. */
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

  /** Expects this listener from now on. */
  markExpected(socket: Socket | undefined): ApiResult<BaselineState> {
    if (!socket) return { ok: false, code: 'bad-request', message: 'no such socket now' };
    if (!socket.listening) return { ok: false, code: 'bad-request', message: 'only listening sockets are judged' };
    return this.add([ruleFor(socket)]);
  }

  /** Expects every one of these listeners (the first-run offer). */
  acceptAll(sockets: Iterable<Socket>): ApiResult<BaselineState> {
    return this.add(rulesFor([...sockets]));
  }

  private add(rules: BaselineRule[]): ApiResult<BaselineState> {
    if (!this.store) return { ok: false, code: 'bad-request', message: 'no baseline file in this mode' };
    try {
      this.store.add(rules);
    } catch (e) {
      return { ok: false, code: 'internal', message: e instanceof Error ? e.message : String(e) };
    }
    const state = this.state();
    this.onChange(state);
    return { ok: true, value: state };
  }
}
