// Types of lectern-client.js and lectern-markdown.js (and of lectern.js, which bundles them with the element).
// Request and answer bodies mirror the API's OpenAPI schema at /openapi.json: field names are the API's own.

export type ErrorKind = "http" | "network" | "offline" | "aborted" | "protocol";

/** An API problem (status, stable code) or a failure to reach the API (kind). */
export class LecternError extends Error {
  readonly kind: ErrorKind;
  /** HTTP status; 0 when no answer arrived. */
  readonly status: number;
  /** The problem's stable code (`rate_limited`, `llm_not_configured`, …), or the kind. */
  readonly code: string;
  /** Seconds to wait, from Retry-After (429, 503). */
  readonly retryAfter: number | null;
  readonly requestId: string | null;
  /** The RFC 9457 problem document, when the API sent one. */
  readonly problem: Problem | null;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  request_id: string | null;
  errors?: { field: string; message: string; type: string }[];
}

export interface User {
  id: string;
  email: string;
  name: string | null;
  created_at: string;
}

export type Level = "beginner" | "intermediate" | "advanced";

export interface Profile {
  display_name: string | null;
  software_background: string;
  hardware_background: string;
  experience_level: Level;
  goals: string;
  updated_at?: string | null;
}

export interface Preferences {
  difficulty: Level;
  /** A BCP 47 tag: en, ur, pt-BR. */
  language: string;
  learning_style: "visual" | "reading" | "hands_on" | "mixed";
  topics: string[];
  answer_length: "short" | "medium" | "long";
  updated_at?: string | null;
}

export interface Citation {
  id: string;
  title: string;
  /** The passage's address in the book: the page URL, plus #anchor. */
  url: string;
  heading: string | null;
  snippet: string;
  source_path: string;
  score: number;
}

export interface ChatRequest {
  message: string;
  conversation_id?: string;
  selected_text?: string;
  page_url?: string;
}

export interface ChatAnswer {
  answer: string;
  citations: Citation[];
  conversation_id: string | null;
  message_id: string;
  mode: "llm" | "extractive";
}

export type StreamEvent =
  | { type: "citations"; citations: Citation[] }
  | { type: "token"; text: string }
  | { type: "done"; message_id?: string; conversation_id?: string | null; mode?: string; [key: string]: unknown }
  | { type: string; data: string };

export interface SearchResult {
  page_id: string;
  title: string;
  url: string;
  heading: string | null;
  /** HTML: escaped text with matches in <mark>…</mark>. */
  snippet: string;
  score: number;
  source_path: string;
}

export interface GenerateRequest {
  task: "personalize" | "translate";
  /** The page: its id, slug or URL path (location.pathname). */
  source: { page: string };
  /** BCP 47 tag, for "translate". */
  language?: string;
}

export interface GeneratedPage {
  /** Markdown: render it with renderMarkdown, never as HTML. */
  content: string;
  task: string;
  source: { page_id: string; title: string; url: string };
  language: string;
  dir: "ltr" | "rtl";
  mode: string;
  cached: boolean;
  model: string | null;
  created_at: string;
}

export interface BookPageSummary {
  id: string;
  book: string;
  locale: string;
  title: string;
  route: string;
  url: string;
  description: string | null;
}

export interface BookSection {
  level: number;
  heading: string | null;
  anchor: string | null;
  markdown: string;
}

export interface BookPage extends BookPageSummary {
  sections: BookSection[];
}

export interface ClientOptions {
  /** The API's origin, e.g. "https://api.example.org" (default: this page's origin). */
  baseUrl?: string;
  /** "memory" (default): tokens live as long as the page. "local": kept in localStorage, shared by tabs. */
  storage?: "memory" | "local";
  storageKey?: string;
  fetch?: typeof fetch;
}

interface Signal {
  signal?: AbortSignal;
}

export class LecternClient {
  constructor(options?: ClientOptions);
  readonly baseUrl: string;
  readonly storage: "memory" | "local";
  readonly user: User | null;
  readonly signedIn: boolean;
  onAuthChange(listener: (user: User | null) => void): () => void;

  signup(body: { email: string; password: string; name?: string }): Promise<User>;
  login(body: { email: string; password: string }): Promise<User>;
  refresh(): Promise<User>;
  logout(): Promise<void>;
  me(): Promise<User>;

  getProfile(): Promise<{ profile: Profile; etag: string | null }>;
  updateProfile(profile: Partial<Profile>, options?: { ifMatch?: string | null }): Promise<{ profile: Profile; etag: string | null }>;
  getPreferences(): Promise<{ preferences: Preferences; etag: string | null }>;
  updatePreferences(
    preferences: Partial<Preferences>,
    options?: { ifMatch?: string | null },
  ): Promise<{ preferences: Preferences; etag: string | null }>;
  patchPreferences(
    changes: Partial<Preferences>,
    options?: { ifMatch?: string | null },
  ): Promise<{ preferences: Preferences; etag: string | null }>;

  chat(request: ChatRequest, options?: Signal): Promise<ChatAnswer>;
  chatStream(request: ChatRequest, options?: Signal): AsyncGenerator<StreamEvent, void, undefined>;
  search(q: string, options?: { k?: number; locale?: string; prefix?: string } & Signal): Promise<{ results: SearchResult[] }>;
  generate(request: GenerateRequest, options?: Signal): Promise<GeneratedPage>;
  generateStream(request: GenerateRequest, options?: Signal): AsyncGenerator<StreamEvent, void, undefined>;
  pages(options?: { locale?: string } & Signal): Promise<{ pages: BookPageSummary[] }>;
  page(reference: string, options?: { locale?: string } & Signal): Promise<BookPage>;
}

export function retryAfterSeconds(value: string | null, now?: number): number | null;

export function readServerSentEvents(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<{ event: string; data: string; id: string | null }, void, undefined>;

/** Markdown as inert DOM nodes: no HTML is parsed; links and images keep http(s) URLs only. */
export function renderMarkdown(markdown: string, options?: { document?: Document; baseUrl?: string }): DocumentFragment;

/** The URL if it is http(s) once resolved against `base`, else null. */
export function safeUrl(raw: string, base?: string): string | null;

// --- lectern.js only: the element --------------------------------------------------------------------------

/** `<lectern-chat api-base="…" title="…" theme="auto|light|dark" storage="memory|local">` */
export class LecternChatElement extends HTMLElement {
  readonly client: LecternClient;
  readonly isOpen: boolean;
  open(view?: "chat" | "page" | "preferences" | "account"): void;
  close(): void;
  toggle(): void;
  ask(message: string, options?: { selectedText?: string }): Promise<void>;
}

export function describeError(error: unknown): string;

export interface LecternChatEvents {
  "lectern-open": CustomEvent<null>;
  "lectern-close": CustomEvent<null>;
  "lectern-answer": CustomEvent<{ message_id: string | null; conversation_id: string | null; citations: Citation[] }>;
  "lectern-generated": CustomEvent<{ task: string; language: string; dir: "ltr" | "rtl"; cached: boolean }>;
  "lectern-signin": CustomEvent<{ user: User }>;
  "lectern-signout": CustomEvent<null>;
  "lectern-preferences": CustomEvent<Preferences>;
  "lectern-error": CustomEvent<{ message: string; status: number; code: string }>;
}

declare global {
  interface HTMLElementTagNameMap {
    "lectern-chat": LecternChatElement;
  }
  interface HTMLElementEventMap extends LecternChatEvents {}
}
