// Lectern's browser client: accounts, profile, preferences, chat (JSON and streamed), search, generate
// and the book's pages. A dependency-free ES module. Tokens stay in memory unless the page opts into
// localStorage; no other secret ever reaches the page. Types: lectern-client.d.ts.

const JSON_TYPE = "application/json";
const EVENT_STREAM = "text/event-stream";
// Refresh a little before the access token expires (30 s, or a quarter of a short lifetime), so a request
// never races its expiry.
const EXPIRY_MARGIN_MS = 30_000;

/** An error a caller can show: an API problem (status, code), or a network failure (kind). */
export class LecternError extends Error {
  constructor(message, info = {}) {
    super(message, info.cause === undefined ? undefined : { cause: info.cause });
    this.name = "LecternError";
    this.kind = info.kind ?? "http"; // "http" | "network" | "offline" | "aborted" | "protocol"
    this.status = info.status ?? 0;
    this.code = info.code ?? this.kind;
    this.retryAfter = info.retryAfter ?? null; // seconds
    this.requestId = info.requestId ?? null;
    this.problem = info.problem ?? null;
  }
}

/** Seconds from a Retry-After header (delta seconds or an HTTP date), or null. */
export function retryAfterSeconds(value, now = Date.now()) {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const when = Date.parse(value);
  return Number.isNaN(when) ? null : Math.max(0, Math.ceil((when - now) / 1000));
}

async function problemFrom(response) {
  let problem = null;
  const type = response.headers.get("content-type") || "";
  try {
    if (type.includes("json")) problem = await response.json();
  } catch {
    problem = null;
  }
  const detail =
    problem && typeof problem.detail === "string" && problem.detail
      ? problem.detail
      : `The server answered ${response.status} ${response.statusText}`.trim() + ".";
  return new LecternError(detail, {
    status: response.status,
    code: (problem && problem.code) || `http_${response.status}`,
    retryAfter: retryAfterSeconds(response.headers.get("retry-after")),
    requestId: response.headers.get("x-request-id") || (problem && problem.request_id) || null,
    problem,
  });
}

function networkError(error, signal, baseUrl) {
  if (signal && signal.aborted) return new LecternError("Stopped.", { kind: "aborted", cause: error });
  if (typeof navigator !== "undefined" && navigator.onLine === false) {
    return new LecternError("You are offline. Check your connection, then try again.", {
      kind: "offline",
      cause: error,
    });
  }
  // Browsers report a refused connection and a CORS refusal alike, on purpose: say both.
  return new LecternError(
    `Cannot reach the book's assistant at ${baseUrl}. The server may be down, or this site may not be ` +
      "allowed to use it.",
    { kind: "network", cause: error },
  );
}

/**
 * Server-sent events from a fetch body: yields {event, data, id}. Comments (": heartbeat") are skipped.
 * Cancelling the iteration (break, throw) cancels the body, which closes the connection.
 */
export async function* readServerSentEvents(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let data = [];
  let event = "";
  let lastId = null;
  let finished = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      buffer += decoder.decode(value, { stream: true });
      // A trailing CR may be the first half of a CRLF: keep it for the next chunk.
      const complete = buffer.endsWith("\r") ? buffer.slice(0, -1) : buffer;
      const lines = complete.split(/\r\n|\r|\n/);
      buffer = lines.pop() + buffer.slice(complete.length);
      for (const line of lines) {
        if (line === "") {
          if (data.length) yield { event: event || "message", data: data.join("\n"), id: lastId };
          data = [];
          event = "";
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        let value = colon === -1 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "data") data.push(value);
        else if (field === "event") event = value;
        else if (field === "id" && !value.includes("\0")) lastId = value;
      }
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

function parseJson(text, what) {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new LecternError(`The server sent a malformed ${what} event.`, { kind: "protocol", cause: error });
  }
}

// A token event's data is {"text": "..."} (JSON keeps newlines on one data line); plain text is taken as is.
function tokenText(data) {
  if (data.startsWith("{")) {
    try {
      const value = JSON.parse(data);
      if (typeof value.text === "string") return value.text;
    } catch {
      // not JSON: plain text that starts with a brace
    }
  }
  return data;
}

/** Where tokens live: memory (the default) or localStorage, shared with the page's other tabs. */
class TokenStore {
  constructor(kind, key) {
    this.key = key;
    this.local = kind === "local" && typeof localStorage !== "undefined";
    this.memory = null;
  }

  get() {
    if (!this.local) return this.memory;
    try {
      return JSON.parse(localStorage.getItem(this.key) || "null");
    } catch {
      return null;
    }
  }

  set(state) {
    if (!this.local) this.memory = state;
    else if (state) localStorage.setItem(this.key, JSON.stringify(state));
    else localStorage.removeItem(this.key);
  }
}

function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** A client for one Lectern API. */
export class LecternClient {
  #tokens;
  #fetch;
  #listeners = new Set();
  #refreshing = null;

  constructor(options = {}) {
    const base = options.baseUrl ?? (typeof location !== "undefined" ? location.origin : "");
    this.baseUrl = String(base).replace(/\/+$/, "");
    this.storage = options.storage === "local" ? "local" : "memory";
    this.#tokens = new TokenStore(this.storage, options.storageKey ?? `lectern:${this.baseUrl}`);
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    if (this.#tokens.local && typeof addEventListener === "function") {
      // Another tab signed in, out, or rotated the tokens.
      addEventListener("storage", (event) => {
        if (event.key === this.#tokens.key) this.#emit();
      });
    }
  }

  /** The signed-in reader ({id, email, name, created_at}), or null. */
  get user() {
    return this.#tokens.get()?.user ?? null;
  }

  get signedIn() {
    return Boolean(this.#tokens.get()?.refresh_token);
  }

  /** Call `listener(user)` whenever the reader signs in or out; returns the function that stops it. */
  onAuthChange(listener) {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit() {
    for (const listener of this.#listeners) listener(this.user);
  }

  #keep(answer) {
    const lifetime = answer.expires_in * 1000;
    this.#tokens.set({
      access_token: answer.access_token,
      refresh_token: answer.refresh_token,
      refresh_at: Date.now() + lifetime - Math.min(EXPIRY_MARGIN_MS, lifetime / 4),
      user: answer.user,
    });
    this.#emit();
    return answer.user;
  }

  #forget() {
    const had = this.#tokens.get() !== null;
    this.#tokens.set(null);
    if (had) this.#emit();
  }

  // --- accounts -------------------------------------------------------------------------------------

  async signup({ email, password, name } = {}) {
    const body = name ? { email, password, name } : { email, password };
    return this.#keep(await this.#json("POST", "/api/auth/signup", { body, auth: false }));
  }

  async login({ email, password } = {}) {
    return this.#keep(await this.#json("POST", "/api/auth/login", { body: { email, password }, auth: false }));
  }

  /** Trade the refresh token for new tokens (single use). Concurrent callers share one refresh. */
  async refresh() {
    const stale = this.#tokens.get()?.access_token ?? null;
    this.#refreshing ??= this.#refreshOnce(stale).finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  async #refreshOnce(stale) {
    const run = async () => {
      const current = this.#tokens.get();
      if (!current?.refresh_token) throw new LecternError("Sign in again.", { status: 401, code: "signed_out" });
      // Another tab may have refreshed while this one waited for the lock: reusing the old refresh
      // token would revoke the whole sign-in, so take the tokens that tab stored.
      if (current.access_token !== stale && current.refresh_at > Date.now()) return current.user;
      try {
        const answer = await this.#json("POST", "/api/auth/refresh", {
          body: { refresh_token: current.refresh_token },
          auth: false,
        });
        return this.#keep(answer);
      } catch (error) {
        if (error.status === 401) this.#forget();
        throw error;
      }
    };
    const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
    return this.#tokens.local && locks ? locks.request(this.#tokens.key, run) : run();
  }

  /** Revoke the sign-in on the server and forget the tokens here, whatever the server says. */
  async logout() {
    const refreshToken = this.#tokens.get()?.refresh_token;
    this.#forget();
    if (refreshToken) {
      await this.#request("POST", "/api/auth/logout", { body: { refresh_token: refreshToken }, auth: false });
    }
  }

  async me() {
    return this.#json("GET", "/api/auth/me", { auth: true });
  }

  // --- profile and preferences (ETags guard against overwriting another tab's change) --------------------

  async getProfile() {
    return this.#versioned("GET", "/api/profile", "profile");
  }

  async updateProfile(profile, { ifMatch } = {}) {
    return this.#versioned("PUT", "/api/profile", "profile", profile, ifMatch);
  }

  async getPreferences() {
    return this.#versioned("GET", "/api/preferences", "preferences");
  }

  async updatePreferences(preferences, { ifMatch } = {}) {
    return this.#versioned("PUT", "/api/preferences", "preferences", preferences, ifMatch);
  }

  async patchPreferences(changes, { ifMatch } = {}) {
    return this.#versioned("PATCH", "/api/preferences", "preferences", changes, ifMatch);
  }

  /** The signed-in reader's resource as {[name]: value, etag}; the etag goes back as ifMatch on a write. */
  async #versioned(method, path, name, body, ifMatch) {
    const response = await this.#request(method, path, { body, auth: true, ifMatch });
    return { [name]: await response.json(), etag: response.headers.get("etag") };
  }

  // --- chat, search, generate, the book ------------------------------------------------------------------

  /** Ask a question; the whole answer at once: {answer, citations, conversation_id, message_id, mode}. */
  async chat(request, { signal } = {}) {
    return this.#json("POST", "/api/chat", { body: { ...request, stream: false }, signal });
  }

  /**
   * Ask a question and read the answer as it is written. Yields {type: "citations", citations},
   * {type: "token", text} and finally {type: "done", ...}; an `error` event is thrown as a LecternError.
   */
  async *chatStream(request, { signal } = {}) {
    yield* this.#stream("/api/chat", { ...request, stream: true }, signal);
  }

  async search(q, { k, locale, prefix, signal } = {}) {
    return this.#json("GET", `/api/search${query({ q, k, locale, prefix })}`, { signal });
  }

  /**
   * A page (or section, or text) made for the signed-in reader: task "personalize", "translate" (with
   * `language`), "summarize", "explain" or "quiz". Answers {content (Markdown), content_json (a quiz's
   * questions, else null), task, source: {page_id, title, url}, section, language, dir, mode, cached, model,
   * created_at, warnings}.
   */
  async generate(request, { signal } = {}) {
    return this.#json("POST", "/api/generate", { body: { ...request, stream: false }, signal });
  }

  /**
   * The same, read as it is written. Yields {type: "section", data} per part (data: JSON text of its index,
   * total, heading and anchor), {type: "token", text} and finally {type: "done", ...} with every field of the
   * answer but `content`; an `error` event is thrown as a LecternError.
   */
  async *generateStream(request, { signal } = {}) {
    yield* this.#stream("/api/generate", { ...request, stream: true }, signal);
  }

  async pages({ locale, signal } = {}) {
    return this.#json("GET", `/api/book/pages${query({ locale })}`, { signal, auth: false });
  }

  /** One page as sections of Markdown; `reference` is its id, route, doc id or URL path. */
  async page(reference, { locale, signal } = {}) {
    const path = String(reference).replace(/^\/+/, "").split("/").map(encodeURIComponent).join("/");
    return this.#json("GET", `/api/book/pages/${path}${query({ locale })}`, { signal, auth: false });
  }

  // --- transport -------------------------------------------------------------------------------------------

  async *#stream(path, body, signal) {
    const response = await this.#request("POST", path, { body, signal, accept: EVENT_STREAM });
    if (!(response.headers.get("content-type") || "").startsWith(EVENT_STREAM)) {
      // A server that answers in one piece still gets read the same way.
      const answer = await response.json();
      if (Array.isArray(answer.citations)) yield { type: "citations", citations: answer.citations };
      const text = answer.answer ?? answer.content;
      if (text) yield { type: "token", text };
      yield { type: "done", ...answer };
      return;
    }
    try {
      for await (const { event, data } of readServerSentEvents(response.body)) {
        if (event === "token") yield { type: "token", text: tokenText(data) };
        else if (event === "citations") {
          const value = parseJson(data, event);
          yield { type: "citations", citations: Array.isArray(value) ? value : (value.citations ?? []) };
        } else if (event === "done") yield { type: "done", ...parseJson(data, event) };
        else if (event === "error") {
          const problem = parseJson(data, event);
          throw new LecternError(problem.detail || "The answer failed.", {
            status: problem.status ?? 0,
            code: problem.code ?? "error",
            retryAfter: problem.retry_after ?? null,
            requestId: problem.request_id ?? null,
            problem,
          });
        } else yield { type: event, data };
      }
    } catch (error) {
      if (error instanceof LecternError) throw error;
      if (signal && signal.aborted) throw new LecternError("Stopped.", { kind: "aborted", cause: error });
      throw new LecternError("The connection dropped before the answer was complete. Try again.", {
        kind: "network",
        cause: error,
      });
    }
  }

  async #json(method, path, options) {
    const response = await this.#request(method, path, options);
    return response.status === 204 ? null : response.json();
  }

  /** Access token for a request: refreshed first when it is about to expire; null when signed out. */
  async #accessToken() {
    const tokens = this.#tokens.get();
    if (!tokens) return null;
    if (tokens.refresh_at > Date.now()) return tokens.access_token;
    try {
      await this.refresh();
    } catch (error) {
      if (error.status === 401) return null;
      throw error;
    }
    return this.#tokens.get()?.access_token ?? null;
  }

  /**
   * One API call. `auth`: true needs a signed-in reader, false sends no token, undefined sends one if any.
   * A 401 on a token that looked valid (revoked, server key rotated) gets one refresh and one retry.
   */
  async #request(method, path, { body, auth, signal, ifMatch, accept = JSON_TYPE } = {}) {
    const send = async () => {
      const token = auth === false ? null : await this.#accessToken();
      if (auth === true && !token) {
        throw new LecternError("Sign in first.", { status: 401, code: "signed_out" });
      }
      const headers = { accept };
      if (body !== undefined) headers["content-type"] = JSON_TYPE;
      if (token) headers.authorization = `Bearer ${token}`;
      if (ifMatch) headers["if-match"] = ifMatch;
      try {
        const response = await this.#fetch(this.baseUrl + path, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal,
          credentials: "omit",
          cache: "no-store",
        });
        return { response, token };
      } catch (error) {
        throw networkError(error, signal, this.baseUrl);
      }
    };
    let { response, token } = await send();
    if (response.status === 401 && token && this.signedIn) {
      try {
        // Another request may have refreshed meanwhile: then only retry.
        if (this.#tokens.get()?.access_token === token) await this.refresh();
        ({ response } = await send());
      } catch (error) {
        if (error.status !== 401) throw error;
      }
    }
    if (!response.ok) throw await problemFrom(response);
    return response;
  }
}
