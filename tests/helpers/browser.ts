/**
 * A browser without JavaScript, for the passport's server-rendered pages: keeps cookies, follows
 * redirects only on the platform's origin (so a test sees where the passport sends the browser
 * next, such as an app's redirect URI) and submits forms.
 */
export interface Page {
  status: number;
  location: string | null;
  body: string;
  headers: Headers;
}

export class Browser {
  readonly cookies = new Map<string, string>();

  constructor(readonly origin: string) {}

  async go(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Page> {
    const response = await fetch(new URL(url, this.origin), {
      method: init.method ?? 'GET',
      redirect: 'manual',
      headers: {
        cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const [name, ...value] = pair!.split('=');
      if (/expires=Thu, 01 Jan 1970/i.test(cookie)) this.cookies.delete(name!);
      else this.cookies.set(name!, value.join('='));
    }
    return { status: response.status, location: response.headers.get('location'), body: await response.text(), headers: response.headers };
  }

  /** Follows redirects on the platform's origin; stops at the first one that leaves it (the app's redirect URI). */
  async follow(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Page> {
    let page = await this.go(url, init);
    while (page.location && new URL(page.location, this.origin).origin === this.origin) page = await this.go(page.location);
    return page;
  }
}

/** The CSRF token of the page's forms. */
export const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
/** The action of the passport form that posts to `/interaction/<uid>/<name>`. */
export const actionOf = (html: string, name: string) => new RegExp(`action="(/interaction/[^"]+/${name})"`).exec(html)?.[1] ?? '';
