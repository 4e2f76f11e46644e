// Markdown to DOM nodes for text Lectern did not write (model answers, generated pages, book passages).
// Only elements built with createElement and text set through text nodes: no HTML string is ever parsed,
// so raw HTML in the Markdown shows as text. Links and images keep only http(s) (or relative) URLs.

const FENCE = /^ {0,3}(`{3,}|~{3,})[ \t]*([^\s`]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const ITEM = /^( {0,3})([-*+]|\d{1,9}[.)])([ \t]+(.*))?$/;
const TABLE_DELIMITER = /^ {0,3}\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;
const ESCAPABLE = /[!-/:-@[-`{-~]/;
const MAX_DEPTH = 16;

/** The URL as the browser would use it, if it is http(s) (relative URLs resolve against `base`); else null. */
export function safeUrl(raw, base) {
  try {
    const url = new URL(String(raw).trim(), base);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/** Render Markdown into a DocumentFragment of inert nodes. */
export function renderMarkdown(markdown, options = {}) {
  const doc = options.document ?? globalThis.document;
  const ctx = { doc, base: options.baseUrl ?? doc.baseURI, depth: 0 };
  const fragment = doc.createDocumentFragment();
  const lines = String(markdown ?? "").replace(/\r\n?/g, "\n").replace(/\0/g, "\uFFFD").split("\n");
  renderBlocks(lines, fragment, ctx);
  return fragment;
}

function make(ctx, tag, parent) {
  const node = ctx.doc.createElement(tag);
  parent.append(node);
  return node;
}

function startsBlock(line) {
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) || ITEM.test(line);
}

function renderBlocks(lines, parent, ctx) {
  if (ctx.depth > MAX_DEPTH) {
    parent.append(lines.join("\n"));
    return;
  }
  ctx.depth += 1;
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    let match;
    if (!line.trim()) {
      i += 1;
    } else if ((match = FENCE.exec(line))) {
      const marker = match[1];
      const body = [];
      i += 1;
      while (i < lines.length && !closesFence(lines[i], marker)) body.push(lines[i++]);
      i += 1;
      const code = make(ctx, "code", make(ctx, "pre", parent));
      const language = match[2].replace(/[^\w+-]/g, "");
      if (language) code.className = `language-${language}`;
      code.textContent = body.join("\n");
    } else if ((match = HEADING.exec(line))) {
      renderInline(match[2] ?? "", make(ctx, `h${match[1].length}`, parent), ctx);
      i += 1;
    } else if (RULE.test(line)) {
      make(ctx, "hr", parent);
      i += 1;
    } else if (QUOTE.test(line)) {
      const inner = [];
      while (i < lines.length && lines[i].trim() && (match = QUOTE.exec(lines[i]) ?? [null, lines[i]])) {
        inner.push(match[1]);
        i += 1;
      }
      renderBlocks(inner, make(ctx, "blockquote", parent), ctx);
    } else if (ITEM.test(line)) {
      i = renderList(lines, i, parent, ctx);
    } else if (startsTable(lines, i)) {
      i = renderTable(lines, i, parent, ctx);
    } else {
      const paragraph = [];
      while (i < lines.length && lines[i].trim() && !(paragraph.length && startsBlock(lines[i]))) {
        paragraph.push(lines[i]);
        i += 1;
      }
      renderInline(paragraph.join("\n").trim(), make(ctx, "p", parent), ctx);
    }
  }
  ctx.depth -= 1;
}

function startsTable(lines, i) {
  const delimiter = lines[i + 1];
  return (
    lines[i].includes("|") &&
    delimiter !== undefined &&
    TABLE_DELIMITER.test(delimiter) &&
    splitRow(lines[i]).length === splitRow(delimiter).length
  );
}

function closesFence(line, marker) {
  const trimmed = line.trim();
  return trimmed.length >= marker.length && trimmed === marker[0].repeat(trimmed.length) && line.search(/\S/) < 4;
}

function indentOf(line) {
  return line.length - line.trimStart().length;
}

function renderList(lines, start, parent, ctx) {
  const first = ITEM.exec(lines[start]);
  const ordered = /\d/.test(first[2]);
  const list = make(ctx, ordered ? "ol" : "ul", parent);
  const number = parseInt(first[2], 10);
  if (ordered && number !== 1) list.start = number;
  let i = start;
  let loose = false;
  const items = [];
  while (i < lines.length) {
    const match = ITEM.exec(lines[i]);
    if (!match || /\d/.test(match[2]) !== ordered || match[1].length > first[1].length + 1) break;
    const contentIndent = match[1].length + match[2].length + 1;
    const body = [match[4] ?? ""];
    i += 1;
    while (i < lines.length) {
      const line = lines[i];
      if (!line.trim()) {
        let next = i + 1;
        while (next < lines.length && !lines[next].trim()) next += 1;
        if (next >= lines.length || indentOf(lines[next]) < 2) break;
        loose = true;
        body.push("");
      } else if (indentOf(line) >= 2) {
        body.push(line.slice(Math.min(indentOf(line), contentIndent)));
      } else if (startsBlock(line)) {
        break;
      } else {
        body.push(line);
      }
      i += 1;
    }
    items.push(body);
    if (i < lines.length && !lines[i].trim()) {
      let next = i;
      while (next < lines.length && !lines[next].trim()) next += 1;
      const following = next < lines.length ? ITEM.exec(lines[next]) : null;
      if (!following || /\d/.test(following[2]) !== ordered) break;
      loose = true;
      i = next;
    }
  }
  for (const body of items) {
    const item = make(ctx, "li", list);
    if (loose) {
      renderBlocks(body, item, ctx);
      continue;
    }
    // A tight item's text sits in the item itself; a nested list or code block follows it.
    let end = 1;
    while (end < body.length && body[end].trim() && !startsBlock(body[end])) end += 1;
    renderInline(body.slice(0, end).join("\n").trim(), item, ctx);
    renderBlocks(body.slice(end), item, ctx);
  }
  return i;
}

function splitRow(line) {
  let text = line.trim();
  if (text.startsWith("|")) text = text.slice(1);
  if (text.endsWith("|") && !text.endsWith("\\|")) text = text.slice(0, -1);
  const cells = [];
  let cell = "";
  let code = 0;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (char === "\\" && text[i + 1] === "|") {
      cell += "|";
      i += 1;
    } else if (char === "`") {
      code = code ? 0 : 1;
      cell += char;
    } else if (char === "|" && !code) {
      cells.push(cell.trim());
      cell = "";
    } else {
      cell += char;
    }
  }
  cells.push(cell.trim());
  return cells;
}

function renderTable(lines, start, parent, ctx) {
  const wrapper = make(ctx, "div", parent);
  wrapper.className = "table";
  const table = make(ctx, "table", wrapper);
  const header = splitRow(lines[start]);
  const aligns = splitRow(lines[start + 1]).map((cell) =>
    cell.endsWith(":") ? (cell.startsWith(":") ? "center" : "right") : "",
  );
  const row = (cells, section, tag) => {
    const tr = make(ctx, "tr", section);
    header.forEach((_, index) => {
      const cell = make(ctx, tag, tr);
      if (aligns[index]) cell.className = `align-${aligns[index]}`;
      renderInline(cells[index] ?? "", cell, ctx);
    });
  };
  row(header, make(ctx, "thead", table), "th");
  const body = make(ctx, "tbody", table);
  let i = start + 2;
  while (i < lines.length && lines[i].trim() && lines[i].includes("|")) {
    row(splitRow(lines[i]), body, "td");
    i += 1;
  }
  return i;
}

function isWordChar(char) {
  return char !== undefined && /[\p{L}\p{N}]/u.test(char);
}

function isSpace(char) {
  return char === undefined || /\s/.test(char);
}

/** Render inline Markdown: code spans, links, images, emphasis, strikethrough, breaks. */
function renderInline(text, parent, ctx) {
  if (ctx.depth > MAX_DEPTH) {
    parent.append(text);
    return;
  }
  ctx.depth += 1;
  let plain = "";
  const flush = () => {
    if (plain) parent.append(plain);
    plain = "";
  };
  let i = 0;
  while (i < text.length) {
    const char = text[i];
    if (char === "\\" && ESCAPABLE.test(text[i + 1] ?? "")) {
      plain += text[i + 1];
      i += 2;
      continue;
    }
    if (char === "\n") {
      const hard = /( {2,}|\\)$/.test(plain) || text[i - 1] === "\\";
      plain = plain.replace(/( +|\\)$/, "");
      flush();
      if (hard) make(ctx, "br", parent);
      else parent.append("\n");
      i += 1;
      continue;
    }
    if (char === "`") {
      const run = /^`+/.exec(text.slice(i))[0];
      const close = findCodeClose(text, i + run.length, run.length);
      if (close !== -1) {
        flush();
        let code = text.slice(i + run.length, close).replace(/\n/g, " ");
        if (/^ .*[^ ].* $/.test(code)) code = code.slice(1, -1);
        make(ctx, "code", parent).textContent = code;
        i = close + run.length;
      } else {
        plain += run;
        i += run.length;
      }
      continue;
    }
    if ((char === "[" || (char === "!" && text[i + 1] === "[")) && !ctx.inLink) {
      const image = char === "!";
      const link = readLink(text, image ? i + 1 : i);
      if (link) {
        flush();
        const url = safeUrl(link.destination, ctx.base);
        if (image) {
          if (url) {
            const img = make(ctx, "img", parent);
            img.alt = link.label;
            img.src = url;
            img.loading = "lazy";
            img.referrerPolicy = "no-referrer";
            if (link.title) img.title = link.title;
          } else parent.append(link.label);
        } else {
          const target = url ? make(ctx, "a", parent) : make(ctx, "span", parent);
          if (url) {
            target.href = url;
            target.rel = "noopener noreferrer";
            if (link.title) target.title = link.title;
          }
          ctx.inLink = true;
          renderInline(link.label, target, ctx);
          ctx.inLink = false;
        }
        i = link.end;
        continue;
      }
    }
    if (char === "<" && !ctx.inLink) {
      const auto = /^<(https?:\/\/[^\s<>]+)>/i.exec(text.slice(i));
      const url = auto && safeUrl(auto[1], ctx.base);
      if (url) {
        flush();
        const a = make(ctx, "a", parent);
        a.href = url;
        a.rel = "noopener noreferrer";
        a.textContent = auto[1];
        i += auto[0].length;
        continue;
      }
    }
    if (char === "*" || char === "_" || char === "~") {
      const run = new RegExp(`^\\${char}+`).exec(text.slice(i))[0];
      const span = emphasis(text, i, run, char);
      if (span) {
        flush();
        let outer = parent;
        for (const tag of span.tags) outer = make(ctx, tag, outer);
        renderInline(text.slice(i + span.size, span.close), outer, ctx);
        i = span.close + span.size;
        continue;
      }
      plain += run;
      i += run.length;
      continue;
    }
    plain += char;
    i += 1;
  }
  flush();
  ctx.depth -= 1;
}

function findCodeClose(text, from, size) {
  let at = from;
  while ((at = text.indexOf("`".repeat(size), at)) !== -1) {
    if (text[at + size] !== "`" && text[at - 1] !== "`") return at;
    at += size;
  }
  return -1;
}

function emphasis(text, start, run, char) {
  const size = char === "~" ? 2 : Math.min(run.length, 3);
  if (run.length !== size || isSpace(text[start + size])) return null;
  if (char === "_" && isWordChar(text[start - 1])) return null;
  const marker = char.repeat(size);
  let at = start + size + 1;
  while ((at = text.indexOf(marker, at)) !== -1) {
    const exact = text[at - 1] !== char && text[at + size] !== char;
    if (exact && !isSpace(text[at - 1]) && !(char === "_" && isWordChar(text[at + size]))) {
      const tags = char === "~" ? ["del"] : size === 3 ? ["strong", "em"] : size === 2 ? ["strong"] : ["em"];
      return { size, close: at, tags };
    }
    at += 1;
  }
  return null;
}

/** `[label](destination "title")` starting at `start` (the "["), or null. */
function readLink(text, start) {
  let depth = 0;
  let i = start;
  for (; i < text.length; i += 1) {
    const char = text[i];
    if (char === "\\") i += 1;
    else if (char === "[") depth += 1;
    else if (char === "]" && --depth === 0) break;
  }
  if (i >= text.length || text[i + 1] !== "(") return null;
  const label = text.slice(start + 1, i);
  const rest = /^\(\s*(<[^<>\n]*>|[^\s()<>]*(?:\([^\s()<>]*\)[^\s()<>]*)*)(?:\s+("[^"]*"|'[^']*'))?\s*\)/.exec(
    text.slice(i + 1),
  );
  if (!rest) return null;
  const destination = rest[1].startsWith("<") ? rest[1].slice(1, -1) : rest[1];
  return { label, destination, title: rest[2] ? rest[2].slice(1, -1) : "", end: i + 1 + rest[0].length };
}
