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
  /** Set by chatStream(); chat() always sends false. */
  stream?: boolean;
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

export type GenerateTask = "personalize" | "translate" | "summarize" | "explain" | "quiz";

export interface GenerateRequest {
  /** personalize (for the reader's profile and preferences), translate, summarize, explain (simpler), quiz. */
  task: GenerateTask;
  /** A page of the book (its id, route, doc id, source file, URL path such as location.pathname, or URL), or up
   * to 20,000 characters of Markdown. */
  source: { page: string } | { text: string };
  /** Only this section (its heading anchor) and those under it. */
  section?: string | null;
  /** BCP 47 tag to write in (for "translate", the language to translate into); default: the reader's language. */
  language?: string | null;
  /** Default: the reader's preferred difficulty. */
  level?: Level | null;
  /** How many questions a quiz has (1 to 10, default 5). */
  questions?: number;
  /** Set by generateStream(); generate() always sends false. */
  stream?: boolean;
  /** Generate again even when a stored result fits (counts against the reader's quotas). */
  refresh?: boolean;
}

export interface GeneratedSource {
  /** null for a text the reader supplied. */
  page_id: string | null;
  title: string;
  /** The page's address on the book's site; null for a supplied text. */
  url: string | null;
}

/** The passage of the page that supports a quiz answer. */
export interface QuizCitation {
  /** null at the top of the page. */
  heading: string | null;
  anchor: string | null;
  /** The section's address (page URL and #anchor); null for a supplied text. */
  url: string | null;
  /** The supporting sentence, as the page has it. */
  quote: string;
}

export interface QuizQuestion {
  question: string;
  /** The choices, in the order to show them. */
  options: string[];
  /** Index of the right option in `options`, from 0. */
  answer: number;
  citation: QuizCitation;
}

export interface Quiz {
  questions: QuizQuestion[];
}

/** The answer of POST /api/generate (the API's GeneratedContent). */
export interface GeneratedPage {
  /** Markdown: render it with renderMarkdown, never as HTML. For a quiz: the questions, then the answers. */
  content: string;
  /** The quiz as data; null for the other tasks. */
  content_json: Quiz | null;
  task: GenerateTask;
  source: GeneratedSource;
  /** The section's anchor, when one was asked for. */
  section: string | null;
  /** BCP 47 tag of the content ("und" when unknown). */
  language: string;
  /** Set it on the element that shows `content`. */
  dir: "ltr" | "rtl";
  mode: "llm" | "extractive";
  /** True when this is the reader's stored result (no model was called). */
  cached: boolean;
  /** null in extractive mode. */
  model: string | null;
  created_at: string;
  /** Parts kept in the original because the model's version broke their structure, and similar notes. */
  warnings: string[];
}

/** What generateStream() yields: for each part, "section" (its data as JSON text: index, total, heading,
 * anchor) then its tokens; last, "done" with every field of the answer but `content` (the tokens joined). */
export type GenerateStreamEvent =
  | { type: "section"; data: string }
  | { type: "token"; text: string }
  | ({ type: "done" } & Omit<GeneratedPage, "content">);

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
  generateStream(request: GenerateRequest, options?: Signal): AsyncGenerator<GenerateStreamEvent, void, undefined>;
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
  "lectern-generated": CustomEvent<{ task: GenerateTask; language: string; dir: "ltr" | "rtl"; cached: boolean }>;
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
