// The pages' shared look: plain, readable, high contrast, with visible focus for keyboard users,
// and the head every page starts with.

export const PAGE_STYLE = `
:root { color-scheme: light dark; --fg: #1b1b1f; --bg: #fafafa; --muted: #5b5b66; --line: #d0d0d7; --accent: #0b5cad; --bad: #a4262c; --ok: #107c10; }
@media (prefers-color-scheme: dark) { :root { --fg: #eee; --bg: #16161a; --muted: #a8a8b3; --line: #3a3a44; --accent: #6cb8f6; --bad: #ff8b8b; --ok: #7bd87b; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 1rem; align-items: center; padding: .6rem 1rem; border-bottom: 1px solid var(--line); }
header h1 { font-size: 1.1rem; margin: 0; }
main { padding: 1rem; max-width: 1200px; margin: 0 auto; }
label { display: block; font-size: .85rem; color: var(--muted); margin: .4rem 0 .15rem; }
input, select, textarea, button { font: inherit; color: inherit; background: transparent; border: 1px solid var(--line); border-radius: 4px; padding: .35rem .5rem; }
textarea { width: 100%; resize: vertical; }
button { cursor: pointer; background: var(--accent); color: #fff; border-color: var(--accent); }
button.secondary { background: transparent; color: var(--fg); border-color: var(--line); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 1px; }
.alert { border: 1px solid var(--bad); color: var(--bad); padding: .5rem .75rem; border-radius: 4px; margin: .5rem 0; }
.muted { color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); font-variant-numeric: tabular-nums; }
.hidden { display: none !important; }
`;

/** A page's opening up to its own styles: `extraHead` (links, scripts) and `css` after the shared style. */
export const pageHead = (title: string, css: string, extraHead = '') => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · aoai-simulator</title>
${extraHead}<style>${PAGE_STYLE}${css}</style>
</head>`;
