// The element's stylesheet, constructed once and adopted by each element's shadow root: a strict CSP's
// style-src allows it, unlike <style> elements or style attributes. Follows the page's light or dark theme
// through .root[data-theme]; colours meet WCAG AA contrast in both.

const CSS = `
:host{all:initial}
[hidden]{display:none!important}
.root{--bg:#fff;--fg:#1c1e21;--muted:#596066;--line:#d0d7de;--soft:#f2f4f6;--accent:#2e8555;--on-accent:#fff;--link:#246b45;--danger:#b3261e;
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg)}
.root[data-theme=dark]{--bg:#1b1b1d;--fg:#e3e3e3;--muted:#a8adb3;--line:#444950;--soft:#2a2b2e;--accent:#25c2a0;--on-accent:#0d2620;--link:#25c2a0;--danger:#f2b8b5}
button,input,select,textarea{font:inherit;color:inherit}
button{background:transparent;border:1px solid var(--line);border-radius:8px;padding:6px 10px;cursor:pointer}
button:disabled{opacity:.6;cursor:default}
.primary{background:var(--accent);border-color:var(--accent);color:var(--on-accent);font-weight:600}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.fab,.panel,.ask{position:fixed;z-index:2147483000}
.fab{right:20px;bottom:20px;border:0;border-radius:999px;padding:12px 18px;box-shadow:0 4px 14px #0004}
.ask{left:clamp(8px,calc(var(--x,0px) - 70px),calc(100vw - 160px));top:max(8px,calc(var(--y,0px) - 46px));box-shadow:0 2px 10px #0004}
.panel{right:20px;bottom:80px;width:min(420px,calc(100vw - 40px));height:min(640px,calc(100vh - 110px));display:flex;
flex-direction:column;background:var(--bg);border:1px solid var(--line);border-radius:12px;box-shadow:0 12px 40px #0005;overflow:hidden}
.panel.wide{width:min(760px,calc(100vw - 40px))}
header{display:flex;align-items:center;gap:8px;padding:10px 12px;border-bottom:1px solid var(--line)}
h2{font-size:16px;margin:0;flex:1}
h3{font-size:15px;margin:0}
.tabs{display:flex;gap:4px;padding:6px 12px;border-bottom:1px solid var(--line);flex-wrap:wrap}
.tabs button{border-color:transparent}
.tabs [aria-pressed=true]{background:var(--soft);border-color:var(--line);font-weight:600}
.alert{margin:8px 12px 0;padding:8px 10px;border:1px solid var(--danger);border-radius:8px;color:var(--danger)}
.status{margin:6px 12px 0;font-size:13px;color:var(--muted)}
.alert:empty,.status:empty{display:none}
.view{flex:1;min-height:0;overflow:auto;padding:12px;display:flex;flex-direction:column;gap:10px}
.view.chat{padding:0;overflow:hidden}
.log{flex:1;overflow:auto;padding:12px;display:flex;flex-direction:column;gap:12px}
.hint{color:var(--muted);font-size:14px;margin:0}
.msg{border-radius:12px;padding:8px 12px;overflow-wrap:anywhere}
.msg.user{align-self:flex-end;max-width:85%;background:var(--accent);color:var(--on-accent);white-space:pre-wrap}
.msg.user blockquote{margin:0 0 6px;padding-left:8px;border-left:3px solid currentColor;opacity:.9}
.msg.answer{align-self:flex-start;max-width:95%;background:var(--soft)}
.label{font-size:12px;color:var(--muted);margin:4px 0 0}
.citations{font-size:13px;margin:8px 0 0;padding-left:20px}
a{color:var(--link)}
.composer{display:flex;flex-direction:column;gap:6px;padding:10px 12px;border-top:1px solid var(--line)}
.quote{display:flex;gap:6px;align-items:flex-start;margin:0;padding:4px 8px;border-left:3px solid var(--accent);font-size:13px;color:var(--muted)}
.quote span{flex:1;display:-webkit-box;-webkit-line-clamp:3;-webkit-box-orient:vertical;overflow:hidden}
.row{display:flex;gap:8px;align-items:center;flex-wrap:wrap}
.row.end{justify-content:flex-end}
label{display:flex;flex-direction:column;gap:4px;font-size:14px}
textarea,input,select{background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:8px;width:100%;box-sizing:border-box}
textarea{resize:vertical;min-height:44px}
.row select{flex:1;width:auto}
form{display:flex;flex-direction:column;gap:10px;margin:0}
.meta{font-size:13px;color:var(--muted);margin:0}
.md>:first-child{margin-top:0}.md>:last-child{margin-bottom:0}
.md pre{overflow:auto;padding:8px;border-radius:6px;background:var(--soft);border:1px solid var(--line)}
.md code{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.md :not(pre)>code{background:var(--soft);padding:1px 4px;border-radius:4px}
.md blockquote{margin:0;padding-left:10px;border-left:3px solid var(--line);color:var(--muted)}
.md .table{overflow:auto}
.md table{border-collapse:collapse;font-size:14px}
.md th,.md td{border:1px solid var(--line);padding:4px 8px;text-align:start}
.md .align-center{text-align:center}.md .align-right{text-align:end}
.md img{max-width:100%}
.generated{border-top:1px solid var(--line);padding-top:8px}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
@media (prefers-reduced-motion:no-preference){.panel{animation:rise .15s ease-out}@keyframes rise{from{opacity:0;transform:translateY(8px)}}}
@media (max-width:480px){.panel{left:8px;right:8px;width:auto;bottom:76px;height:calc(100vh - 96px)}}
`;

let sheet = null;

/** The shared stylesheet. */
export function styles() {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
  }
  return sheet;
}
