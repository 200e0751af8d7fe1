// Who is signed in (the shell shows the account button and the roles' screens from it; the
// API helper takes its CSRF token). The session itself is an HttpOnly cookie.
const SIGNED_IN = "signedIn"; // a hint only: avoids asking /api/me (and a 401) when signed out

export function createSession(api) {
  const listeners = new Set();
  const session = { person: null };
  let loading = null;

  session.set = (person) => {
    session.person = person;
    api.setCsrf(person?.csrf_token);
    if (person) {
      localStorage.setItem(SIGNED_IN, "1");
      if (person.lang) localStorage.setItem("lang", person.lang);
    } else {
      localStorage.removeItem(SIGNED_IN);
    }
    for (const listener of listeners) listener(person);
  };
  session.hinted = () => Boolean(localStorage.getItem(SIGNED_IN));
  // The signed-in person, asked once (a stale hint is dropped).
  session.load = () => {
    if (!session.hinted()) return Promise.resolve(null);
    loading ??= api.get("/api/me").then((result) => {
      if (result.ok) session.set(result.data);
      else if (!result.error.offline) session.set(null);
      loading = null;
      return session.person;
    });
    return loading;
  };
  // Before a write: the person (and so the CSRF token) once known.
  session.ready = () => (session.person ? Promise.resolve(session.person) : session.load());
  session.onChange = (listener) => { listeners.add(listener); };
  return session;
}
