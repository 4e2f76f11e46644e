// <lectern-chat>: the book's assistant as a floating button and panel. Streamed answers with citations,
// "Ask about this" on selected text, sign in and sign up, preferences, and this page personalized or
// translated. Styles live in a constructed stylesheet inside the shadow root, so the element works under
// a strict CSP (no inline script or style, no eval). Served bundled with the modules it imports as one
// file, /widget/<version>/lectern.js, so a single SRI hash covers it (see lectern/widget/assets.py).

import { LecternClient } from "./lectern-client.js";
import { renderMarkdown, safeUrl } from "./lectern-markdown.js";
import { describeError } from "./lectern-messages.js";
import { styles } from "./lectern-styles.js";

const DEFAULT_TITLE = "Ask the book";
// By default the API is where this script came from.
const DEFAULT_API_BASE = new URL(import.meta.url).origin;
const MAX_SELECTION = 4000;
const RTL = new Set(["ar", "ckb", "dv", "fa", "he", "ps", "sd", "ug", "ur", "yi"]);
const LANGUAGES = [
  ["ur", "اردو — Urdu"],
  ["ar", "العربية — Arabic"],
  ["hi", "हिन्दी — Hindi"],
  ["bn", "বাংলা — Bengali"],
  ["zh", "中文 — Chinese"],
  ["es", "Español — Spanish"],
  ["fr", "Français — French"],
  ["de", "Deutsch — German"],
  ["pt-BR", "Português — Portuguese"],
  ["en", "English"],
];
const CHOICES = {
  difficulty: ["beginner", "intermediate", "advanced"],
  learning_style: ["visual", "reading", "hands_on", "mixed"],
  answer_length: ["short", "medium", "long"],
};

/** An element with attributes (`text` sets its text, `on<event>` adds a listener) and children. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children);
  return node;
}

function options(values, selected) {
  return values.map(([value, label]) => el("option", { value, selected: value === selected }, label));
}

function plainChoices(values) {
  return values.map((value) => [value, value.replace("_", " ")]);
}

function languageName(tag) {
  return LANGUAGES.find(([code]) => code === tag)?.[1].split(" — ").pop() ?? tag;
}

function isRtl(tag) {
  return RTL.has(String(tag || "").split("-")[0].toLowerCase());
}

export class LecternChatElement extends HTMLElement {
  static observedAttributes = ["api-base", "storage", "title", "theme"];

  #client = null;
  #ui = null;
  #view = "chat";
  #conversation = null;
  #quote = "";
  #selection = "";
  #selectionTimer = 0;
  #controller = null;
  #etag = null;
  #signingUp = false;
  #stops = [];

  constructor() {
    super();
    this.attachShadow({ mode: "open" }).adoptedStyleSheets = [styles()];
  }

  /** The LecternClient this element uses (created on first use from `api-base` and `storage`). */
  get client() {
    if (!this.#client) {
      this.#client = new LecternClient({
        baseUrl: this.getAttribute("api-base") || DEFAULT_API_BASE,
        storage: this.getAttribute("storage") === "local" ? "local" : "memory",
      });
      this.#client.onAuthChange(() => this.#renderAccount());
    }
    return this.#client;
  }

  connectedCallback() {
    if (!this.#ui) this.#build();
    this.#applyTheme();
    const onSelection = () => {
      clearTimeout(this.#selectionTimer);
      this.#selectionTimer = setTimeout(() => this.#placeAskButton(), 200);
    };
    document.addEventListener("selectionchange", onSelection);
    const scheme = matchMedia("(prefers-color-scheme: dark)");
    const onScheme = () => this.#applyTheme();
    scheme.addEventListener("change", onScheme);
    // Docusaurus says its theme in <html data-theme>.
    const observer = new MutationObserver(onScheme);
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    this.#stops.push(
      () => document.removeEventListener("selectionchange", onSelection),
      () => scheme.removeEventListener("change", onScheme),
      () => observer.disconnect(),
    );
  }

  disconnectedCallback() {
    for (const stop of this.#stops.splice(0)) stop();
    this.#controller?.abort();
  }

  attributeChangedCallback(name) {
    if (!this.#ui) return;
    if (name === "title") this.#ui.title.textContent = this.getAttribute("title") || DEFAULT_TITLE;
    else if (name === "theme") this.#applyTheme();
    else {
      this.#client = null;
      this.#conversation = null;
      this.#renderAccount();
    }
  }

  get isOpen() {
    return Boolean(this.#ui && !this.#ui.panel.hidden);
  }

  open(view) {
    if (!this.#ui) this.#build();
    this.#ui.panel.hidden = false;
    this.#ui.fab.setAttribute("aria-expanded", "true");
    this.#show(view ?? this.#view);
    this.#emit("lectern-open");
  }

  close() {
    if (!this.isOpen) return;
    const hadFocus = this.shadowRoot.activeElement !== null;
    this.#ui.panel.hidden = true;
    this.#ui.fab.setAttribute("aria-expanded", "false");
    if (hadFocus) this.#ui.fab.focus();
    this.#emit("lectern-close");
  }

  toggle() {
    if (this.isOpen) this.close();
    else this.open();
  }

  /** Ask a question (about `selectedText`, if given) and stream the answer into the panel. */
  async ask(message, { selectedText } = {}) {
    const question = String(message ?? "").trim();
    if (!question) return;
    this.open("chat");
    const ui = this.#ui;
    this.#controller?.abort();
    const controller = new AbortController();
    this.#controller = controller;
    const quote = selectedText ?? this.#quote;
    this.#setQuote("");
    this.#alert("");
    ui.intro.hidden = true;
    ui.log.append(el("div", { class: "msg user" }, quote ? el("blockquote", { text: quote }) : "", question));
    const body = el("div", { class: "md" });
    const answer = el("div", { class: "msg answer", "aria-busy": "true" }, body);
    ui.log.append(answer);
    this.#busy(true);
    this.#status("Answering…");
    let markdown = "";
    let citations = [];
    let finished = null;
    let painting = false;
    const paint = () => {
      painting = false;
      body.replaceChildren(renderMarkdown(markdown));
      ui.log.scrollTop = ui.log.scrollHeight;
    };
    const request = { message: question, page_url: location.href };
    if (quote) request.selected_text = quote;
    if (this.#conversation) request.conversation_id = this.#conversation;
    try {
      for await (const event of this.client.chatStream(request, { signal: controller.signal })) {
        if (event.type === "citations") citations = event.citations ?? [];
        else if (event.type === "token") {
          markdown += event.text;
          if (!painting) {
            painting = true;
            requestAnimationFrame(paint);
          }
        } else if (event.type === "done") finished = event;
      }
      paint();
      if (finished?.mode === "extractive") {
        answer.append(el("p", { class: "label", text: "Quoted from the book, not written by an AI model." }));
      }
      answer.append(this.#citationList(citations));
      this.#conversation = finished?.conversation_id ?? this.#conversation;
      this.#status("Answer complete.");
      this.#emit("lectern-answer", {
        message_id: finished?.message_id ?? null,
        conversation_id: this.#conversation,
        citations,
      });
    } catch (error) {
      paint();
      if (!markdown) answer.remove();
      this.#fail(error);
    } finally {
      answer.removeAttribute("aria-busy");
      if (this.#controller === controller) {
        this.#controller = null;
        this.#busy(false);
      }
    }
  }

  // --- building -----------------------------------------------------------------------------------------

  #build() {
    const tab = (view, label) =>
      el("button", { type: "button", "aria-pressed": "false", "data-view": view, onclick: () => this.#show(view) }, label);
    const ui = {};
    ui.fab = el(
      "button",
      { class: "fab primary", type: "button", "aria-expanded": "false", "aria-controls": "panel", onclick: () => this.toggle() },
      "Ask the book",
    );
    ui.ask = el(
      "button",
      {
        class: "ask primary",
        type: "button",
        hidden: true,
        onmousedown: (event) => event.preventDefault(), // keep the page's selection
        onclick: () => this.#askAboutSelection(),
      },
      "Ask about this",
    );
    ui.title = el("h2", { id: "title", text: this.getAttribute("title") || DEFAULT_TITLE });
    ui.tabs = {
      chat: tab("chat", "Chat"),
      page: tab("page", "This page"),
      preferences: tab("preferences", "Preferences"),
      account: tab("account", "Sign in"),
    };
    ui.status = el("div", { class: "status", role: "status" });
    ui.alert = el("div", { class: "alert", role: "alert" });
    ui.views = {
      chat: this.#buildChat(ui),
      page: this.#buildPage(ui),
      preferences: this.#buildPreferences(ui),
      account: el("div", { class: "view account", hidden: true }),
    };
    ui.panel = el(
      "section",
      {
        id: "panel",
        class: "panel",
        role: "dialog",
        "aria-labelledby": "title",
        title: "",
        hidden: true,
        onkeydown: (event) => {
          if (event.key === "Escape") this.close();
        },
      },
      el(
        "header",
        {},
        ui.title,
        el("button", { type: "button", "aria-label": "Close", onclick: () => this.close() }, "✕"),
      ),
      el("nav", { class: "tabs", "aria-label": "Assistant" }, ...Object.values(ui.tabs)),
      ui.status,
      ui.alert,
      ...Object.values(ui.views),
    );
    ui.root = el("div", { class: "root" }, ui.fab, ui.ask, ui.panel);
    this.shadowRoot.replaceChildren(ui.root);
    this.#ui = ui;
    this.#renderAccount();
  }

  #buildChat(ui) {
    ui.log = el("div", { class: "log", role: "log", "aria-label": "Conversation" });
    ui.intro = el("p", {
      class: "hint",
      text: "Ask anything about this book. Answers cite the pages they come from; select text on the page to ask about it.",
    });
    ui.log.append(ui.intro);
    ui.quote = el("span");
    ui.quoteBox = el(
      "blockquote",
      { class: "quote", hidden: true },
      ui.quote,
      el("button", { type: "button", "aria-label": "Remove the quoted text", onclick: () => this.#setQuote("") }, "✕"),
    );
    ui.question = el("textarea", {
      id: "question",
      rows: "2",
      placeholder: "Ask a question about this book",
      onkeydown: (event) => {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          ui.composer.requestSubmit();
        }
      },
    });
    ui.send = el("button", { class: "primary", type: "submit" }, "Send");
    ui.stop = el("button", { type: "button", hidden: true, onclick: () => this.#controller?.abort() }, "Stop");
    ui.composer = el(
      "form",
      {
        class: "composer",
        onsubmit: (event) => {
          event.preventDefault();
          const question = ui.question.value;
          if (!question.trim() || this.#controller) return;
          ui.question.value = "";
          this.ask(question);
        },
      },
      ui.quoteBox,
      el("label", { class: "sr", for: "question", text: "Your question" }),
      ui.question,
      el("div", { class: "row end" }, ui.stop, ui.send),
    );
    return el("div", { class: "view chat" }, ui.log, ui.composer);
  }

  #buildPage(ui) {
    ui.language = el("select", { id: "language" }, ...options(LANGUAGES, "ur"));
    ui.personalize = el(
      "button",
      { class: "primary", type: "button", onclick: () => this.#generate("personalize") },
      "Personalize this page",
    );
    ui.translate = el("button", { type: "button", onclick: () => this.#generate("translate") }, "Translate this page");
    ui.meta = el("p", { class: "meta" });
    ui.generated = el("article", { class: "generated md", hidden: true });
    return el(
      "div",
      { class: "view page", hidden: true },
      el("p", {
        class: "hint",
        text: "Rewrite this page for your background and level, or read it in another language.",
      }),
      el("div", { class: "row" }, ui.personalize),
      el("div", { class: "row" }, el("label", { for: "language", class: "sr", text: "Language" }), ui.language, ui.translate),
      ui.meta,
      ui.generated,
    );
  }

  #buildPreferences(ui) {
    const select = (name, label, values) =>
      el("label", {}, label, el("select", { name }, ...options(values, values[0][0])));
    ui.signedOutNote = el(
      "div",
      { class: "row" },
      el("p", { class: "hint", text: "Sign in to keep your preferences; answers and pages then follow them." }),
      el("button", { type: "button", onclick: () => this.#show("account") }, "Sign in"),
    );
    ui.preferences = el(
      "form",
      { onsubmit: (event) => this.#savePreferences(event) },
      select("difficulty", "Level", plainChoices(CHOICES.difficulty)),
      select("language", "Language", LANGUAGES),
      select("learning_style", "Learning style", plainChoices(CHOICES.learning_style)),
      select("answer_length", "Answer length", plainChoices(CHOICES.answer_length)),
      el("label", {}, "Topics you care about (comma-separated)", el("input", { name: "topics", autocomplete: "off" })),
      el("div", { class: "row end" }, el("button", { class: "primary", type: "submit" }, "Save preferences")),
    );
    return el("div", { class: "view preferences", hidden: true }, ui.signedOutNote, ui.preferences);
  }

  #renderAccount() {
    const ui = this.#ui;
    if (!ui) return;
    const user = this.#client?.user ?? null;
    ui.tabs.account.textContent = user ? "Account" : "Sign in";
    ui.signedOutNote.hidden = Boolean(user);
    ui.preferences.hidden = !user;
    if (!user) this.#conversation = null;
    const view = ui.views.account;
    if (user) {
      view.replaceChildren(
        el("p", { text: `Signed in as ${user.email}.` }),
        el("div", { class: "row" }, el("button", { type: "button", onclick: () => this.#signOut() }, "Sign out")),
      );
      return;
    }
    const signingUp = this.#signingUp;
    view.replaceChildren(
      el("h3", { text: signingUp ? "Create an account" : "Sign in", tabindex: "-1" }),
      el(
        "form",
        { onsubmit: (event) => this.#signIn(event) },
        signingUp ? el("label", {}, "Name (optional)", el("input", { name: "name", autocomplete: "name" })) : "",
        el("label", {}, "Email", el("input", { name: "email", type: "email", autocomplete: "email", required: true })),
        el(
          "label",
          {},
          signingUp ? "Password (at least 8 characters)" : "Password",
          el("input", {
            name: "password",
            type: "password",
            required: true,
            minlength: signingUp ? "8" : null,
            autocomplete: signingUp ? "new-password" : "current-password",
          }),
        ),
        el(
          "div",
          { class: "row" },
          el("button", { class: "primary", type: "submit" }, signingUp ? "Create account" : "Sign in"),
          el(
            "button",
            {
              type: "button",
              onclick: () => {
                this.#signingUp = !signingUp;
                this.#renderAccount();
                this.#focusView();
              },
            },
            signingUp ? "I have an account" : "Create an account",
          ),
        ),
      ),
    );
  }

  // --- behaviour ----------------------------------------------------------------------------------------

  #show(view) {
    const ui = this.#ui;
    this.#view = view;
    for (const [name, node] of Object.entries(ui.views)) node.hidden = name !== view;
    for (const [name, button] of Object.entries(ui.tabs)) button.setAttribute("aria-pressed", String(name === view));
    ui.panel.classList.toggle("wide", view === "page" && !ui.generated.hidden);
    this.#alert("");
    if (view === "preferences" && this.#client?.user) this.#loadPreferences();
    this.#focusView();
  }

  #focusView() {
    const view = this.#ui.views[this.#view];
    const target =
      this.#view === "chat" ? this.#ui.question : view.querySelector("input, select, textarea, button, [tabindex]");
    target?.focus();
  }

  #status(text) {
    this.#ui.status.textContent = text;
  }

  #alert(text) {
    this.#ui.alert.textContent = text;
  }

  #fail(error) {
    this.#status("");
    const message = describeError(error);
    this.#alert(message);
    this.#emit("lectern-error", { message, status: error?.status ?? 0, code: error?.code ?? "error" });
  }

  #busy(busy) {
    this.#ui.send.disabled = busy;
    this.#ui.stop.hidden = !busy;
  }

  #emit(name, detail = null) {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  #applyTheme() {
    const wanted = this.getAttribute("theme");
    const page = document.documentElement.getAttribute("data-theme");
    let theme = wanted === "dark" || wanted === "light" ? wanted : page;
    if (theme !== "dark" && theme !== "light") {
      theme = matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
    }
    this.#ui.root.dataset.theme = theme;
  }

  #setQuote(text) {
    this.#quote = text;
    this.#ui.quote.textContent = text;
    this.#ui.quoteBox.hidden = !text;
  }

  #placeAskButton() {
    const selection = document.getSelection();
    const button = this.#ui.ask;
    const text = selection && selection.rangeCount ? selection.toString().trim() : "";
    if (!text || selection.containsNode(this, true)) {
      button.hidden = true;
      return;
    }
    const box = selection.getRangeAt(0).getBoundingClientRect();
    if (!box.width && !box.height) {
      button.hidden = true;
      return;
    }
    this.#selection = text.slice(0, MAX_SELECTION);
    // Custom properties set through the CSSOM: a strict style-src allows them, unlike a style attribute.
    button.style.setProperty("--x", `${Math.round(box.left + box.width / 2)}px`);
    button.style.setProperty("--y", `${Math.round(box.top)}px`);
    button.hidden = false;
  }

  #askAboutSelection() {
    this.#ui.ask.hidden = true;
    this.#setQuote(this.#selection);
    this.open("chat");
    const question = this.#ui.question;
    if (!question.value.trim()) question.value = "Explain this passage.";
    question.focus();
    question.select();
  }

  #citationList(citations) {
    if (!citations.length) return "";
    const list = el("ol", { class: "citations", "aria-label": "Sources" });
    for (const citation of citations) {
      const label = citation.heading ? `${citation.title} › ${citation.heading}` : citation.title;
      const url = safeUrl(citation.url, document.baseURI);
      // Numbered as the answer's [id] markers name them.
      const number = /^\d+$/.test(citation.id ?? "") ? citation.id : null;
      list.append(el("li", { value: number }, url ? el("a", { href: url }, label) : label));
    }
    return list;
  }

  async #generate(task) {
    const ui = this.#ui;
    const language = task === "translate" ? ui.language.value : undefined;
    this.#alert("");
    this.#status(task === "translate" ? `Translating this page into ${languageName(language)}…` : "Personalizing this page…");
    ui.personalize.disabled = ui.translate.disabled = true;
    ui.generated.setAttribute("aria-busy", "true");
    try {
      const request = { task, source: { page: location.pathname } };
      if (language) request.language = language;
      const result = await this.client.generate(request);
      const tag = result.language || language || "";
      const dir = result.dir === "rtl" || result.dir === "ltr" ? result.dir : isRtl(tag) ? "rtl" : "ltr";
      const title = result.source?.title ?? document.title;
      ui.meta.textContent =
        (task === "translate" ? `${title}, in ${languageName(tag)}` : `${title}, rewritten for you`) +
        (result.cached ? " (saved earlier)" : "");
      ui.generated.lang = tag;
      ui.generated.dir = dir;
      ui.generated.replaceChildren(renderMarkdown(result.content ?? ""));
      ui.generated.hidden = false;
      ui.panel.classList.add("wide");
      this.#status(task === "translate" ? "Translation ready." : "Your version of this page is ready.");
      this.#emit("lectern-generated", { task, language: tag, dir, cached: Boolean(result.cached) });
    } catch (error) {
      this.#fail(error);
    } finally {
      ui.personalize.disabled = ui.translate.disabled = false;
      ui.generated.removeAttribute("aria-busy");
    }
  }

  async #signIn(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const fields = Object.fromEntries(new FormData(form));
    const signingUp = this.#signingUp;
    for (const control of form.elements) control.disabled = true;
    this.#alert("");
    this.#status(signingUp ? "Creating your account…" : "Signing in…");
    try {
      const user = signingUp ? await this.client.signup(fields) : await this.client.login(fields);
      this.#signingUp = false;
      this.#status(`Signed in as ${user.email}.`);
      this.#emit("lectern-signin", { user });
      this.#show(signingUp ? "preferences" : "chat");
    } catch (error) {
      for (const control of form.elements) control.disabled = false;
      this.#fail(error);
    }
  }

  async #signOut() {
    try {
      await this.client.logout();
      this.#status("Signed out.");
    } catch (error) {
      this.#fail(error);
    }
    this.#emit("lectern-signout");
  }

  async #loadPreferences() {
    const form = this.#ui.preferences;
    try {
      const { preferences, etag } = await this.client.getPreferences();
      this.#etag = etag;
      for (const name of ["difficulty", "learning_style", "answer_length"]) form.elements[name].value = preferences[name];
      const language = form.elements.language;
      if (![...language.options].some((option) => option.value === preferences.language)) {
        language.append(el("option", { value: preferences.language }, preferences.language));
      }
      language.value = preferences.language;
      form.elements.topics.value = (preferences.topics ?? []).join(", ");
    } catch (error) {
      this.#fail(error);
    }
  }

  async #savePreferences(event) {
    event.preventDefault();
    const form = this.#ui.preferences;
    const fields = Object.fromEntries(new FormData(form));
    const preferences = {
      ...fields,
      topics: fields.topics
        .split(",")
        .map((topic) => topic.trim())
        .filter(Boolean),
    };
    this.#alert("");
    this.#status("Saving…");
    try {
      const saved = await this.client.updatePreferences(preferences, { ifMatch: this.#etag });
      this.#etag = saved.etag;
      this.#status("Preferences saved.");
      this.#emit("lectern-preferences", saved.preferences);
    } catch (error) {
      if (error.status === 412) {
        await this.#loadPreferences();
        this.#status("");
        this.#alert("Your preferences were changed elsewhere (another tab?). They are reloaded: check them, then save again.");
      } else this.#fail(error);
    }
  }
}

if (!customElements.get("lectern-chat")) customElements.define("lectern-chat", LecternChatElement);
