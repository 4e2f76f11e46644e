// The demo book (LECTERN_DEMO=1): the ingested pages in a list, and one page rebuilt from its passages,
// rendered with the widget's own Markdown renderer. Imports the same lectern.js the page loads, so the
// element and this script share one module instance.

import { LecternClient, renderMarkdown } from "./lectern.js";

const BOOK = "/book";
const client = new LecternClient({ baseUrl: location.origin });
const nav = document.getElementById("pages");
const main = document.getElementById("page");

function el(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text) node.textContent = text;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

function pagePath(page) {
  return BOOK + page.route;
}

function showPages(pages, current) {
  const list = el("ul");
  for (const page of pages) {
    const link = el("a", page.title, { href: pagePath(page) });
    if (current && page.id === current.id) link.setAttribute("aria-current", "page");
    const item = el("li");
    item.append(link);
    list.append(item);
  }
  nav.replaceChildren(el("h2", "Pages"), list);
}

function showHome(pages) {
  const intro = el(
    "p",
    "The pages ingested into this Lectern server, rebuilt from the passages that chat answers cite. " +
      "Open one, select a sentence and choose “Ask about this”, or press “Ask the book”.",
  );
  main.replaceChildren(el("h1", "The Lectern demo book"), intro);
  if (!pages.length) {
    const command = el("pre");
    command.append(el("code", `lectern ingest docs --base-url ${location.origin} --route-base ${BOOK}`));
    main.append(el("p", "The book is empty. Ingest one, then reload:"), command);
    return;
  }
  const list = el("ul", "", { class: "cards" });
  for (const page of pages) {
    const item = list.appendChild(el("li"));
    item.append(el("a", page.title, { href: pagePath(page) }));
    if (page.description) item.append(el("p", page.description));
  }
  main.append(list);
  document.title = "Lectern demo book";
}

function showPage(page) {
  const article = el("article");
  article.append(el("h1", page.title));
  if (page.description) article.append(el("p", page.description, { class: "lead" }));
  for (const section of page.sections) {
    if (section.heading) {
      const heading = el(`h${Math.min(6, Math.max(2, section.level))}`, section.heading);
      if (section.anchor) heading.id = section.anchor;
      article.append(heading);
    }
    if (section.markdown) article.append(renderMarkdown(section.markdown));
  }
  main.replaceChildren(article);
  document.title = `${page.title} · Lectern demo`;
  // Links between Markdown files (intro.md, ../api.md#errors) land here too: show the page's own address.
  if (location.pathname !== pagePath(page)) history.replaceState(null, "", pagePath(page) + location.hash);
  if (location.hash) document.getElementById(decodeURIComponent(location.hash.slice(1)))?.scrollIntoView();
}

function showError(error) {
  const back = el("p");
  back.append(el("a", "All pages", { href: "/" }));
  main.replaceChildren(el("h1", "Not found"), el("p", error.message), back);
}

function setUpThemeToggle() {
  const button = document.getElementById("theme");
  const root = document.documentElement;
  const apply = (theme) => {
    root.dataset.theme = theme;
    button.setAttribute("aria-pressed", String(theme === "dark"));
  };
  apply(matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
  button.addEventListener("click", () => apply(root.dataset.theme === "dark" ? "light" : "dark"));
}

async function start() {
  setUpThemeToggle();
  const inBook = location.pathname.startsWith(`${BOOK}/`);
  const reference = inBook ? location.pathname.slice(BOOK.length + 1) : null;
  const [listed, opened] = await Promise.allSettled([
    client.pages(),
    reference === null ? Promise.resolve(null) : client.page(decodeURIComponent(reference)),
  ]);
  const pages = listed.status === "fulfilled" ? listed.value.pages : [];
  const page = opened.status === "fulfilled" ? opened.value : null;
  showPages(pages, page);
  if (listed.status === "rejected") showError(listed.reason);
  else if (reference === null) showHome(pages);
  else if (page) showPage(page);
  else showError(opened.reason);
  main.removeAttribute("aria-busy");
}

start();
