// Hash routes: the table names each route's view, whose code is fetched when the route is first
// opened. A view exports mount(ctx, params, state) and returns its unmount function; one view
// is mounted at a time (the map, in the shell, stays). A query after the path
// (#/apply/x?parcel=KEY) is not part of the match: the view gets it as params.query.
export function createRouter(routes, ctx) {
  const table = routes.map((route) => {
    const names = [];
    const source = route.path.replace(/:(\w+)/g, (_, name) => { names.push(name); return "([^/]+)"; });
    return { ...route, names, pattern: new RegExp(`^#${source}$`) };
  });
  let current = null;
  let turn = 0;

  function match(hash) {
    const cut = hash.indexOf("?");
    const path = cut < 0 ? hash : hash.slice(0, cut);
    const query = Object.fromEntries(new URLSearchParams(cut < 0 ? "" : hash.slice(cut + 1)));
    for (const route of table) {
      const found = path.match(route.pattern);
      if (found) {
        const params = Object.fromEntries(route.names.map((n, i) => [n, decodeURIComponent(found[i + 1])]));
        return { route, params: { ...params, query } };
      }
    }
    return null;
  }

  async function render(state) {
    const hash = location.hash;
    if (current && current.hash === hash && state === undefined) return;
    const mine = ++turn;
    const found = match(hash);
    let view = null;
    if (found) {
      try {
        view = await found.route.view();
      } catch {
        ctx.status.textContent = ctx.t("app.unavailable");
        return;
      }
    }
    if (mine !== turn) return; // a later route won while this one's code came
    const leaving = current;
    current = null;
    leaving?.unmount?.();
    if (found) {
      current = { hash, path: found.route.path, unmount: view.mount(ctx, found.params, state) };
    }
  }

  const router = {
    // Opens a route (push: the phone's back button returns; replace: it does not).
    go(hash, { replace = false, state } = {}) {
      if (replace) history.replaceState(null, "", hash);
      else if (location.hash !== hash) history.pushState(null, "", hash);
      return render(state);
    },
    // Back to the bare map.
    close() {
      history.replaceState(null, "", location.pathname + location.search);
      return render();
    },
    toggle(hash) {
      return location.hash === hash ? router.close() : router.go(hash);
    },
    current: () => current?.path ?? null,
    preload: (path) => table.find((r) => r.path === path)?.view(),
    start() {
      window.addEventListener("hashchange", () => render());
      window.addEventListener("popstate", () => render());
      return render();
    },
  };
  return router;
}
