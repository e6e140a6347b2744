// Styles live in the widget's shadow root, so the portal's CSS and ours cannot collide.
// Sizes in rem follow the user's font size and zoom; colours meet WCAG AA contrast.
export const CSS = `
:host { all: initial; }
* { box-sizing: border-box; }
.ba { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; font-size: 1rem;
      line-height: 1.45; color: #1a1a1a; }
.ba-sr { position: absolute !important; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
         clip-path: inset(50%); white-space: nowrap; }
button, input, textarea { font: inherit; }
:focus-visible { outline: 3px solid #0b4f8a; outline-offset: 2px; }
.ba-launcher { position: fixed; right: 1rem; bottom: 1rem; z-index: 2147483000; display: flex;
      align-items: center; gap: .5rem; padding: .75rem 1.1rem; border: 2px solid #fff; border-radius: 2rem;
      background: #0b4f8a; color: #fff; font-weight: 600; cursor: pointer;
      box-shadow: 0 .2rem .8rem rgba(0,0,0,.3); max-width: calc(100vw - 2rem); }
.ba-launcher:hover { background: #083b68; }
.ba-badge { background: #fff; color: #0b4f8a; border-radius: 1rem; padding: 0 .5rem; font-size: .85rem; }
.ba-dialog { position: fixed; right: 1rem; bottom: 1rem; z-index: 2147483001; display: flex;
      flex-direction: column; width: min(26rem, calc(100vw - 2rem)); height: min(40rem, calc(100vh - 2rem));
      background: #fff; border: 1px solid #6b7580; border-radius: .6rem;
      box-shadow: 0 .4rem 1.6rem rgba(0,0,0,.3); overflow: hidden; }
.ba-dialog[hidden], .ba-launcher[hidden], [hidden] { display: none !important; }
@media (max-width: 32rem), (max-height: 30rem) {
  .ba-dialog { inset: 0; width: 100%; height: 100%; border-radius: 0; border: 0; }
}
.ba-head { display: flex; flex-wrap: wrap; align-items: center; gap: .4rem; padding: .6rem .75rem;
      background: #0b4f8a; color: #fff; }
.ba-head h2 { margin: 0; font-size: 1.1rem; flex: 1 1 8rem; }
.ba-head .ba-sub { display: block; font-size: .8rem; font-weight: 400; }
.ba-head button { background: transparent; color: #fff; border: 1px solid #fff; border-radius: .4rem;
      padding: .3rem .55rem; cursor: pointer; font-size: .9rem; }
.ba-head button:hover { background: #083b68; }
.ba-head :focus-visible { outline-color: #fff; }
.ba-confirm { padding: .6rem .75rem; background: #fff4e5; border-bottom: 1px solid #b35c00; }
.ba-confirm p { margin: 0 0 .5rem; }
.ba-status { margin: 0; padding: .4rem .75rem; background: #fff4e5; color: #5c2e00; font-size: .9rem; }
.ba-status:empty { display: none; }
.ba-log { list-style: none; margin: 0; padding: .75rem; flex: 1 1 auto; overflow-y: auto; display: flex;
      flex-direction: column; gap: .5rem; }
.ba-msg { max-width: 88%; padding: .5rem .75rem; border-radius: .6rem; white-space: pre-wrap;
      overflow-wrap: anywhere; }
.ba-msg.bot { align-self: flex-start; background: #eef1f4; }
.ba-msg.user { align-self: flex-end; background: #0b4f8a; color: #fff; }
.ba-msg.info { align-self: stretch; max-width: none; background: #fff; border: 1px dashed #6b7580; }
.ba-msg.error { align-self: stretch; max-width: none; background: #fdecea; color: #7a1712; }
.ba-msg a { color: #0b4f8a; }
.ba-options { display: flex; flex-wrap: wrap; gap: .4rem; margin-top: .5rem; white-space: normal; }
.ba-option { display: inline-block; padding: .4rem .8rem; border: 2px solid #0b4f8a; border-radius: 1.2rem;
      background: #fff; color: #0b4f8a; cursor: pointer; text-decoration: none; font-weight: 600; }
.ba-option:hover:not([disabled]) { background: #dce8f5; }
.ba-option[disabled] { cursor: default; border-color: #8a96a3; color: #4a525a; }
.ba-option.ba-primary { background: #0b4f8a; color: #fff; }
.ba-option.ba-primary:hover:not([disabled]) { background: #083b68; }
.ba-option.ba-primary[disabled] { background: #fff; }
.ba-msg.ba-summary-msg { max-width: 100%; white-space: normal; }
.ba-summary-title { margin: 0 0 .4rem; font-weight: 600; }
.ba-summary { border-collapse: collapse; width: 100%; background: #fff; font-size: .95rem; }
.ba-summary th, .ba-summary td { text-align: left; vertical-align: top; padding: .3rem .5rem;
      border-bottom: 1px solid #c8ced4; overflow-wrap: anywhere; }
.ba-summary th { font-weight: 600; width: 45%; overflow-wrap: normal; hyphens: auto; }
.ba-case { display: flex; flex-wrap: wrap; align-items: center; gap: .4rem; margin-top: .5rem;
      padding: .5rem .6rem; background: #fff; border: 2px solid #0b4f8a; border-radius: .4rem; white-space: normal; }
.ba-case-number { font-size: 1.15rem; letter-spacing: .04em; font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
.ba-copy { padding: .25rem .6rem; border: 2px solid #0b4f8a; border-radius: .4rem; background: #fff;
      color: #0b4f8a; font-weight: 600; cursor: pointer; }
.ba-copy:hover { background: #dce8f5; }
.ba-typing { margin: 0 .75rem .4rem; font-size: .9rem; color: #4a525a; }
.ba-form { display: flex; gap: .4rem; padding: .6rem .75rem; border-top: 1px solid #c8ced4; align-items: flex-end; }
.ba-form textarea { flex: 1; min-width: 0; resize: none; padding: .5rem; border: 1px solid #6b7580;
      border-radius: .4rem; max-height: 8rem; }
.ba-form button { padding: .5rem .8rem; border-radius: .4rem; border: 2px solid #0b4f8a; cursor: pointer; }
.ba-send { background: #0b4f8a; color: #fff; font-weight: 600; }
.ba-attach { background: #fff; color: #0b4f8a; }
.ba-note { margin: 0; padding: 0 .75rem .5rem; font-size: .8rem; color: #4a525a; }
@media (prefers-reduced-motion: no-preference) { .ba-dialog { animation: ba-in .15s ease-out; } }
@keyframes ba-in { from { opacity: 0; transform: translateY(.5rem); } to { opacity: 1; transform: none; } }
`;
