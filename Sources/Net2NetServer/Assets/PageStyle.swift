/// The page's style sheet. Results are small images shown large, so they are
/// drawn pixelated rather than blurred.
enum PageStyle {
    static let text = #"""
:root { --fg: #1d1d1f; --muted: #5f6368; --accent: #2f5fd0; --line: #d9dce1; --bg: #fafafa; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { padding: 12px 20px 0; border-bottom: 1px solid var(--line); background: #fff; }
h1 { margin: 0; font-size: 22px; }
.tagline { margin: 2px 0 8px; color: var(--muted); }
nav button { border: 0; background: none; padding: 8px 12px; font: inherit; cursor: pointer; border-bottom: 3px solid transparent; }
nav button.active { border-color: var(--accent); color: var(--accent); }
main { padding: 16px 20px 40px; }
.controls { display: flex; flex-wrap: wrap; gap: 10px 16px; align-items: end; margin: 8px 0; }
.controls.column { flex-direction: column; align-items: stretch; }
.controls label { display: flex; flex-direction: column; font-size: 13px; color: var(--muted); }
.controls label.check { flex-direction: row; gap: 6px; align-items: center; color: var(--fg); }
input, select, button { font: inherit; padding: 5px 8px; }
input[type=number] { width: 6em; }
#text-prompt, #swap-to { width: 22em; }
button[type=submit] { background: var(--accent); color: #fff; border: 0; border-radius: 4px; padding: 7px 16px; cursor: pointer; }
button:disabled { opacity: .5; cursor: wait; }
.note { color: var(--muted); font-size: 13px; max-width: 60em; }
.row { display: flex; gap: 20px; align-items: flex-start; flex-wrap: wrap; }
canvas { border: 1px solid var(--line); touch-action: none; cursor: crosshair; background: #000; }
.grid { display: flex; flex-wrap: wrap; gap: 6px; margin: 6px 0 14px; align-items: center; }
.grid img, .strip img, .source img { width: 112px; height: 112px; image-rendering: pixelated; border: 1px solid var(--line); background: #000; }
.grid figure { margin: 0; }
.grid figcaption { font-size: 12px; color: var(--muted); }
.strip { display: flex; flex-wrap: wrap; gap: 6px; margin: 6px 0; }
.strip img { cursor: pointer; width: 56px; height: 56px; }
.strip img.picked { outline: 3px solid var(--accent); }
.result-title { margin: 10px 0 0; font-weight: 600; }
.source { display: flex; gap: 14px; align-items: center; }
.arrow { font-size: 28px; color: var(--muted); }
#progress { position: fixed; right: 20px; bottom: 20px; background: #fff; border: 1px solid var(--line); padding: 10px 14px; border-radius: 6px; box-shadow: 0 2px 8px rgba(0,0,0,.12); }
.spinner { display: inline-block; width: 14px; height: 14px; border: 2px solid var(--line); border-top-color: var(--accent); border-radius: 50%; animation: spin .8s linear infinite; vertical-align: -2px; }
@keyframes spin { to { transform: rotate(360deg); } }
#train-plot { background: #fff; cursor: default; display: block; margin: 8px 0; }
.error { color: #b3261e; font-weight: 600; }
"""#
}
