// Route selection is a pure function of the routes a proxy holds and the parts of a request they
// look at (method, host, path with its query, headers). A proxy keeps the answer for requests of
// the same shape, so the matching runs once per shape and config, not once per request. Only
// requests whose headers cannot change are remembered: none, or a frozen object the caller reuses
// (a traffic kind's, a call's without forwarded headers). Each config update brings a new memo.

type Headers = Readonly<Record<string, string>> | undefined;

interface Entry<T> {
  method: string;
  host: string;
  headers: Headers;
  value: T;
}

/** Shapes kept per memo; requests beyond it are matched every time (still correct, only slower). */
const MAX_SHAPES = 256;

export class RouteMemo<T> {
  private readonly byPath = new Map<string, Array<Entry<T>>>();
  private shapes = 0;

  /** Whether a request with these headers may be remembered. */
  static cacheable(headers: Headers): boolean {
    return headers === undefined || Object.isFrozen(headers);
  }

  get(path: string, method: string, host: string, headers: Headers): T | undefined {
    const list = this.byPath.get(path);
    if (list === undefined) return undefined;
    for (const e of list) if (e.method === method && e.host === host && e.headers === headers) return e.value;
    return undefined;
  }

  set(path: string, method: string, host: string, headers: Headers, value: T): void {
    if (this.shapes >= MAX_SHAPES) return;
    this.shapes += 1;
    let list = this.byPath.get(path);
    if (list === undefined) {
      list = [];
      this.byPath.set(path, list);
    }
    list.push({ method, host, headers, value });
  }
}
